"""SLA pages, the ticket list's due column, the ticket page's SLA box, the portal's promise and
``/readyz`` warnings — with the outsider cases."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kefu.sla.actions import process_due_slas
from kefu.sla.models import BusinessCalendar, CalendarDate, EscalationLevel, SLAPolicy, TicketSLA
from kefu.tickets.actions import add_message, update_ticket
from kefu.tickets.models import EventType

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)


@pytest.fixture
def china():
    return BusinessCalendar.objects.get(kind="china")


@pytest.fixture
def standard():
    return SLAPolicy.objects.get(name="Standard")


@pytest.mark.parametrize(
    "name", ["sla:overview", "sla:compliance", "sla:calendar_new", "sla:policy_new"]
)
def test_customers_and_anonymous_users_cannot_open_sla_pages(client, cast, name):
    assert client.get(reverse(name)).status_code == 302
    client.force_login(cast.alice)
    assert client.get(reverse(name)).status_code == 404


def test_staff_read_calendars_and_policies_but_only_admins_edit(client, cast, china, standard):
    client.force_login(cast.agent)
    overview = client.get(reverse("sla:overview")).content.decode()
    assert "China working hours" in overview and "Standard" in overview
    assert client.get(reverse("sla:calendar", args=[china.pk])).status_code == 200
    assert client.get(reverse("sla:policy", args=[standard.pk])).status_code == 200
    assert client.get(reverse("sla:calendar_new")).status_code == 403
    response = client.post(reverse("sla:calendar", args=[china.pk]), {"name": "mine"})
    assert response.status_code == 403
    response = client.post(
        reverse("sla:calendar_date_add", args=[china.pk]), {"date": "2027-01-01", "kind": "holiday"}
    )
    assert response.status_code == 403
    assert not CalendarDate.objects.exists()


def test_the_calendar_page_warns_about_a_year_without_official_data(client, cast, china):
    client.force_login(cast.admin)
    with time_machine.travel(NOW, tick=False):
        page = client.get(reverse("sla:calendar", args=[china.pk])).content.decode()
    assert "no official holiday data for 2027" in page


def test_an_admin_sets_up_a_calendar_with_hours_and_dates(client, cast):
    client.force_login(cast.admin)
    data = {
        "name": "Guangzhou service centre",
        "kind": "custom",
        "country_code": "",
        "time_zone": "Asia/Shanghai",
        "is_active": "on",
        "hours_mon": "08:30-12:00, 13:00-17:30",
        "hours_sat": "09:00-12:00",
    }
    response = client.post(reverse("sla:calendar_new"), data)
    calendar = BusinessCalendar.objects.get(name="Guangzhou service centre")
    assert response.status_code == 302
    assert calendar.working_hours["mon"] == [["08:30", "12:00"], ["13:00", "17:30"]]
    assert calendar.working_hours["tue"] == []
    bad = client.post(reverse("sla:calendar", args=[calendar.pk]), {**data, "hours_tue": "9-5"})
    assert bad.status_code == 400
    page = bad.content.decode()
    assert "Write intervals like" in page
    assert 'value="9-5"' in page  # what the admin typed is kept
    response = client.post(
        reverse("sla:calendar_date_add", args=[calendar.pk]),
        {"date": "2027-01-04", "kind": "working_day", "name": "调休"},
    )
    assert response.status_code == 302
    upload = SimpleUploadedFile(
        "2027.ics",
        b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20270210\r\n"
        b"DTEND;VALUE=DATE:20270213\r\nSUMMARY:\xe6\x98\xa5\xe8\x8a\x82\r\nEND:VEVENT\r\n"
        b"END:VCALENDAR\r\n",
        content_type="text/calendar",
    )
    response = client.post(reverse("sla:calendar_import", args=[calendar.pk]), {"file": upload})
    assert response.status_code == 302
    assert sorted(str(d) for d in calendar.dates.values_list("date", flat=True)) == [
        "2027-01-04",
        "2027-02-10",
        "2027-02-11",
        "2027-02-12",
    ]
    broken = SimpleUploadedFile("x.csv", b"not a date,holiday\n")
    response = client.post(reverse("sla:calendar_import", args=[calendar.pk]), {"file": broken})
    assert response.status_code == 400
    assert "Line 1" in response.content.decode()


def test_an_admin_edits_policy_targets_and_levels(client, cast, standard, china):
    client.force_login(cast.admin)
    data = {
        "name": "Standard",
        "position": "100",
        "is_active": "on",
        "calendar": china.pk,
        "warning_percent": "80",
        "acknowledgement_lapses_to_escalate": "2",
        "high_first_response": "180",
        "high_resolution": "1440",
        "high_acknowledgement": "10",
    }
    response = client.post(reverse("sla:policy", args=[standard.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    target = standard.targets.get(priority="high")
    assert (target.first_response_minutes, target.acknowledgement_minutes) == (180, 10)
    assert standard.targets.get(priority="low").first_response_minutes is None
    response = client.post(
        reverse("sla:level_add", args=[standard.pk]),
        {"level": "3", "minutes": "-30", "notify_users": [cast.supervisor.pk]},
    )
    assert response.status_code == 302
    level = EscalationLevel.objects.get(policy=standard, level=3)
    assert list(level.notify_users.all()) == [cast.supervisor]
    response = client.post(reverse("sla:level_remove", args=[standard.pk, level.pk]))
    assert not EscalationLevel.objects.filter(pk=level.pk).exists()


def test_the_ticket_list_shows_and_sorts_by_the_nearest_due_time(client, cast, make_ticket):
    with time_machine.travel(NOW, tick=False):
        later = make_ticket(subject="later one", priority="low")
        sooner = make_ticket(subject="sooner one", priority="high")
        overdue = make_ticket(subject="overdue one", priority="urgent")
    client.force_login(cast.supervisor)
    with time_machine.travel(datetime(2026, 11, 23, 11, 30, tzinfo=SHANGHAI), tick=False):
        process_due_slas()
        page = client.get(reverse("tickets:list"), {"view": "open", "sort": "due"})
    html = page.content.decode()
    assert html.index("overdue one") < html.index("sooner one") < html.index("later one")
    assert "sla-breached" in html
    assert TicketSLA.objects.get(ticket=overdue).first_response_breached
    assert {later.pk, sooner.pk}


def test_the_ticket_list_query_count_does_not_grow_with_sla(client, cast, make_ticket):
    make_ticket()
    client.force_login(cast.agent)
    client.get(reverse("tickets:list"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("tickets:list"), {"view": "open", "sort": "due"})
    for _ in range(4):
        make_ticket()
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("tickets:list"), {"view": "open", "sort": "due"})
    assert len(many.captured_queries) == len(few.captured_queries)


def test_the_ticket_page_shows_countdowns_and_the_assignee_acknowledges(client, cast, make_ticket):
    with time_machine.travel(NOW, tick=False):
        ticket = make_ticket(priority="high", assignee=cast.agent)
    client.force_login(cast.agent)
    with time_machine.travel(datetime(2026, 11, 23, 9, 5, tzinfo=SHANGHAI), tick=False):
        page = client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()
        assert "Acknowledge" in page and "due in" in page
        response = client.post(reverse("sla:acknowledge", args=[ticket.pk]))
    assert response.status_code == 302
    assert TicketSLA.objects.get(ticket=ticket).acknowledgement_at is not None
    page = client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()
    assert "acknowledged the ticket" in page


def test_others_cannot_acknowledge_and_outsiders_see_nothing(client, cast, make_ticket):
    ticket = make_ticket(assignee=cast.agent)
    client.force_login(cast.supervisor)
    client.post(reverse("sla:acknowledge", args=[ticket.pk]))
    assert TicketSLA.objects.get(ticket=ticket).acknowledgement_at is None
    client.force_login(cast.quality_agent)
    assert client.post(reverse("sla:acknowledge", args=[ticket.pk])).status_code == 404
    assert client.post(reverse("sla:escalate", args=[ticket.pk])).status_code == 404
    client.force_login(cast.tech_agent)  # read-only in cs
    response = client.post(
        reverse("sla:escalate", args=[ticket.pk]), {"group": cast.tech.pk, "reason": "x"}
    )
    assert response.status_code == 403


def test_an_agent_escalates_from_the_ticket_page(client, cast, make_ticket):
    ticket = make_ticket()
    client.force_login(cast.agent)
    response = client.post(reverse("sla:escalate", args=[ticket.pk]), {"reason": "too hard"})
    assert response.status_code == 400  # cs has no escalation group: choose one
    assert "too hard" in response.content.decode()
    response = client.post(
        reverse("sla:escalate", args=[ticket.pk]), {"group": cast.tech.pk, "reason": "too hard"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("tickets:list")  # it left the agent's groups
    assert ticket.events.filter(type=EventType.ESCALATED, reason="too hard").exists()


def test_the_timeline_explains_warnings_and_escalations(client, cast, make_ticket):
    cast.cs.escalation_group = cast.tech
    cast.cs.save()
    with time_machine.travel(NOW, tick=False):
        ticket = make_ticket(priority="urgent")
    for hour, minute in ((10, 30), (11, 0)):
        with time_machine.travel(datetime(2026, 11, 23, hour, minute, tzinfo=SHANGHAI)):
            process_due_slas()
    client.force_login(cast.admin)
    page = client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()
    assert "SLA warning for first response" in page
    assert "escalated the ticket to level 1" in page
    assert "the first response target was missed" in page


def test_the_portal_promises_a_reply_time_until_the_first_response(client, cast, make_ticket):
    with time_machine.travel(NOW, tick=False):
        ticket = make_ticket(cast.alice, priority="medium")
    client.force_login(cast.alice)
    page = client.get(reverse("portal:ticket", args=[ticket.pk])).content.decode()
    assert "We will reply by 2026-11-23 16:30" in page
    add_message(cast.agent, ticket, body="Hello")
    page = client.get(reverse("portal:ticket", args=[ticket.pk])).content.decode()
    assert "We will reply by" not in page
    client.force_login(cast.bob)
    assert client.get(reverse("portal:ticket", args=[ticket.pk])).status_code == 404


def test_the_compliance_page_counts_met_and_missed_targets(client, cast, make_ticket):
    with time_machine.travel(NOW, tick=False):
        met = make_ticket(priority="high")
        missed = make_ticket(priority="high")
        add_message(cast.agent, met, body="Hi")
        update_ticket(cast.agent, met, state="resolved")
    with time_machine.travel(datetime(2026, 11, 24, 9, 0, tzinfo=SHANGHAI), tick=False):
        add_message(cast.agent, missed, body="Sorry")
        client.force_login(cast.supervisor)
        page = client.get(reverse("sla:compliance"), {"period": "7", "by": "priority"})
        html = page.content.decode()
        assert "50.0 %" in html and "(1/2)" in html
        assert "100.0 %" in html and "(1/1)" in html
        client.force_login(cast.quality_agent)
        outsider = client.get(reverse("sla:compliance"), {"period": "7"}).content.decode()
    assert "(1/2)" not in outsider


def test_readyz_warns_about_missing_holiday_data(client, db):
    with time_machine.travel(NOW, tick=False):
        body = client.get("/readyz").json()
    assert body["status"] == "ok"
    assert any("China working hours" in w and "2027" in w for w in body["warnings"])


def test_compliance_by_priority_shows_labels_urgent_first(cast, make_ticket):
    from kefu.sla.compliance import compliance_rows

    with time_machine.travel(NOW, tick=False):
        for priority in ("low", "urgent", "high"):
            ticket = make_ticket(priority=priority)
            add_message(cast.agent, ticket, body="On it")
        rows = compliance_rows(cast.supervisor, since=NOW - timedelta(days=1), by="priority")
    assert [row.key for row in rows] == ["urgent", "high", "low"]
    assert [row.label for row in rows] == ["Urgent", "High", "Low"]
