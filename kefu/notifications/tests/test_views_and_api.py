"""The notifications page, bell, preferences and group pages, and ``/api/v1/notifications`` —
each with the outsider who must not reach someone else's notifications."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from kefu.notifications.actions import preferences_for
from kefu.notifications.models import GroupWaitingSetting, Kind, Notification
from kefu.tickets.actions import add_message, update_ticket


@pytest.fixture
def mention(cast, make_ticket):
    """The supervisor mentions the agent on a 客服部 ticket: one unread notification."""
    ticket = make_ticket(cast.alice, subject="Display flickers 屏幕闪烁")
    add_message(cast.supervisor, ticket, body="@agent please call", internal=True)
    return Notification.objects.get(recipient=cast.agent)


# --- pages ----------------------------------------------------------------------------------


def test_it_lists_ones_own_notifications(client, cast, mention):
    client.force_login(cast.agent)
    response = client.get(reverse("notifications:list"))
    assert response.status_code == 200
    assert list(response.context["notifications"]) == [mention]
    content = response.content.decode()
    assert f"mentioned you on ticket #{mention.ticket.number}" in content
    assert "Display flickers" in content


def test_an_outsider_sees_none_of_someone_elses_notifications(client, cast, mention):
    client.force_login(cast.quality_agent)
    assert list(client.get(reverse("notifications:list")).context["notifications"]) == []
    assert client.post(reverse("notifications:read", args=[mention.pk])).status_code == 404
    assert client.post(reverse("notifications:open", args=[mention.pk])).status_code == 404
    mention.refresh_from_db()
    assert mention.read_at is None


def test_customers_and_visitors_cannot_open_notification_pages(client, cast, mention):
    assert client.get(reverse("notifications:list")).status_code == 302
    client.force_login(cast.alice)
    for name in ("notifications:list", "notifications:preferences", "notifications:menu"):
        assert client.get(reverse(name)).status_code == 404


def test_the_console_navigation_loads_the_unread_count(client, cast, mention):
    client.force_login(cast.agent)
    content = client.get(reverse("tickets:list")).content.decode()
    assert 'id="notif-badge"' in content
    assert 'hx-trigger="load, kefu-live' in content
    badge = client.get(reverse("notifications:badge")).content.decode()
    assert ">1</span>" in badge and "hidden" not in badge
    assert "load," not in badge  # the refreshed badge waits for live events, it does not loop


def test_the_badge_is_hidden_without_unread_notifications(client, cast):
    client.force_login(cast.agent)
    assert " hidden" in client.get(reverse("notifications:badge")).content.decode()


def test_opening_a_notification_reads_it_and_shows_the_ticket(client, cast, mention):
    client.force_login(cast.agent)
    response = client.post(reverse("notifications:open", args=[mention.pk]))
    assert response.url == reverse("tickets:detail", args=[mention.ticket_id])
    mention.refresh_from_db()
    assert mention.read_at is not None


def test_it_marks_one_and_all_as_read(client, cast, mention, make_ticket):
    update_ticket(cast.supervisor, make_ticket(), assignee=cast.agent)
    client.force_login(cast.agent)
    client.post(reverse("notifications:read", args=[mention.pk]))
    assert Notification.objects.inbox(cast.agent).unread().count() == 1
    client.post(reverse("notifications:read_all"))
    assert Notification.objects.inbox(cast.agent).unread().count() == 0


def test_the_dropdown_lists_the_newest(client, cast, mention):
    client.force_login(cast.agent)
    response = client.get(reverse("notifications:menu"), headers={"HX-Request": "true"})
    assert list(response.context["notifications"]) == [mention]


def test_it_saves_notification_preferences(client, cast):
    client.force_login(cast.agent)
    assert client.get(reverse("notifications:preferences")).status_code == 200
    data = {f"{kind}__in_app": "on" for kind in Kind.values}
    data[f"{Kind.MENTIONED}__email"] = "on"
    client.post(reverse("notifications:preferences"), data)
    chosen = preferences_for(cast.agent)
    assert chosen[Kind.MENTIONED] == (True, True)
    assert chosen[Kind.ASSIGNED] == (True, False)


def test_an_admin_sets_a_groups_waiting_threshold(client, cast):
    client.force_login(cast.admin)
    assert client.get(reverse("notifications:groups")).status_code == 200
    client.post(reverse("notifications:group", args=[cast.cs.pk]), {"waiting_after_minutes": "5"})
    assert GroupWaitingSetting.objects.get(group=cast.cs).waiting_after_minutes == 5


def test_an_agent_cannot_change_group_thresholds(client, cast):
    client.force_login(cast.supervisor)  # staff without the role: 403 (docs/architecture.md)
    assert client.get(reverse("notifications:groups")).status_code == 403
    response = client.post(
        reverse("notifications:group", args=[cast.cs.pk]), {"waiting_after_minutes": "5"}
    )
    assert response.status_code == 403
    client.force_login(cast.alice)  # customers: the page does not exist for them
    assert client.get(reverse("notifications:groups")).status_code == 404
    assert not GroupWaitingSetting.objects.exists()


def test_mention_autocomplete_offers_only_staff_who_see_the_ticket(client, cast, make_ticket):
    ticket = make_ticket()
    client.force_login(cast.supervisor)
    handles = {
        item["handle"]
        for item in client.get(reverse("notifications:mentions", args=[ticket.pk])).json()["items"]
    }
    assert {"agent", "tech", "admin"} <= handles
    assert "quality" not in handles and "alice" not in handles
    filtered = client.get(reverse("notifications:mentions", args=[ticket.pk]), {"q": "王"})
    assert [item["handle"] for item in filtered.json()["items"]] == ["agent"]


def test_an_outsider_gets_no_mention_candidates(client, cast, make_ticket):
    ticket = make_ticket()
    client.force_login(cast.quality_agent)
    assert client.get(reverse("notifications:mentions", args=[ticket.pk])).status_code == 404


# --- API ------------------------------------------------------------------------------------


def api(cast, user, method: str, path: str, data=None):
    client = Client()
    headers = {"Authorization": f"Bearer {cast.token(user)}"}
    if method == "get":
        return client.get("/api/v1" + path, data or {}, headers=headers)
    return getattr(client, method)(
        "/api/v1" + path,
        json.dumps(data or {}),
        content_type="application/json",
        headers=headers,
    )


def test_the_api_lists_and_reads_notifications(cast, mention):
    listed = api(cast, cast.agent, "get", "/notifications").json()
    assert listed["unread_count"] == 1
    [item] = listed["items"]
    assert item["kind"] == "mentioned"
    assert item["ticket"]["number"] == mention.ticket.number
    assert item["actor"]["id"] == cast.supervisor.pk
    assert "mentioned you" in item["text"]

    read = api(cast, cast.agent, "post", f"/notifications/{mention.pk}/read")
    assert read.status_code == 200 and read.json()["read_at"]
    assert api(cast, cast.agent, "get", "/notifications", {"unread": "true"}).json()["items"] == []


def test_the_api_marks_all_read(cast, mention):
    response = api(cast, cast.agent, "post", "/notifications/read-all")
    assert response.json() == {"marked": 1, "unread_count": 0}


def test_the_api_hides_someone_elses_notification(cast, mention):
    response = api(cast, cast.quality_agent, "post", f"/notifications/{mention.pk}/read")
    assert response.status_code == 404
    assert response.json()["detail"]
    assert api(cast, cast.quality_agent, "get", "/notifications").json()["items"] == []


def test_the_api_reads_and_changes_preferences(cast):
    items = api(cast, cast.agent, "get", "/notifications/preferences").json()["items"]
    assert {item["kind"]: item["email"] for item in items}[Kind.GROUP_WAITING] is False

    response = api(
        cast, cast.agent, "patch", "/notifications/preferences", {"group_waiting": {"email": True}}
    )
    changed = {item["kind"]: (item["in_app"], item["email"]) for item in response.json()["items"]}
    assert changed[Kind.GROUP_WAITING] == (True, True)
    assert preferences_for(cast.agent)[Kind.GROUP_WAITING] == (True, True)


def test_the_api_rejects_an_unknown_kind(cast):
    response = api(cast, cast.agent, "patch", "/notifications/preferences", {"nonsense": {}})
    assert response.status_code == 422


def test_customers_have_no_notifications_in_the_api(cast):
    assert api(cast, cast.alice, "get", "/notifications").status_code == 403
    assert api(cast, cast.alice, "get", "/notifications/preferences").status_code == 403


def test_the_notification_list_pages_with_signed_cursors(client, cast, make_ticket, monkeypatch):

    monkeypatch.setattr("kefu.notifications.views.PAGE_SIZE", 2)
    ticket = make_ticket()
    for _n in range(5):
        Notification.objects.create(recipient=cast.agent, kind=Kind.ASSIGNED, ticket=ticket)
    client.force_login(cast.agent)
    seen, after = [], None
    while True:
        response = client.get(reverse("notifications:list"), {"after": after} if after else {})
        seen += [n.pk for n in response.context["notifications"]]
        after = response.context["next_cursor"]
        if after is None:
            break
    mine = Notification.objects.filter(recipient=cast.agent).order_by("-created_at", "-id")
    assert seen == list(mine.values_list("pk", flat=True))
    # A hand-made cursor (the old "time~id" form) is not obeyed: the first page again.
    last = mine.last()
    forged = {"after": f"{last.created_at.isoformat()}~{last.pk}"}
    assert response.status_code == 200
    response = client.get(reverse("notifications:list"), forged)
    assert [n.pk for n in response.context["notifications"]] == seen[:2]
