"""SLA warnings, breaches and escalation levels reach people: stored notifications with the live
badge, e-mails through the job queue, each person's switches — and never someone who cannot see
the ticket."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from kefu.lib.jobs import run_pending_jobs
from kefu.notifications import actions
from kefu.notifications.models import Kind, Notification
from kefu.notifications.tests.test_notifications import received
from kefu.sla.actions import acknowledge_ticket, process_due_slas
from kefu.sla.models import EscalationLevel
from kefu.tickets.models import EventType

SHANGHAI = ZoneInfo("Asia/Shanghai")
OPENED = datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)
# An urgent ticket runs on the 24×7 calendar: 120 minutes to first response, warned at 75 %.
WARNED = datetime(2026, 11, 23, 10, 30, tzinfo=SHANGHAI)
BREACHED = datetime(2026, 11, 23, 11, 0, tzinfo=SHANGHAI)


def opened_for_the_agent(cast, make_ticket):
    """An urgent ticket assigned to the agent, who acknowledges it (no acknowledgement lapse)."""
    with time_machine.travel(OPENED, tick=False):
        ticket = make_ticket(priority="urgent", assignee=cast.agent)
        acknowledge_ticket(cast.agent, ticket)
    return ticket


def kinds_for(user) -> list[str]:
    return sorted(Notification.objects.filter(recipient=user).values_list("kind", flat=True))


@pytest.fixture
def level_one(cast):
    """Level 1 of the built-in policy, notifying the assignee, the supervisors, the admin and an
    agent of another department by name, without moving the ticket."""
    level = EscalationLevel.objects.get(policy__name="Standard", level=1)
    level.reassign_to_escalation_group = False
    level.add_internal_note = False
    level.save()
    level.notify_users.set([cast.admin, cast.quality_agent])
    return level


def test_a_warning_a_breach_and_level_one_notify_the_people_they_name(cast, make_ticket, level_one):
    ticket = opened_for_the_agent(cast, make_ticket)
    Notification.objects.all().delete()

    with time_machine.travel(WARNED, tick=False):
        process_due_slas()
    assert kinds_for(cast.agent) == [Kind.SLA_WARNING]
    warning = Notification.objects.get(recipient=cast.agent)
    assert warning.event == ticket.events.get(type=EventType.SLA_WARNING)
    assert warning.actor is None

    with time_machine.travel(BREACHED, tick=False):
        process_due_slas()
    assert kinds_for(cast.agent) == [Kind.ESCALATED, Kind.SLA_BREACHED, Kind.SLA_WARNING]
    assert kinds_for(cast.supervisor) == [Kind.ESCALATED]  # notify supervisors
    assert kinds_for(cast.admin) == [Kind.ESCALATED]  # named
    escalated = Notification.objects.get(recipient=cast.admin)
    assert escalated.event == ticket.events.get(type=EventType.ESCALATED)


def test_a_named_person_who_cannot_see_the_ticket_hears_nothing(cast, make_ticket, level_one):
    opened_for_the_agent(cast, make_ticket)
    with time_machine.travel(BREACHED, tick=False):
        process_due_slas()
    assert kinds_for(cast.quality_agent) == []


def test_an_unassigned_tickets_warning_goes_to_the_groups_supervisors(cast, make_ticket):
    with time_machine.travel(OPENED, tick=False):
        make_ticket(priority="urgent")
    with time_machine.travel(WARNED, tick=False):
        process_due_slas()
    assert kinds_for(cast.supervisor) == [Kind.SLA_WARNING]
    assert kinds_for(cast.agent) == []


def test_sla_notifications_are_emailed_once_with_their_reason(cast, make_ticket, mailoutbox):
    ticket = opened_for_the_agent(cast, make_ticket)
    with time_machine.travel(BREACHED, tick=False):
        process_due_slas()  # the warning's time has passed too: the breach is what it says
    run_pending_jobs()
    run_pending_jobs()

    mails = [mail for mail in mailoutbox if mail.to == [cast.agent.email]]
    breach = ticket.events.get(type=EventType.SLA_BREACHED)
    subjects = [mail.subject for mail in mails]
    assert any(f"#{ticket.number} missed its SLA" in subject for subject in subjects)
    assert any(breach.reason in mail.body for mail in mails)
    assert len(mails) == Notification.objects.filter(recipient=cast.agent).count()


def test_a_person_who_switched_sla_warnings_off_gets_none(cast, make_ticket, mailoutbox):
    actions.update_preferences(cast.agent, {Kind.SLA_WARNING: {"in_app": False, "email": False}})
    opened_for_the_agent(cast, make_ticket)
    Notification.objects.all().delete()
    run_pending_jobs()
    mailoutbox.clear()
    with time_machine.travel(WARNED, tick=False):
        process_due_slas()
    run_pending_jobs()
    assert kinds_for(cast.agent) == []
    assert mailoutbox == []


def test_a_warning_updates_the_recipients_badge_live(
    cast, make_ticket, django_capture_on_commit_callbacks
):
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(f"user.{cast.agent.pk}", channel)
    opened_for_the_agent(cast, make_ticket)
    received(layer, channel)  # the assignment's own notification
    actions.mark_all_read(cast.agent)
    received(layer, channel)

    with (
        django_capture_on_commit_callbacks(execute=True),
        time_machine.travel(WARNED, tick=False),
    ):
        process_due_slas()
    assert {"kind": "notification", "unread": 1} in received(layer, channel)


def test_an_escalation_that_moves_the_ticket_tells_each_person_once(cast, make_ticket):
    from kefu.sla.actions import escalate_ticket

    ticket = make_ticket(assignee=cast.agent)
    Notification.objects.all().delete()
    escalate_ticket(cast.supervisor, ticket, reason="Needs firmware expertise", group=cast.tech)

    notification = Notification.objects.get(recipient=cast.tech_agent)
    assert notification.kind == Kind.ESCALATED
    assert notification.actor == cast.supervisor
    assert notification.event.reason == "Needs firmware expertise"
    assert kinds_for(cast.supervisor) == []  # the one who escalated


def test_the_preferences_offer_the_sla_kinds(cast):
    preferences = actions.preferences_for(cast.agent)
    assert preferences[Kind.SLA_WARNING] == (True, True)
    assert preferences[Kind.SLA_BREACHED] == (True, True)
