"""Ticket domain events (and the SLA's acknowledgement lapse) → routing. Registered in ``RoutingConfig.ready()``, after the SLA's
handlers (``INSTALLED_APPS`` order): the SLA clock has started when the rules run, and recomputes
on every change they make, inside the same transaction."""

from __future__ import annotations

from typing import cast

from kefu.routing import actions
from kefu.sla import events as sla_events
from kefu.tickets import events
from kefu.tickets.models import Message, Ticket


def on_ticket_created(event: events.TicketCreated) -> None:
    actions.route_new_ticket(cast(Ticket, event.ticket), cast(Message, event.message))


def on_ticket_changed(event: events.TicketChanged) -> None:
    if {"group", "complexity"} & set(event.changes):
        actions.on_ticket_changed(cast(Ticket, event.ticket), event.changes, event.actor)


def on_acknowledgement_lapsed(event: sla_events.AcknowledgementLapsed) -> None:
    actions.hand_over_lapsed_ticket(cast(Ticket, event.ticket), event.lapsed, event.reason)


def register() -> None:
    events.register(events.TicketCreated, on_ticket_created)
    events.register(events.TicketChanged, on_ticket_changed)
    sla_events.register(sla_events.AcknowledgementLapsed, on_acknowledgement_lapsed)
