"""Ticket domain events → the SLA clock. Registered in ``SlaConfig.ready()``; each runs inside
the ticket action's transaction, so the clock and the ticket change commit together."""

from __future__ import annotations

from typing import cast

from kefu.sla.actions import clock as actions
from kefu.tickets import events
from kefu.tickets.models import Ticket


def _ticket(event: events.TicketEvent) -> Ticket:
    return cast(Ticket, event.ticket)


def on_ticket_created(event: events.TicketCreated) -> None:
    actions.start_clock(_ticket(event))


def on_ticket_changed(event: events.TicketChanged) -> None:
    if {"priority", "type", "group", "assignee"} & set(event.changes):
        actions.record_change(_ticket(event), event.changes)


def on_state_changed(event: events.TicketStateChanged) -> None:
    actions.record_state_change(_ticket(event), event.old_state, event.new_state)


def on_message_added(event: events.MessageAdded) -> None:
    actions.record_message(_ticket(event), event.actor, event.message)


def register() -> None:
    events.register(events.TicketCreated, on_ticket_created)
    events.register(events.TicketChanged, on_ticket_changed)
    events.register(events.TicketStateChanged, on_state_changed)
    events.register(events.MessageAdded, on_message_added)
