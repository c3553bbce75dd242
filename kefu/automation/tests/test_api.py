"""Automation in API v1: CRUD of triggers, time rules, macros, canned responses and webhooks,
applying a macro — with the outsider cases."""

from __future__ import annotations

from kefu.automation.models import Macro, TimeRule, Trigger, Webhook
from kefu.tickets.models import Ticket

TRIGGER = {
    "name": "Urgent note",
    "events": ["created"],
    "conditions": [{"field": "priority", "operator": "is", "value": "urgent"}],
    "actions": [{"type": "add_note", "body": "Urgent #{{ ticket.number }}"}],
}


def test_an_admin_creates_reads_changes_and_deactivates_a_trigger(cast, api_as):
    client = api_as(cast.admin)
    response = client.post("/automation/triggers", TRIGGER)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["conditions"] == [{"field": "priority", "operator": "is", "value": "urgent"}]
    assert body["actions"][0]["type"] == "add_note"
    trigger_id = body["id"]
    response = client.patch(
        f"/automation/triggers/{trigger_id}",
        {"actions": [{"type": "set_group", "value": cast.tech.name}]},
    )
    assert response.status_code == 200
    assert response.json()["actions"][0]["value"] == str(cast.tech.pk)
    assert client.get(f"/automation/triggers/{trigger_id}").json()["name"] == "Urgent note"
    assert client.get("/automation/triggers").json()["items"][0]["id"] == trigger_id
    assert (
        client.client.delete(
            f"/api/v1/automation/triggers/{trigger_id}",
            headers={"Authorization": f"Bearer {cast.token(cast.admin)}"},
        ).status_code
        == 204
    )
    assert not Trigger.objects.get(pk=trigger_id).is_active


