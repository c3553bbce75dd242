"""The automation pages: staff read rules, admins edit them with row forms and clear errors;
webhooks are admins' only; customers and anonymous users get nothing."""

from __future__ import annotations

import pytest
from django.urls import reverse

from kefu.automation.actions import save_time_rule, save_trigger, save_webhook, send_test_delivery
from kefu.automation.models import TimeRule, Trigger, Webhook

PAGES = [
    "automation:triggers",
    "automation:time_rules",
    "automation:macros",
    "automation:canned",
    "automation:webhooks",
    "automation:trigger_new",
]


@pytest.mark.parametrize("name", PAGES)
def test_customers_and_anonymous_users_cannot_open_automation_pages(client, cast, name):
    assert client.get(reverse(name)).status_code == 302
    client.force_login(cast.alice)
    assert client.get(reverse(name)).status_code == 404


def test_agents_read_triggers_but_cannot_change_them_or_see_webhooks(client, cast):
    trigger = save_trigger(
        cast.admin,
        name="Urgent",
        events=["created"],
        conditions=[{"field": "priority", "operator": "is", "value": "urgent"}],
        actions=[{"type": "add_note", "body": "hurry"}],
    )
    client.force_login(cast.quality_agent)
    page = client.get(reverse("automation:triggers")).content.decode()
    assert "Urgent" in page and "Priority is Urgent" in page
    assert client.get(reverse("automation:trigger_new")).status_code == 403
    response = client.post(reverse("automation:trigger_toggle", args=[trigger.pk]))
    assert response.status_code == 403
    assert Trigger.objects.get(pk=trigger.pk).is_active
    assert client.get(reverse("automation:webhooks")).status_code == 403


def row_data(prefix: str, rows: list[dict]) -> dict:
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(rows):
        data.update({f"{prefix}-{index}-{key}": value for key, value in row.items()})
    return data


