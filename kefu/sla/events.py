"""Typed events the SLA publishes for higher apps (see ``kefu.lib.events``).

Routing sits above the SLA (its rules and shifts read SLA calendars), so the SLA does not call
routing: it publishes ``AcknowledgementLapsed`` and routing hands the ticket on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import models

from kefu.lib.events import EventRegistry


@dataclass(frozen=True)
class AcknowledgementLapsed:
    """``lapsed`` did not acknowledge ``ticket`` in time and the policy allows another agent to
    try. A handler may hand the ticket to someone else with ``update_ticket(None, …)`` under
    ``reason``; when ``lapsed`` still holds it afterwards, the SLA escalates the ticket."""

    ticket: models.Model
    lapsed: Any  # the User who let the acknowledgement lapse
    reason: str


registry: EventRegistry[AcknowledgementLapsed] = EventRegistry("sla")
register = registry.register
publish = registry.publish
registered_handlers = registry.registered_handlers
