"""Who is notified of what, and who never is: each kind, the actor, outsiders, preferences,
e-mails through the job pipeline, the waiting tick and the live badge."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from kefu.lib.jobs import run_pending_jobs
from kefu.notifications import actions
from kefu.notifications.models import Kind, Notification, WaitingAlert
from kefu.tickets.actions import add_message, update_ticket

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def kinds_for(user) -> list[str]:
    return list(Notification.objects.filter(recipient=user).values_list("kind", flat=True))


@pytest.fixture
def assigned(cast, make_ticket):
    """A 客服部 ticket of Alice, assigned to the agent by the supervisor (notifications cleared)."""
    ticket = make_ticket(cast.alice)
    update_ticket(cast.supervisor, ticket, assignee=cast.agent)
    Notification.objects.all().delete()
    return ticket


# --- assigned -------------------------------------------------------------------------------


def test_it_notifies_the_agent_someone_else_assigns_a_ticket_to(cast, make_ticket):
    ticket = make_ticket()
    update_ticket(cast.supervisor, ticket, assignee=cast.agent)

    notification = Notification.objects.get(recipient=cast.agent)
    assert (notification.kind, notification.ticket, notification.actor) == (
        Kind.ASSIGNED,
        ticket,
        cast.supervisor,
    )
    assert kinds_for(cast.supervisor) == []


def test_it_does_not_notify_an_agent_who_takes_a_ticket_themselves(cast, make_ticket):
    update_ticket(cast.agent, make_ticket(), assignee=cast.agent)
    assert kinds_for(cast.agent) == []


def test_it_notifies_the_assignee_of_a_ticket_opened_for_them(cast, make_ticket):
    make_ticket(actor=cast.supervisor, assignee=cast.agent)
    assert kinds_for(cast.agent) == [Kind.ASSIGNED]


def test_the_system_assigning_a_ticket_notifies_the_assignee(cast, make_ticket):
    ticket = make_ticket()
    update_ticket(None, ticket, assignee=cast.agent)
    notification = Notification.objects.get(recipient=cast.agent)
    assert notification.actor is None


# --- customer replied -----------------------------------------------------------------------


def test_it_notifies_the_assignee_when_the_customer_replies(cast, assigned):
    message = add_message(cast.alice, assigned, body="Still broken")
    notification = Notification.objects.get(recipient=cast.agent)
    assert (notification.kind, notification.message) == (Kind.CUSTOMER_REPLIED, message)


def test_a_customer_reply_by_email_notifies_the_assignee(cast, assigned):
    add_message(None, assigned, body="Reply by mail", author_contact=cast.alice.contact)
    assert kinds_for(cast.agent) == [Kind.CUSTOMER_REPLIED]


def test_the_agents_own_reply_notifies_nobody(cast, assigned):
    add_message(cast.agent, assigned, body="We are on it")
    assert Notification.objects.count() == 0


# --- mentions -------------------------------------------------------------------------------


@pytest.mark.parametrize("mention", ["@agent", "@王小明wang", "@王小明 Wang", "(@Agent)"])
def test_it_notifies_a_colleague_mentioned_in_an_internal_note(cast, assigned, mention):
    note = add_message(cast.supervisor, assigned, body=f"{mention} please call back", internal=True)
    notification = Notification.objects.get(recipient=cast.agent)
    assert (notification.kind, notification.actor, notification.message) == (
        Kind.MENTIONED,
        cast.supervisor,
        note,
    )


def test_a_mention_needs_the_whole_handle(cast, assigned):
    add_message(
        cast.supervisor, assigned, body="@agentsmith and mail agent@x.example", internal=True
    )
    assert kinds_for(cast.agent) == []


def test_mentioning_oneself_notifies_nobody(cast, assigned):
    add_message(cast.supervisor, assigned, body="@supervisor note to self", internal=True)
    assert Notification.objects.count() == 0


def test_it_does_not_notify_someone_mentioned_who_cannot_see_the_ticket(cast, assigned):
    # Quinn works only in quality; Alice is a customer: neither may read this 客服部 ticket.
    add_message(cast.supervisor, assigned, body="@quality @alice have a look", internal=True)
    assert kinds_for(cast.quality_agent) == []
    assert kinds_for(cast.alice) == []


def test_a_read_only_member_who_sees_the_ticket_can_be_mentioned(cast, assigned):
    add_message(cast.agent, assigned, body="@tech is this firmware?", internal=True)
    assert kinds_for(cast.tech_agent) == [Kind.MENTIONED]


def test_a_mention_in_a_public_reply_is_not_a_notification(cast, assigned):
    add_message(cast.supervisor, assigned, body="Our colleague @agent will call you")
    assert kinds_for(cast.agent) == []


# --- waiting tickets ------------------------------------------------------------------------


def test_an_unassigned_unanswered_ticket_notifies_its_group_when_due(cast, make_ticket):
    with time_machine.travel(NOW, tick=False) as clock:
        ticket = make_ticket()
        clock.shift(timedelta(minutes=29))
        assert actions.process_waiting_alerts() == 0
        clock.shift(timedelta(minutes=2))
        assert actions.process_waiting_alerts() == 1
        assert actions.process_waiting_alerts() == 0  # claimed once

    notified = set(
        Notification.objects.filter(kind=Kind.GROUP_WAITING, ticket=ticket).values_list(
            "recipient", flat=True
        )
    )
    # Full members and supervisors of 客服部; not the read-only member, not other groups.
    assert notified == {cast.agent.pk, cast.supervisor.pk}


def test_a_ticket_taken_in_time_notifies_nobody(cast, make_ticket):
    with time_machine.travel(NOW, tick=False) as clock:
        ticket = make_ticket()
        clock.shift(timedelta(minutes=10))
        update_ticket(cast.agent, ticket, assignee=cast.agent)
        clock.shift(timedelta(hours=1))
        assert actions.process_waiting_alerts() == 0
    assert not WaitingAlert.objects.exists()
    assert Notification.objects.filter(kind=Kind.GROUP_WAITING).count() == 0


def test_an_answered_ticket_stops_waiting_until_the_customer_writes_again(cast, make_ticket):
    with time_machine.travel(NOW, tick=False) as clock:
        ticket = make_ticket()
        add_message(cast.agent, ticket, body="Which model is it?")
        assert not WaitingAlert.objects.exists()
        clock.shift(timedelta(hours=1))
        add_message(cast.alice, ticket, body="KF-200")
        clock.shift(timedelta(minutes=31))
        assert actions.process_waiting_alerts() == 1


def test_a_ticket_waiting_for_the_customer_does_not_wait_for_an_agent(cast, make_ticket):
    from kefu.tickets.models import State

    ticket = make_ticket()
    update_ticket(cast.supervisor, ticket, state=State.PENDING_CUSTOMER)
    assert not WaitingAlert.objects.exists()


def test_a_waiting_ticket_moved_to_another_group_notifies_that_group(cast, make_ticket):
    actions.set_group_waiting_minutes(cast.admin, cast.tech, 60)
    with time_machine.travel(NOW, tick=False) as clock:
        ticket = make_ticket()
        update_ticket(cast.supervisor, ticket, group=cast.tech)
        clock.shift(timedelta(minutes=31))
        assert actions.process_waiting_alerts() == 0  # 客服部's 30 minutes no longer apply
        clock.shift(timedelta(minutes=30))
        assert actions.process_waiting_alerts() == 1
    assert kinds_for(cast.tech_agent) == [Kind.GROUP_WAITING]
    assert kinds_for(cast.agent) == []


def test_a_groups_own_threshold_overrides_the_site_default(cast, make_ticket, settings):
    settings.NOTIFY_WAITING_AFTER_MINUTES = 30
    actions.set_group_waiting_minutes(cast.admin, cast.cs, 5)
    with time_machine.travel(NOW, tick=False) as clock:
        make_ticket()
        clock.shift(timedelta(minutes=6))
        assert actions.process_waiting_alerts() == 1


def test_a_threshold_of_zero_never_notifies(cast, make_ticket):
    actions.set_group_waiting_minutes(cast.admin, cast.cs, 0)
    make_ticket()
    assert not WaitingAlert.objects.exists()


def test_only_administrators_set_a_groups_threshold(cast):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        actions.set_group_waiting_minutes(cast.supervisor, cast.cs, 5)


# --- escalation -----------------------------------------------------------------------------


def test_an_escalation_to_a_group_notifies_its_members_but_not_the_escalating_agent(cast, assigned):
    from kefu.sla.actions import escalate_ticket

    escalate_ticket(cast.agent, assigned, reason="Needs firmware expertise", group=cast.tech)

    assert kinds_for(cast.tech_agent) == [Kind.ESCALATED]
    assert Kind.ESCALATED not in kinds_for(cast.agent)
    assert kinds_for(cast.quality_agent) == []


def test_moving_a_ticket_to_another_group_is_not_an_escalation(cast, assigned):
    update_ticket(cast.supervisor, assigned, group=cast.tech)
    assert Kind.ESCALATED not in kinds_for(cast.tech_agent)


# --- preferences ----------------------------------------------------------------------------


def test_it_respects_a_choice_of_email_only(cast, make_ticket, mailoutbox):
    actions.update_preferences(cast.agent, {Kind.ASSIGNED: {"in_app": False, "email": True}})
    update_ticket(cast.supervisor, make_ticket(), assignee=cast.agent)
    run_pending_jobs()

    assert Notification.objects.inbox(cast.agent).count() == 0
    assert [mail.to for mail in mailoutbox] == [[cast.agent.email]]


def test_it_respects_a_choice_of_nothing(cast, make_ticket, mailoutbox):
    actions.update_preferences(cast.agent, {Kind.ASSIGNED: {"in_app": False, "email": False}})
    update_ticket(cast.supervisor, make_ticket(), assignee=cast.agent)
    run_pending_jobs()
    assert Notification.objects.count() == 0
    assert mailoutbox == []


def test_waiting_tickets_are_not_emailed_by_default(cast, make_ticket, mailoutbox):
    with time_machine.travel(NOW, tick=False) as clock:
        make_ticket()
        clock.shift(timedelta(hours=1))
        actions.process_waiting_alerts()
    run_pending_jobs()
    assert Notification.objects.inbox(cast.agent).count() == 1
    assert mailoutbox == []


def test_customers_have_no_notification_preferences(cast):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        actions.update_preferences(cast.alice, {Kind.ASSIGNED: {"email": True}})


# --- e-mail ---------------------------------------------------------------------------------


def test_it_emails_a_notification_once_through_the_job_queue(cast, assigned, mailoutbox):
    add_message(
        cast.supervisor, assigned, body="@agent the customer is a key account", internal=True
    )
    assert mailoutbox == []  # sent by the worker, not inside the request

    assert run_pending_jobs() >= 1
    run_pending_jobs()
    mails = [mail for mail in mailoutbox if mail.to == [cast.agent.email]]
    assert len(mails) == 1
    mail = mails[0]
    assert f"#{assigned.number}" in mail.subject
    assert "key account" in mail.body
    assert f"/tickets/{assigned.pk}/" in mail.body
    assert mail.extra_headers["Auto-Submitted"] == "auto-generated"
    notification = Notification.objects.get(recipient=cast.agent)
    assert notification.emailed_at is not None
    assert mail.extra_headers["Message-ID"] == notification.email_message_id

    # A retried job (the worker died after sending) sends nothing more.
    from kefu.notifications.tasks import send_notification_email

    send_notification_email.call(notification.pk)
    assert len([m for m in mailoutbox if m.to == [cast.agent.email]]) == 1


def _message_id(raw: bytes) -> str:
    from email import message_from_bytes

    return message_from_bytes(raw)["Message-ID"]


def test_a_temporarily_refused_notification_email_is_retried_under_the_same_message_id(
    cast, assigned, smtp_server
):
    from django_tasks_db.models import DBTaskResult

    from kefu.notifications.tasks import send_notification_email

    add_message(cast.supervisor, assigned, body="@agent look", internal=True)
    notification = Notification.objects.get(recipient=cast.agent, is_by_email=True)
    DBTaskResult.objects.all().delete()
    smtp_server.data_replies = ["451 4.3.0 try again later"]
    with pytest.raises(Exception, match="451"):
        send_notification_email.call(notification.pk)
    assert DBTaskResult.objects.filter(status="READY").count() == 1  # the retry, with backoff
    notification.refresh_from_db()
    assert notification.emailed_at is None and notification.email_message_id

    send_notification_email.call(notification.pk)
    send_notification_email.call(notification.pk)  # a duplicated job: already sent
    first, second = smtp_server.attempts
    assert _message_id(first) == _message_id(second) == notification.email_message_id
    assert len(smtp_server.delivered) == 1
    notification.refresh_from_db()
    assert notification.emailed_at is not None


def test_a_permanently_refused_notification_email_is_not_retried(cast, assigned, smtp_server):
    from django_tasks_db.models import DBTaskResult

    from kefu.notifications.tasks import send_notification_email

    add_message(cast.supervisor, assigned, body="@agent look", internal=True)
    notification = Notification.objects.get(recipient=cast.agent, is_by_email=True)
    DBTaskResult.objects.all().delete()
    smtp_server.rcpt_replies = ["550 5.1.1 no such user"]
    outcome = send_notification_email.call(notification.pk)
    assert outcome.startswith("failed permanently: ") and "550 5.1.1" in outcome
    assert not DBTaskResult.objects.filter(status="READY").exists()
    notification.refresh_from_db()
    assert notification.emailed_at is None and smtp_server.delivered == []


def test_a_notification_email_is_in_the_recipients_language(cast, assigned, mailoutbox):
    cast.agent.language = "zh-hans"
    cast.agent.save()
    update_ticket(cast.supervisor, assigned, assignee=cast.supervisor)
    update_ticket(cast.supervisor, assigned, assignee=cast.agent)
    run_pending_jobs()
    assert "/notifications/preferences/" in mailoutbox[-1].body


def test_a_rolled_back_change_leaves_no_notification_and_no_mail(cast, assigned, mailoutbox):
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        add_message(cast.alice, assigned, body="Hello?")
        raise RuntimeError
    run_pending_jobs()
    assert Notification.objects.count() == 0
    assert mailoutbox == []


# --- live badge -----------------------------------------------------------------------------


def received(layer, channel) -> list[dict]:
    """Every event waiting on ``channel`` of the (real) channel layer."""
    import asyncio

    from asgiref.sync import async_to_sync

    async def drain() -> list[dict]:
        events: list[dict] = []
        while True:
            try:
                message = await asyncio.wait_for(layer.receive(channel), 0.2)
            except TimeoutError:
                return events
            events.append(message["event"])

    try:
        return async_to_sync(drain)()
    finally:
        # channels-redis keeps a per-channel queue bound to the event loop that first used it;
        # each async_to_sync call runs a new loop, so the next drain must start a fresh queue.
        buffers = getattr(layer, "receive_buffer", None)
        if buffers is not None:
            buffers.pop(channel, None)


def test_it_sends_the_recipients_badge_count_to_their_own_channel_after_commit(
    cast, make_ticket, django_capture_on_commit_callbacks
):
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(f"user.{cast.agent.pk}", channel)
    ticket = make_ticket()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        update_ticket(cast.supervisor, ticket, assignee=cast.agent)
        assert received(layer, channel) == []  # nothing before the commit
    for callback in callbacks:
        callback()
    assert {"kind": "notification", "unread": 1} in received(layer, channel)

    with django_capture_on_commit_callbacks(execute=True):
        actions.mark_all_read(cast.agent)
    assert received(layer, channel) == [{"kind": "notification", "unread": 0}]