def test_an_admin_writes_a_trigger_with_rows(client, cast):
    client.force_login(cast.admin)
    data = {
        "name": "黑屏 → 售后",
        "events": ["created", "updated"],
        "match": "all",
        "position": "1",
        "is_active": "on",
        **row_data(
            "conditions",
            [
                {"field": "subject", "operator": "contains", "value": "黑屏"},
                {"field": "", "operator": "", "value": ""},
            ],
        ),
        **row_data(
            "actions",
            [
                {"type": "set_group", "value": "售后服务部 After-sales Service"},
                {
                    "type": "notify",
                    "value": "group",
                    "subject": "New #{{ ticket.number }}",
                    "body": "See {{ ticket.url }}",
                },
            ],
        ),
    }
    response = client.post(reverse("automation:trigger_new"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    trigger = Trigger.objects.get(name="黑屏 → 售后")
    assert trigger.conditions == [{"field": "subject", "operator": "contains", "value": "黑屏"}]
    assert trigger.actions[0] == {
        "type": "set_group",
        "value": str(cast.aftersales.pk),
        "subject": "",
        "body": "",
    }
    # The edit page shows the group by name, not by id.
    page = client.get(reverse("automation:trigger", args=[trigger.pk])).content.decode()
    assert 'value="售后服务部 After-sales Service"' in page


def test_row_errors_are_shown_next_to_the_row(client, cast):
    client.force_login(cast.admin)
    data = {
        "name": "bad",
        "events": ["created"],
        "match": "all",
        "position": "0",
        **row_data("conditions", [{"field": "group", "operator": "is", "value": "Sales"}]),
        **row_data("actions", [{"type": "add_note", "body": "Hi {{ customer.nam }}"}]),
    }
    response = client.post(reverse("automation:trigger_new"), data)
    assert response.status_code == 400
    page = response.content.decode()
    assert "No group named Sales." in page
    assert "Unknown placeholder {{ customer.nam }}" in page
    assert not Trigger.objects.exists()


def test_an_admin_writes_and_deactivates_a_time_rule(client, cast):
    client.force_login(cast.admin)
    data = {
        "name": "Close resolved",
        "state": "resolved",
        "delay": "5",
        "unit": "days",
        "position": "0",
        "is_active": "on",
        **row_data("conditions", []),
        **row_data("actions", [{"type": "set_state", "value": "closed"}]),
    }
    assert client.post(reverse("automation:time_rule_new"), data).status_code == 302
    rule = TimeRule.objects.get(name="Close resolved")
    assert rule.delay_hours == 120
    client.post(reverse("automation:time_rule_toggle", args=[rule.pk]))
    assert not TimeRule.objects.get(pk=rule.pk).is_active
    assert "Close resolved" in client.get(reverse("automation:time_rules")).content.decode()


def test_a_supervisor_cannot_write_time_rules(client, cast):
    rule = save_time_rule(
        cast.admin,
        name="r",
        state="resolved",
        delay=1,
        unit="days",
        actions=[{"type": "set_state", "value": "closed"}],
    )
    client.force_login(cast.supervisor)
    assert client.get(reverse("automation:time_rule", args=[rule.pk])).status_code == 200
    response = client.post(reverse("automation:time_rule", args=[rule.pk]), {"name": "x"})
    assert response.status_code == 403


def test_an_agent_writes_a_personal_macro_and_canned_response(client, cast):
    client.force_login(cast.agent)
    data = {
        "name": "Need logs",
        "reply_body": "请发送日志。",
        "visibility": "personal",
        "is_active": "on",
        **row_data("actions", [{"type": "set_state", "value": "pending_customer"}]),
    }
    assert client.post(reverse("automation:macro_new"), data).status_code == 302
    data = {"title": "日志", "body": "请发送日志", "visibility": "personal", "is_active": "on"}
    assert client.post(reverse("automation:canned_new"), data).status_code == 302
    assert "Need logs" in client.get(reverse("automation:macros")).content.decode()
    assert "日志" in client.get(reverse("automation:canned")).content.decode()
    # Sharing with everyone is refused with a message, not a crash.
    data["visibility"] = "everyone"
    response = client.post(reverse("automation:canned_new"), data)
    assert response.status_code == 400
    assert "Only administrators share with everyone" in response.content.decode()
    # The outsider neither sees nor edits them.
    client.force_login(cast.quality_agent)
    assert "Need logs" not in client.get(reverse("automation:macros")).content.decode()


def test_the_webhook_page_shows_the_delivery_log(client, cast, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    client.force_login(cast.admin)
    data = {
        "name": "ERP",
        "url": "http://127.0.0.1:9/hook",
        "events": ["ticket.created"],
        "is_active": "on",
    }
    assert client.post(reverse("automation:webhook_new"), data).status_code == 302
    hook = Webhook.objects.get(name="ERP")
    assert len(hook.secret) > 20
    delivery = send_test_delivery(cast.admin, hook)
    page = client.get(reverse("automation:webhook", args=[hook.pk])).content.decode()
    assert "ping" in page and hook.secret not in page
    page = client.get(reverse("automation:delivery", args=[hook.pk, delivery.pk])).content.decode()
    assert str(delivery.uuid) in page
    client.force_login(cast.supervisor)
    assert client.get(reverse("automation:webhook", args=[hook.pk])).status_code == 403
    assert (
        client.get(reverse("automation:delivery", args=[hook.pk, delivery.pk])).status_code == 403
    )


def test_a_private_webhook_url_is_refused_with_a_clear_error(client, cast):
    client.force_login(cast.admin)
    data = {"name": "Local", "url": "http://192.168.1.10/hook", "is_active": "on"}
    response = client.post(reverse("automation:webhook_new"), data)
    assert response.status_code == 400
    assert "KEFU_WEBHOOK_ALLOWED_HOSTS" in response.content.decode()
    assert not Webhook.objects.exists()
    save_webhook  # noqa: B018 - imported for the API tests' symmetry