def test_invalid_rules_get_field_errors(cast, api_as):
    client = api_as(cast.admin)
    response = client.post(
        "/automation/triggers",
        {**TRIGGER, "conditions": [{"field": "group", "operator": "is", "value": "Nope"}]},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "conditions"
    assert "No group named Nope" in response.json()["errors"][0]["message"]
    response = client.post(
        "/automation/triggers",
        {**TRIGGER, "actions": [{"type": "add_note", "body": "{{ customer.secret }}"}]},
    )
    assert response.status_code == 422
    assert "Unknown placeholder" in response.json()["detail"]


def test_staff_read_rules_but_only_admins_write_and_customers_see_nothing(cast, api_as):
    api_as(cast.admin).post("/automation/triggers", TRIGGER)
    agent = api_as(cast.quality_agent)
    assert len(agent.get("/automation/triggers").json()["items"]) == 1
    assert agent.post("/automation/triggers", {**TRIGGER, "name": "x"}).status_code == 403
    assert agent.get("/automation/webhooks").status_code == 403
    customer = api_as(cast.alice)
    for path in ("/automation/triggers", "/automation/time-rules", "/automation/macros"):
        assert customer.get(path).status_code == 403  # with the reason (docs/architecture.md)
    assert api_as().get("/automation/triggers").status_code == 401
    assert Trigger.objects.count() == 1


def test_time_rules_over_the_api(cast, api_as):
    client = api_as(cast.admin)
    response = client.post(
        "/automation/time-rules",
        {
            "name": "Close",
            "state": "resolved",
            "delay": 5,
            "unit": "days",
            "actions": [{"type": "set_state", "value": "closed"}],
        },
    )
    assert response.status_code == 201, response.json()
    rule_id = response.json()["id"]
    response = client.patch(f"/automation/time-rules/{rule_id}", {"delay": 2})
    assert response.json()["delay"] == 2
    bad = client.post(
        "/automation/time-rules",
        {
            "name": "Bad",
            "state": "resolved",
            "delay": 1,
            "unit": "days",
            "conditions": [{"field": "state", "operator": "changed"}],
            "actions": [{"type": "set_state", "value": "closed"}],
        },
    )
    assert bad.status_code == 422
    assert (
        api_as(cast.supervisor).patch(f"/automation/time-rules/{rule_id}", {"delay": 9}).status_code
        == 403
    )
    assert TimeRule.objects.get(pk=rule_id).delay == 2


def test_macros_follow_their_sharing_and_apply_to_a_ticket(cast, api_as, make_ticket):
    response = api_as(cast.supervisor).post(
        "/automation/macros",
        {
            "name": "Escalate",
            "visibility": "group",
            "group": cast.cs.pk,
            "actions": [{"type": "set_priority", "value": "urgent"}],
            "reply_body": "Looked at by {{ agent.name }}",
            "reply_internal": True,
        },
    )
    assert response.status_code == 201, response.json()
    macro_id = response.json()["id"]
    assert response.json()["group"]["id"] == cast.cs.pk
    ticket = make_ticket()
    response = api_as(cast.agent).post(f"/tickets/{ticket.pk}/macros/{macro_id}/apply")
    assert response.status_code == 200, response.json()
    assert response.json()["priority"] == "urgent"
    # The outsider neither lists nor applies it, and cannot change it.
    outsider = api_as(cast.quality_agent)
    assert outsider.get("/automation/macros").json()["items"] == []
    assert outsider.get(f"/automation/macros/{macro_id}").status_code == 404
    assert outsider.patch(f"/automation/macros/{macro_id}", {"name": "x"}).status_code == 404
    assert outsider.post(f"/tickets/{ticket.pk}/macros/{macro_id}/apply").status_code == 404
    # An agent of the group uses it but cannot change it.
    assert (
        api_as(cast.agent).patch(f"/automation/macros/{macro_id}", {"name": "x"}).status_code == 403
    )
    assert Macro.objects.get(pk=macro_id).name == "Escalate"
    assert (
        api_as(cast.alice).post(f"/tickets/{ticket.pk}/macros/{macro_id}/apply").status_code == 404
    )


def test_a_personal_macro_cannot_be_applied_by_someone_else(cast, api_as, make_ticket):
    response = api_as(cast.agent).post(
        "/automation/macros",
        {"name": "Mine", "actions": [{"type": "set_priority", "value": "low"}]},
    )
    macro_id = response.json()["id"]
    assert response.json()["visibility"] == "personal"
    ticket = make_ticket()
    assert (
        api_as(cast.supervisor).post(f"/tickets/{ticket.pk}/macros/{macro_id}/apply").status_code
        == 404
    )
    assert Ticket.objects.get(pk=ticket.pk).priority == "medium"


def test_canned_responses_are_searched_over_the_api(cast, api_as):
    client = api_as(cast.agent)
    response = client.post(
        "/automation/canned-responses", {"title": "重启", "body": "请重启设备 Please restart"}
    )
    assert response.status_code == 201, response.json()
    assert [
        i["title"]
        for i in client.get("/automation/canned-responses", {"q": "restart"}).json()["items"]
    ] == ["重启"]
    assert client.get("/automation/canned-responses", {"q": "发票"}).json()["items"] == []
    assert api_as(cast.quality_agent).get("/automation/canned-responses").json()["items"] == []
    response = client.post(
        "/automation/canned-responses", {"title": "x", "body": "x", "visibility": "everyone"}
    )
    assert response.status_code == 403


def test_webhooks_are_for_admins_and_show_their_secret_once(cast, api_as, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    client = api_as(cast.admin)
    response = client.post(
        "/automation/webhooks",
        {"name": "ERP", "url": "http://127.0.0.1:9/hook", "events": ["ticket.created"]},
    )
    assert response.status_code == 201, response.json()
    hook_id = response.json()["id"]
    assert len(response.json()["secret"]) > 20
    assert client.get(f"/automation/webhooks/{hook_id}").json()["secret"] is None
    assert client.post(f"/automation/webhooks/{hook_id}/test").status_code == 202
    deliveries = client.get(f"/automation/webhooks/{hook_id}/deliveries").json()["items"]
    assert deliveries[0]["event"] == "ping" and deliveries[0]["status"] == "pending"
    refused = client.post(
        "/automation/webhooks", {"name": "Meta", "url": "http://169.254.169.254/"}
    )
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "url"
    assert (
        api_as(cast.supervisor).get(f"/automation/webhooks/{hook_id}/deliveries").status_code == 403
    )
    assert api_as(cast.alice).get(f"/automation/webhooks/{hook_id}").status_code == 404
    assert Webhook.objects.count() == 1
