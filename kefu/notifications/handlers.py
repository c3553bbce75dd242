"""Ticket domain events → notifications and waiting alerts. Registered in
``NotificationsConfig.ready()``; each runs inside the ticket action's transaction."""

from __future__ import annotations

from typing import cast

from kefu.accounts.access import assignable_agents
from kefu.accounts.models import Group
from kefu.intake import events as intake_events
from kefu.notifications import actions
from kefu.notifications.mentions import mentioned_users
from kefu.notifications.models import Kind
from kefu.tickets import events
from kefu.tickets.models import Message, Ticket, TicketEvent


def _ticket(event: events.TicketEvent) -> Ticket:
    return cast(Ticket, event.ticket)


def on_ticket_created(event: events.TicketCreated) -> None:
    ticket = _ticket(event)
    if ticket.assignee_id:
        actions.notify(Kind.ASSIGNED, ticket, [ticket.assignee_id], actor=event.actor)
    else:
        actions.start_waiting(ticket)


def on_ticket_changed(event: events.TicketChanged) -> None:
    ticket = _ticket(event)
    changes = event.changes
    if "group" in changes:
        actions.regroup_waiting(ticket)
    if "assignee" in changes:
        new_assignee = changes["assignee"][1]
        if new_assignee is not None:
            actions.stop_waiting(ticket)
            actions.notify(Kind.ASSIGNED, ticket, [new_assignee.pk], actor=event.actor)
        else:
            actions.restart_waiting_if_unanswered(ticket)
    if "state" in changes and ticket.state not in actions.WAITING_STATES:
        actions.stop_waiting(ticket)


def on_message_added(event: events.MessageAdded) -> None:
    ticket = _ticket(event)
    message = cast(Message, event.message)
    if message.author_contact_id is not None:
        if ticket.assignee_id:
            actions.notify(
                Kind.CUSTOMER_REPLIED,
                ticket,
                [ticket.assignee_id],
                actor=event.actor,
                message=message,
            )
        else:
            actions.start_waiting(ticket)
    elif message.is_internal:
        if event.actor is not None:
            mentioned = [user.pk for user in mentioned_users(message.body_text, ticket)]
            actions.notify(Kind.MENTIONED, ticket, mentioned, actor=event.actor, message=message)
    elif event.actor is not None:
        actions.stop_waiting(ticket)  # a person answered the customer


def on_sla_warning(event: events.SlaWarning) -> None:
    actions.notify(
        Kind.SLA_WARNING,
        _ticket(event),
        event.recipient_ids,
        actor=event.actor,
        event=cast(TicketEvent, event.timeline_event),
    )


def on_sla_breached(event: events.SlaBreached) -> None:
    actions.notify(
        Kind.SLA_BREACHED,
        _ticket(event),
        event.recipient_ids,
        actor=event.actor,
        event=cast(TicketEvent, event.timeline_event),
    )


def on_ticket_escalated(event: events.TicketEscalated) -> None:
    """The people the escalation names and, when it moved the ticket, the new group's agents:
    one notification each."""
    recipients = set(event.recipient_ids)
    if event.to_group is not None:
        recipients.update(
            assignable_agents(cast(Group, event.to_group)).values_list("pk", flat=True)
        )
    actions.notify(
        Kind.ESCALATED,
        _ticket(event),
        recipients,
        actor=event.actor,
        event=cast(TicketEvent, event.timeline_event),
    )


def on_inbound_mail_abandoned(event: intake_events.InboundMailAbandoned) -> None:
    actions.notify_admins(Kind.MAIL_FAILED, summary=event.summary, link=event.link)


def register() -> None:
    intake_events.register(intake_events.InboundMailAbandoned, on_inbound_mail_abandoned)
    events.register(events.TicketCreated, on_ticket_created)
    events.register(events.TicketChanged, on_ticket_changed)
    events.register(events.MessageAdded, on_message_added)
    events.register(events.SlaWarning, on_sla_warning)
    events.register(events.SlaBreached, on_sla_breached)
    events.register(events.TicketEscalated, on_ticket_escalated)
