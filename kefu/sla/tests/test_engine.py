"""The SLA clock driven by ticket actions, and the tick's warnings, breaches and escalations."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from kefu.accounts.models import Access, Membership, Role, User
from kefu.sla.actions import (
    acknowledge_ticket,
    escalate_ticket,
    process_due_slas,
    working_calendar,
)
from kefu.sla.deadlines import add_business_minutes
from kefu.sla.models import BusinessCalendar, TicketSLA
from kefu.tickets.actions import add_message, update_ticket
from kefu.tickets.models import EventType, Message, Ticket

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def sla_of(ticket: Ticket) -> TicketSLA:
    return TicketSLA.objects.get(ticket=ticket)


@pytest.fixture
def china():
    return working_calendar(BusinessCalendar.objects.get(kind="china"))


@pytest.fixture
def escalating(cast):
    cast.cs.escalation_group = cast.tech
    cast.cs.save()
    return cast


def test_a_medium_ticket_before_national_day_is_due_on_8_october(make_ticket):
    with time_machine.travel(at(2026, 9, 30, 17, 30), tick=False):
        ticket = make_ticket(priority="medium")
    sla = sla_of(ticket)
    assert sla.policy.name == "Standard"
    assert sla.calendar.kind == "china"
    assert sla.first_response_due_at == at(2026, 10, 8, 16, 0)
    assert sla.next_due_at == sla.first_response_due_at
    assert sla.next_response_due_at is None
    assert sla.acknowledgement_due_at is None  # nobody is assigned yet


def test_a_ticket_on_the_make_up_sunday_runs_on_working_hours(make_ticket):
    with time_machine.travel(at(2026, 9, 20, 10, 0), tick=False):
        ticket = make_ticket(priority="medium")
    assert sla_of(ticket).first_response_due_at == at(2026, 9, 20, 17, 30)


def test_nothing_counts_during_mid_autumn(make_ticket):
    with time_machine.travel(at(2026, 9, 24, 17, 0), tick=False):
        ticket = make_ticket(priority="high")
    # One hour on Thursday, then 25–27 September are holidays: three more hours on Monday.
    assert sla_of(ticket).first_response_due_at == at(2026, 9, 28, 12, 0)


def test_urgent_tickets_run_on_the_24x7_calendar(make_ticket):
    with time_machine.travel(at(2026, 10, 3, 22, 0), tick=False):
        ticket = make_ticket(priority="urgent")
    sla = sla_of(ticket)
    assert sla.calendar.kind == "24x7"
    assert sla.first_response_due_at == at(2026, 10, 4, 0, 0)
    assert sla.resolution_due_at == at(2026, 10, 4, 6, 0)


def test_a_ticket_late_in_2026_gets_due_times_in_2027_without_data(make_ticket):
    with time_machine.travel(at(2026, 12, 28, 10, 0), tick=False):
        ticket = make_ticket(priority="low")
    sla = sla_of(ticket)
    assert sla.first_response_due_at == at(2026, 12, 31, 11, 30)
    assert sla.resolution_due_at.year == 2027


def test_only_a_public_agent_reply_is_a_response(cast, make_ticket):
    with time_machine.travel(at(2026, 11, 23, 9, 0), tick=False):
        ticket = make_ticket(priority="medium")
        add_message(cast.agent, ticket, body="checking logs", internal=True)
        add_message(None, ticket, body="We received your request.")  # automatic
        add_message(cast.alice, ticket, body="any news?")
    assert sla_of(ticket).first_response_at is None
    with time_machine.travel(at(2026, 11, 23, 10, 0), tick=False):
        add_message(cast.agent, ticket, body="Please restart the printer.")
    sla = sla_of(ticket)
    assert sla.first_response_at == at(2026, 11, 23, 10, 0)
    assert not sla.first_response_breached
    assert sla.next_response_due_at is None


def test_each_customer_message_after_a_response_starts_next_response(cast, make_ticket):
    with time_machine.travel(at(2026, 11, 23, 9, 0), tick=False):
        ticket = make_ticket(priority="high")
        add_message(cast.agent, ticket, body="Hello")
    with time_machine.travel(at(2026, 11, 23, 11, 0), tick=False):
        add_message(cast.alice, ticket, body="Still broken")
    sla = sla_of(ticket)
    assert sla.next_response_due_at == at(2026, 11, 23, 16, 30)
    assert sla.next_response_at is None
    with time_machine.travel(at(2026, 11, 23, 17, 0), tick=False):
        add_message(cast.agent, ticket, body="Sorry for the wait")
    sla = sla_of(ticket)
    assert sla.next_response_at == at(2026, 11, 23, 17, 0)
    assert sla.next_response_breached


def test_pending_customer_pauses_across_a_weekend(cast, make_ticket, china):
    with time_machine.travel(at(2026, 11, 20, 10, 0), tick=False):  # Friday
        ticket = make_ticket(priority="medium")
    original_due = sla_of(ticket).resolution_due_at
    with time_machine.travel(at(2026, 11, 20, 16, 0), tick=False):
        update_ticket(cast.agent, ticket, state="pending_customer")
    paused = sla_of(ticket)
    assert paused.is_paused
    assert paused.resolution_due_at is None
    assert paused.next_due_at is None
    with time_machine.travel(at(2026, 11, 23, 10, 0), tick=False):  # Monday
        add_message(cast.alice, ticket, body="Here is the photo")
    sla = sla_of(ticket)
    assert not sla.is_paused
    assert sla.paused_minutes == 120 + 60  # Friday 16–18 and Monday 9–10, business time
    assert sla.resolution_due_at == add_business_minutes(original_due, 180, china)


def test_a_priority_raise_keeps_the_elapsed_time(cast, make_ticket):
    with time_machine.travel(at(2026, 11, 23, 9, 0), tick=False):
        ticket = make_ticket(priority="medium")
    with time_machine.travel(at(2026, 11, 23, 11, 0), tick=False):
        update_ticket(cast.agent, ticket, priority="high")
    # 120 of high's 240 minutes are spent: 60 before lunch, 60 after.
    assert sla_of(ticket).first_response_due_at == at(2026, 11, 23, 14, 30)
    with time_machine.travel(at(2026, 11, 23, 11, 30), tick=False):
        update_ticket(cast.agent, ticket, priority="urgent")
    sla = sla_of(ticket)
    assert sla.calendar.kind == "24x7"
    # 150 of urgent's 120 minutes are spent: it was due 30 minutes ago.
    assert sla.first_response_due_at == at(2026, 11, 23, 11, 0)


def test_resolving_meets_resolution_and_reopening_resumes_it(cast, make_ticket):
    with time_machine.travel(at(2026, 11, 23, 9, 0), tick=False):
        ticket = make_ticket(priority="high")
    with time_machine.travel(at(2026, 11, 23, 10, 0), tick=False):
        update_ticket(cast.agent, ticket, state="resolved")
    sla = sla_of(ticket)
    assert sla.resolution_at == at(2026, 11, 23, 10, 0)
    assert not sla.resolution_breached
    with time_machine.travel(at(2026, 11, 24, 9, 0), tick=False):
        add_message(cast.alice, ticket, body="It broke again")
    sla = sla_of(ticket)
    assert sla.resolution_at is None
    # 60 of 24 h * 60 spent; 1380 minutes from Tuesday 09:00 is 3 working days + 30 minutes.
    assert sla.resolution_due_at == at(2026, 11, 27, 9, 30)


def test_an_unanswered_urgent_ticket_warns_then_escalates_to_senior_support(
    escalating, make_ticket
):
    cast = escalating
    with time_machine.travel(at(2026, 11, 23, 20, 0), tick=False):
        ticket = make_ticket(priority="urgent", assignee=cast.agent)
        add_message(cast.agent, ticket, body="Looking into it")  # meets first response
        add_message(cast.alice, ticket, body="Production is down!")
    assert sla_of(ticket).next_response_due_at == at(2026, 11, 23, 22, 0)
    with time_machine.travel(at(2026, 11, 23, 21, 29), tick=False):
        process_due_slas()
        assert not ticket.events.filter(type=EventType.SLA_WARNING, new_value="next_response")
    with time_machine.travel(at(2026, 11, 23, 21, 30), tick=False):
        assert process_due_slas() == 1
        assert process_due_slas() == 0  # claimed: nothing left to do now
    warning = ticket.events.get(type=EventType.SLA_WARNING, new_value="next_response")
    assert "75" in warning.reason
    ticket.refresh_from_db()
    assert ticket.group == cast.cs
    with time_machine.travel(at(2026, 11, 23, 22, 0), tick=False):
        process_due_slas()
    ticket.refresh_from_db()
    sla = sla_of(ticket)
    assert sla.next_response_breached
    assert sla.escalation_level == 1
    assert ticket.group == cast.tech
    assert ticket.assignee is None  # the cs agent cannot work tech tickets
    escalation = ticket.events.get(type=EventType.ESCALATED)
    assert escalation.new_value == "1"
    assert escalation.reason
    moved = ticket.events.get(type=EventType.CHANGED, field="group")
    assert moved.reason == escalation.reason
    note = Message.objects.get(ticket=ticket, is_internal=True)
    assert note.author_user is None
    assert note.body_text == escalation.reason
    # Level 2 comes two hours after the breach and raises the priority (urgent stays urgent).
    with time_machine.travel(at(2026, 11, 24, 0, 0), tick=False):
        process_due_slas()
    assert sla_of(ticket).escalation_level == 2


def test_a_lapsed_acknowledgement_moves_the_ticket_then_escalates(escalating, make_ticket):
    cast = escalating
    second = User.objects.create_user("li@kefu.example", "x", name="Li", role=Role.AGENT)
    Membership.objects.create(user=second, group=cast.cs, access=Access.FULL)
    with time_machine.travel(at(2026, 11, 23, 9, 0), tick=False):
        ticket = make_ticket(priority="high", assignee=cast.agent)
    assert sla_of(ticket).acknowledgement_due_at == at(2026, 11, 23, 9, 15)
    with time_machine.travel(at(2026, 11, 23, 9, 15), tick=False):
        process_due_slas()
    ticket.refresh_from_db()
    assert ticket.assignee == second
    sla = sla_of(ticket)
    assert sla.acknowledgement_lapses == 1
    assert sla.acknowledgement_due_at == at(2026, 11, 23, 9, 30)
    with time_machine.travel(at(2026, 11, 23, 9, 30), tick=False):
        process_due_slas()
    ticket.refresh_from_db()
    assert ticket.group == cast.tech
    assert sla_of(ticket).escalation_level == 1


def test_the_assignee_acknowledges_and_nobody_else_can(cast, make_ticket):
    with time_machine.travel(at(2026, 11, 23, 9, 0), tick=False):
        ticket = make_ticket(priority="high", assignee=cast.agent)
    with pytest.raises(PermissionDenied):
        acknowledge_ticket(cast.supervisor, ticket)
    with time_machine.travel(at(2026, 11, 23, 9, 5), tick=False):
        acknowledge_ticket(cast.agent, ticket)
    sla = sla_of(ticket)
    assert sla.acknowledgement_at == at(2026, 11, 23, 9, 5)
    assert not sla.acknowledgement_breached
    assert ticket.events.filter(type=EventType.ACKNOWLEDGED, actor=cast.agent).exists()


def test_an_agent_escalates_to_a_group_they_do_not_work_in(cast, make_ticket):
    ticket = make_ticket()
    escalated = escalate_ticket(cast.agent, ticket, group=cast.tech, reason="Needs firmware")
    assert escalated.group == cast.tech
    assert sla_of(ticket).escalation_level == 1
    event = ticket.events.get(type=EventType.ESCALATED)
    assert (event.actor, event.reason) == (cast.agent, "Needs firmware")


def test_escalation_needs_a_reason_a_target_and_write_access(cast, make_ticket):
    ticket = make_ticket()
    with pytest.raises(ValidationError) as error:
        escalate_ticket(cast.agent, ticket, group=cast.tech, reason=" ")
    assert "reason" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        escalate_ticket(cast.agent, ticket, reason="help")  # cs has no escalation group
    assert "group" in error.value.message_dict
    with pytest.raises(PermissionDenied):
        escalate_ticket(cast.tech_agent, ticket, group=cast.tech, reason="read-only in cs")


def test_a_failing_row_is_retried_later_without_blocking_others(make_ticket, monkeypatch):
    with time_machine.travel(at(2026, 11, 23, 9, 0), tick=False):
        first, second = make_ticket(priority="urgent"), make_ticket(priority="urgent")
    from kefu.sla.actions import clock as actions

    real = actions._act_on_due

    def flaky(pk, now):
        if pk == sla_of(first).pk:
            raise RuntimeError("boom")
        real(pk, now)

    monkeypatch.setattr(actions, "_act_on_due", flaky)
    with time_machine.travel(at(2026, 11, 23, 10, 30), tick=False):
        assert process_due_slas() == 1
    assert sla_of(first).check_due_at == at(2026, 11, 23, 10, 35)
    assert sla_of(second).warned == ["first_response"]


def test_the_tick_is_registered_and_reaches_due_rows(make_ticket):
    from kefu.lib.tick import registered_ticks, run_tick_once

    assert "sla" in registered_ticks()
    with time_machine.travel(at(2026, 11, 23, 9, 0), tick=False):
        make_ticket(priority="urgent")
    with time_machine.travel(at(2026, 11, 23, 12, 0), tick=False):
        assert run_tick_once()["sla"] == 1


def test_check_due_at_tracks_the_next_thing_to_look_at(make_ticket):
    with time_machine.travel(at(2026, 11, 23, 9, 0), tick=False):
        ticket = make_ticket(priority="urgent")
    # 75 % of 120 minutes on the 24×7 calendar.
    assert sla_of(ticket).check_due_at == at(2026, 11, 23, 10, 30)
    assert sla_of(ticket).check_due_at - at(2026, 11, 23, 9, 0) == timedelta(minutes=90)


def test_a_key_account_policy_applies_only_to_key_account_customers(cast, make_ticket):
    from django.test import Client

    calendar = BusinessCalendar.objects.get(kind="china")
    headers = {"Authorization": f"Bearer {cast.token(cast.admin)}"}
    response = Client().post(
        "/api/v1/sla/policies",
        {
            "name": "Key accounts",
            "position": 0,
            "calendar": calendar.pk,
            "tiers": ["key_account"],
            "targets": {"medium": {"first_response": 60}},
        },
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 201, response.content
    assert response.json()["tiers"] == ["key_account"]
    refused = Client().post(
        "/api/v1/sla/policies",
        {"name": "Bad", "calendar": calendar.pk, "tiers": ["gold"]},
        content_type="application/json",
        headers=headers,
    )
    assert refused.status_code == 422

    cast.acme.tier = "key_account"
    cast.acme.save()
    with time_machine.travel(at(2026, 11, 24, 10, 0), tick=False):
        key_account_ticket = make_ticket(cast.alice, priority="medium")
        globex_ticket = make_ticket(cast.bob, priority="medium")
        consumer_ticket = make_ticket(cast.carol, priority="medium")
    assert sla_of(key_account_ticket).policy.name == "Key accounts"
    assert sla_of(key_account_ticket).first_response_due_at == at(2026, 11, 24, 11, 0)
    assert sla_of(globex_ticket).policy.name == "Standard"
    assert sla_of(consumer_ticket).policy.name == "Standard"
