"""Ticket domain events → triggers, webhook subscriptions and time-rule schedules. Registered in
``AutomationConfig.ready()``; they run inside the ticket action's transaction, after SLA and
routing (``INSTALLED_APPS`` order), so triggers see the routed ticket.

Which trigger event a domain event is:
- ``TicketCreated`` → ``created``;
- ``TicketChanged`` → ``updated`` with its changes;
- ``TicketStateChanged`` not announced by a ``TicketChanged`` (a reply that reopened or opened
  the ticket) → ``updated`` with the state change;
- ``MessageAdded`` → ``customer_replied`` (a customer's message) or ``agent_replied`` (a staff
  member's public reply); internal notes and system messages are neither.
"""

from __future__ import annotations

from typing import Any, cast

from kefu.automation.actions.engine import run_triggers
from kefu.automation.actions.schedule import schedule_ticket
from kefu.automation.actions.webhooks import deliver_to_subscribers
from kefu.automation.models import TriggerEvent, WebhookEvent
from kefu.tickets import events
from kefu.tickets.models import Message, Ticket

# One action publishes related events with the same ticket object: update_ticket sends
# TicketChanged (with "state") and then TicketStateChanged for the same change; add_message sends
# TicketStateChanged and then MessageAdded. A note on that object links them, so a state change
# is reported once and a reply carries the state change it caused; the next action's events
# carry a fresh object, so nothing leaks between actions.
ANNOUNCED = "_automation_announced_state"
REPLY_STATE = "_automation_reply_state"


def _ticket(event: events.TicketEvent) -> Ticket:
    return cast(Ticket, event.ticket)


def on_ticket_created(event: events.TicketCreated) -> None:
    ticket = _ticket(event)
    schedule_ticket(ticket, ticket.state, ticket.created_at, new=True)
    deliver_to_subscribers(WebhookEvent.CREATED, ticket, message=cast(Message, event.message))
    run_triggers(TriggerEvent.CREATED, ticket, message=cast(Message, event.message))


def _updated(ticket: Ticket, changes: dict[str, tuple[Any, Any]]) -> None:
    deliver_to_subscribers(WebhookEvent.UPDATED, ticket, changes=changes)
    run_triggers(TriggerEvent.UPDATED, ticket, changes=changes)


def on_ticket_changed(event: events.TicketChanged) -> None:
    ticket = _ticket(event)
    if "state" in event.changes:
        old, new = event.changes["state"]
        setattr(ticket, ANNOUNCED, (str(old), str(new)))
    _updated(ticket, event.changes)


def on_state_changed(event: events.TicketStateChanged) -> None:
    ticket = _ticket(event)
    schedule_ticket(ticket, event.new_state)
    change = (str(event.old_state), str(event.new_state))
    if getattr(ticket, ANNOUNCED, None) == change:
        setattr(ticket, ANNOUNCED, None)
        return
    setattr(ticket, REPLY_STATE, change)
    _updated(ticket, {"state": change})


def on_message_added(event: events.MessageAdded) -> None:
    message = cast(Message, event.message)
    ticket = _ticket(event)
    changes: dict[str, tuple[Any, Any]] = {}
    if (state_change := getattr(ticket, REPLY_STATE, None)) is not None:
        changes["state"] = state_change
        setattr(ticket, REPLY_STATE, None)
    if message.is_from_customer:
        kind, hook_event = TriggerEvent.CUSTOMER_REPLIED, WebhookEvent.CUSTOMER_REPLIED
    elif not message.is_internal and message.author_user_id is not None:
        kind, hook_event = TriggerEvent.AGENT_REPLIED, WebhookEvent.AGENT_REPLIED
    else:
        return
    deliver_to_subscribers(hook_event, ticket, message=message, changes=changes)
    run_triggers(kind, ticket, changes=changes, message=message)


def register() -> None:
    events.register(events.TicketCreated, on_ticket_created)
    events.register(events.TicketChanged, on_ticket_changed)
    events.register(events.TicketStateChanged, on_state_changed)
    events.register(events.MessageAdded, on_message_added)
