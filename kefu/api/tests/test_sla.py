"""The SLA in API v1: ticket ``sla`` objects, escalate, acknowledge, calendars and policies."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kefu.api.tests.conftest import error_fields
from kefu.sla.models import BusinessCalendar, SLAPolicy, TicketSLA
from kefu.tickets.models import EventType

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_staff_see_the_sla_state_of_a_ticket(cast, api_as, make_ticket):
    with time_machine.travel(datetime(2026, 9, 30, 17, 30, tzinfo=SHANGHAI), tick=False):
        ticket = make_ticket(priority="medium")
    sla = api_as(cast.agent).get(f"/tickets/{ticket.pk}").json()["sla"]
    assert sla["policy"]["name"] == "Standard"
    assert sla["calendar"]["name"] == "China working hours"
    due = datetime.fromisoformat(sla["first_response_due_at"])
    assert due == datetime(2026, 10, 8, 16, 0, tzinfo=SHANGHAI)
    assert sla["first_response_at"] is None
    assert sla["next_response_due_at"] is None
    assert sla["breached"] == []
    assert (sla["paused_minutes"], sla["escalation_level"]) == (0, 0)


def test_customers_get_no_sla_object(cast, api_as, make_ticket):
    ticket = make_ticket()
    assert api_as(cast.alice).get(f"/tickets/{ticket.pk}").json()["sla"] is None


def test_the_ticket_list_carries_sla_in_a_fixed_number_of_queries(cast, api_as, make_ticket):
    client = api_as(cast.agent)
    make_ticket()
    client.get("/tickets")  # the token's first use is recorded once
    with CaptureQueriesContext(connection) as few:
        assert client.get("/tickets").status_code == 200
    for _ in range(5):
        make_ticket()
    with CaptureQueriesContext(connection) as many:
        items = client.get("/tickets").json()["items"]
    assert len(items) == 6
    assert all(item["sla"]["policy"]["name"] == "Standard" for item in items)
    assert len(many.captured_queries) == len(few.captured_queries)


def test_an_agent_escalates_a_ticket_through_the_api(cast, api_as, make_ticket):
    ticket = make_ticket()
    response = api_as(cast.agent).post(
        f"/tickets/{ticket.pk}/escalate", {"group": cast.tech.pk, "reason": "firmware bug"}
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["group"]["id"] == cast.tech.pk
    assert body["sla"]["escalation_level"] == 1
    assert ticket.events.filter(type=EventType.ESCALATED, reason="firmware bug").exists()


def test_escalation_errors_name_the_field(cast, api_as, make_ticket):
    ticket = make_ticket()
    client = api_as(cast.agent)
    response = client.post(f"/tickets/{ticket.pk}/escalate", {"reason": "help"})
    assert response.status_code == 422
    assert error_fields(response) == ["group"]
    response = client.post(f"/tickets/{ticket.pk}/escalate", {"group": 999999, "reason": "x"})
    assert (response.status_code, error_fields(response)) == (422, ["group"])


def test_outsiders_cannot_escalate_or_acknowledge(cast, api_as, make_ticket):
    ticket = make_ticket(assignee=cast.agent)
    body = {"group": cast.quality.pk, "reason": "mine now"}
    assert (
        api_as(cast.quality_agent).post(f"/tickets/{ticket.pk}/escalate", body).status_code == 404
    )
    assert api_as(cast.bob).post(f"/tickets/{ticket.pk}/acknowledge").status_code == 404
    assert api_as(cast.tech_agent).post(f"/tickets/{ticket.pk}/escalate", body).status_code == 403
    assert api_as(cast.alice).post(f"/tickets/{ticket.pk}/escalate", body).status_code == 403
    assert api_as().post(f"/tickets/{ticket.pk}/acknowledge").status_code == 401


def test_the_assignee_acknowledges_through_the_api(cast, api_as, make_ticket):
    ticket = make_ticket(assignee=cast.agent)
    assert api_as(cast.supervisor).post(f"/tickets/{ticket.pk}/acknowledge").status_code == 403
    response = api_as(cast.agent).post(f"/tickets/{ticket.pk}/acknowledge")
    assert response.status_code == 200
    assert response.json()["sla"]["acknowledgement_at"] is not None
    again = api_as(cast.agent).post(f"/tickets/{ticket.pk}/acknowledge")
    assert again.status_code == 400


def test_staff_read_and_admins_write_calendars(cast, api_as):
    calendars = api_as(cast.agent).get("/sla/calendars").json()["items"]
    china = next(c for c in calendars if c["kind"] == "china")
    assert china["working_hours"]["mon"] == [["09:00", "12:00"], ["13:30", "18:00"]]
    new = {
        "name": "Shenzhen plant",
        "kind": "custom",
        "working_hours": {"sat": [["09:00", "12:00"]]},
    }
    assert api_as(cast.agent).post("/sla/calendars", new).status_code == 403
    assert api_as(cast.alice).get("/sla/calendars").status_code == 403  # the API says why
    response = api_as(cast.admin).post("/sla/calendars", new)
    assert response.status_code == 201, response.json()
    calendar_id = response.json()["id"]
    bad = api_as(cast.admin).patch(
        f"/sla/calendars/{calendar_id}", {"working_hours": {"mon": [["12:00", "09:00"]]}}
    )
    assert (bad.status_code, error_fields(bad)) == (422, ["working_hours"])
    added = api_as(cast.admin).post(
        f"/sla/calendars/{calendar_id}/dates", {"date": "2027-01-01", "kind": "holiday"}
    )
    assert added.status_code == 201
    imported = api_as(cast.admin).post(
        f"/sla/calendars/{calendar_id}/import",
        {"content": "date,kind,name\n2027-02-06,holiday,春节\n2027-02-14,working_day,调休\n"},
    )
    assert imported.json() == {"imported": 2}
    dates = api_as(cast.agent).get(f"/sla/calendars/{calendar_id}").json()["dates"]
    assert [d["date"] for d in dates] == ["2027-01-01", "2027-02-06", "2027-02-14"]
    broken = api_as(cast.admin).post(
        f"/sla/calendars/{calendar_id}/import", {"content": "2027-13-01,holiday"}
    )
    assert (broken.status_code, error_fields(broken)) == (422, ["file"])


def test_the_china_calendar_reports_2027_as_missing_until_dates_are_imported(cast, api_as):
    china = BusinessCalendar.objects.get(kind="china")
    with time_machine.travel(datetime(2026, 11, 23, 12, 0, tzinfo=SHANGHAI), tick=False):
        assert api_as(cast.agent).get(f"/sla/calendars/{china.pk}").json()["missing_years"] == [
            2027
        ]
        api_as(cast.admin).post(
            f"/sla/calendars/{china.pk}/dates",
            {"date": "2027-01-01", "kind": "holiday", "name": "元旦"},
        )
        assert api_as(cast.agent).get(f"/sla/calendars/{china.pk}").json()["missing_years"] == []


def test_admins_create_policies_with_targets_and_levels(cast, api_as, make_ticket):
    china = BusinessCalendar.objects.get(kind="china")
    payload = {
        "name": "Acme VIP",
        "position": 1,
        "calendar": china.pk,
        "organizations": [cast.acme.pk],
        "targets": {"medium": {"first_response": 30, "resolution": 600}},
    }
    assert api_as(cast.supervisor).post("/sla/policies", payload).status_code == 403
    response = api_as(cast.admin).post("/sla/policies", payload)
    assert response.status_code == 201, response.json()
    policy = response.json()
    assert policy["targets"]["medium"]["first_response"] == 30
    level = api_as(cast.admin).post(
        f"/sla/policies/{policy['id']}/levels",
        {"level": 1, "minutes": -10, "notify_users": [cast.supervisor.pk]},
    )
    assert level.status_code == 201, level.json()
    assert level.json()["notify_users"][0]["id"] == cast.supervisor.pk
    duplicate = api_as(cast.admin).post(
        f"/sla/policies/{policy['id']}/levels", {"level": 1, "minutes": 0}
    )
    assert (duplicate.status_code, error_fields(duplicate)) == (422, ["level"])
    ticket = make_ticket(cast.alice, priority="medium")
    assert TicketSLA.objects.get(ticket=ticket).policy.name == "Acme VIP"
    other = make_ticket(cast.bob, priority="medium")
    assert TicketSLA.objects.get(ticket=other).policy.name == "Standard"
    listed = api_as(cast.agent).get("/sla/policies").json()["items"]
    assert [p["name"] for p in listed] == ["Acme VIP", "Standard"]
    assert SLAPolicy.objects.count() == 2


def test_policy_input_is_validated(cast, api_as):
    china = BusinessCalendar.objects.get(kind="china")
    response = api_as(cast.admin).post(
        "/sla/policies", {"name": "x", "calendar": china.pk, "warning_percent": 150}
    )
    assert (response.status_code, error_fields(response)) == (422, ["warning_percent"])
    response = api_as(cast.admin).post("/sla/policies", {"name": "x"})
    assert (response.status_code, error_fields(response)) == (422, ["calendar"])
