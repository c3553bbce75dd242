"""Time rules: schedules written on state changes, run by the tick with controlled time."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kefu.automation.actions import process_due_time_rules, save_time_rule
from kefu.automation.models import ScheduleOutcome, TimeRuleSchedule
from kefu.lib.tick import registered_ticks
from kefu.tickets.actions import add_message, update_ticket
from kefu.tickets.models import EventType, Message, Ticket

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 11, 2, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture
def rules(cast):
    remind = save_time_rule(
        cast.admin,
        name="remind",
        state="pending_customer",
        delay=3,
        unit="days",
        actions=[{"type": "add_reply", "body": "Dear {{ customer.name }}, any news?"}],
    )
    resolve = save_time_rule(
        cast.admin,
        name="resolve",
        state="pending_customer",
        delay=7,
        unit="days",
        actions=[
            {"type": "add_note", "body": "No answer for 7 days."},
            {"type": "set_state", "value": "resolved"},
        ],
    )
    close = save_time_rule(
        cast.admin,
        name="close",
        state="resolved",
        delay=5,
        unit="days",
        actions=[{"type": "set_state", "value": "closed"}],
    )
    return remind, resolve, close


def tick_at(when: datetime) -> int:
    with time_machine.travel(when, tick=False):
        return process_due_time_rules()


def test_the_tick_is_registered():
    assert "time_rules" in registered_ticks()


def test_pending_tickets_get_a_reminder_then_resolve_then_close(cast, make_ticket, rules):
    with time_machine.travel(START, tick=False):
        ticket = make_ticket()
        update_ticket(cast.agent, ticket, state="pending_customer")
    assert tick_at(START + timedelta(days=2, hours=23)) == 0
    assert tick_at(START + timedelta(days=3, minutes=1)) == 1
    reminder = Message.objects.get(ticket=ticket, is_internal=False, author_user=None)
    assert reminder.body_text == "Dear Alice 李, any news?"
    assert Ticket.objects.get(pk=ticket.pk).state == "pending_customer"
    assert tick_at(START + timedelta(days=4)) == 0  # once per stay
    assert tick_at(START + timedelta(days=7, minutes=1)) == 1
    ticket.refresh_from_db()
    assert ticket.state == "resolved"
    event = ticket.events.get(type=EventType.CHANGED, field="state", new_value="resolved")
    assert event.reason == "Time rule: resolve" and event.actor is None
    assert tick_at(START + timedelta(days=12)) == 0
    assert tick_at(START + timedelta(days=12, minutes=2)) == 1
    assert Ticket.objects.get(pk=ticket.pk).state == "closed"


def test_a_customer_answer_cancels_the_schedule_and_a_new_wait_restarts_it(
    cast, make_ticket, rules
):
    with time_machine.travel(START, tick=False):
        ticket = make_ticket()
        update_ticket(cast.agent, ticket, state="pending_customer")
    with time_machine.travel(START + timedelta(days=2), tick=False):
        add_message(cast.alice, ticket, body="Here is the serial number")  # reopens
    assert tick_at(START + timedelta(days=8)) == 0
    with time_machine.travel(START + timedelta(days=9), tick=False):
        update_ticket(cast.agent, ticket, state="pending_customer")
    assert tick_at(START + timedelta(days=11)) == 0
    assert tick_at(START + timedelta(days=12, minutes=1)) == 1


def test_further_conditions_are_checked_when_due(cast, make_ticket):
    save_time_rule(
        cast.admin,
        name="vip only",
        state="on_hold",
        delay=4,
        unit="hours",
        conditions=[{"field": "tags", "operator": "contains", "value": "vip"}],
        actions=[{"type": "set_priority", "value": "high"}],
    )
    with time_machine.travel(START, tick=False):
        plain = make_ticket()
        vip = make_ticket(tags=["vip"])
        update_ticket(cast.agent, plain, state="on_hold")
        update_ticket(cast.agent, vip, state="on_hold")
    assert tick_at(START + timedelta(hours=4, minutes=1)) == 2
    assert Ticket.objects.get(pk=vip.pk).priority == "high"
    assert Ticket.objects.get(pk=plain.pk).priority == "medium"
    outcomes = dict(TimeRuleSchedule.objects.values_list("ticket_id", "outcome"))
    assert outcomes == {plain.pk: ScheduleOutcome.SKIPPED, vip.pk: ScheduleOutcome.DONE}


def test_a_new_rule_schedules_tickets_already_in_its_state(cast, make_ticket):
    with time_machine.travel(START, tick=False):
        ticket = make_ticket()
        update_ticket(cast.agent, ticket, state="on_hold")
    with time_machine.travel(START + timedelta(days=1), tick=False):
        rule = save_time_rule(
            cast.admin,
            name="stale hold",
            state="on_hold",
            delay=2,
            unit="days",
            actions=[{"type": "add_note", "body": "still on hold"}],
        )
    schedule = TimeRuleSchedule.objects.get(rule=rule)
    assert schedule.due_at == START + timedelta(days=2)
    assert tick_at(START + timedelta(days=2, minutes=1)) == 1
    # Editing the rule does not act again on the same stay.
    save_time_rule(cast.admin, rule, delay=1)
    assert tick_at(START + timedelta(days=3)) == 0


def test_a_deactivated_rule_stops(cast, make_ticket, rules):
    remind = rules[0]
    with time_machine.travel(START, tick=False):
        ticket = make_ticket()
        update_ticket(cast.agent, ticket, state="pending_customer")
    save_time_rule(cast.admin, remind, is_active=False)
    tick_at(START + timedelta(days=3, minutes=1))
    assert not Message.objects.filter(ticket=ticket, author_user=None, is_internal=False).exists()


def test_the_tick_reads_only_due_rows_in_a_fixed_number_of_queries(cast, make_ticket, rules):
    with time_machine.travel(START, tick=False):
        for _ in range(5):
            update_ticket(cast.agent, make_ticket(), state="pending_customer")
    with CaptureQueriesContext(connection) as queries:
        assert tick_at(START + timedelta(days=1)) == 0
    assert len(queries.captured_queries) == 1
    assert TimeRuleSchedule.objects.filter(due_at__isnull=False).count() == 10


def test_a_row_claimed_by_another_tick_is_not_run_again(cast, make_ticket, rules):
    with time_machine.travel(START, tick=False):
        ticket = make_ticket()
        update_ticket(cast.agent, ticket, state="pending_customer")
    schedule = TimeRuleSchedule.objects.get(rule=rules[0], ticket=ticket)
    # Another tick process claimed it between our read and our claim.
    TimeRuleSchedule.objects.filter(pk=schedule.pk).update(due_at=None)
    assert tick_at(START + timedelta(days=3, minutes=1)) == 0
    assert not Message.objects.filter(ticket=ticket, author_user=None, is_internal=False).exists()
