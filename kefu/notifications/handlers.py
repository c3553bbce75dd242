"""Ticket domain events → notifications and waiting alerts. Registered in
``NotificationsConfig.ready()``; each runs inside the ticket action's transaction."""

from __future__ import annotations

from typing import cast

from kefu.accounts.access import assignable_agents
from kefu.notifications import actions
from kefu.notifications.mentions import mentioned_users
from kefu.notifications.models import Kind
from kefu.tickets import events
from kefu.tickets.models import EventType, Message, Ticket, TicketEvent


def _ticket(event: events.TicketEvent) -> Ticket:
    return cast(Ticket, event.ticket)


def on_ticket_created(event: events.TicketCreated) -> None:
    ticket = _ticket(event)
    if ticket.assignee_id:
        actions.notify(Kind.ASSIGNED, ticket, [ticket.assignee_id], actor=event.actor)
    else:
        actions.start_waiting(ticket)


def _escalation_actor(ticket: Ticket, changes: dict) -> tuple[bool, object]:
    """Whether this group change is an escalation, and who escalated.

    The SLA engine and ``escalate_ticket`` write an ``escalated`` timeline row and then move the
    ticket with ``update_ticket``, which records one ``changed`` row per field before publishing
    this event: so the row just before those is the escalation, if any.
    """
    recent = list(
        TicketEvent.objects.filter(ticket=ticket)
        .order_by("-id")
        .select_related("actor")[: len(changes) + 1]
    )
    if len(recent) <= len(changes) or recent[len(changes)].type != EventType.ESCALATED:
        return False, None
    return True, recent[len(changes)].actor


def on_ticket_changed(event: events.TicketChanged) -> None:
    ticket = _ticket(event)
    changes = event.changes
    if "group" in changes:
        actions.regroup_waiting(ticket)
        escalated, escalated_by = _escalation_actor(ticket, changes)
        if escalated:
            members = assignable_agents(ticket.group).values_list("pk", flat=True)
            actions.notify(Kind.ESCALATED, ticket, members, actor=escalated_by or event.actor)  # type: ignore[arg-type]
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


def register() -> None:
    events.register(events.TicketCreated, on_ticket_created)
    events.register(events.TicketChanged, on_ticket_changed)
    events.register(events.MessageAdded, on_message_added)
