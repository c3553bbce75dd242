"""Typed domain events published by ticket actions, and their registry higher apps hook into.

The registry has the shape of every app's (``kefu.lib.events``): handlers run synchronously inside
the action's transaction, in registration order (which follows ``INSTALLED_APPS``, since apps
register in ``AppConfig.ready()``); an exception in a handler rolls back the whole action.
``registered_handlers()`` lists every handler for docs and tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import models

from kefu.lib.events import EventRegistry


@dataclass(frozen=True)
class TicketEvent:
    ticket: models.Model
    actor: Any  # a User, or None for the system


@dataclass(frozen=True)
class TicketCreated(TicketEvent):
    message: models.Model


@dataclass(frozen=True)
class TicketChanged(TicketEvent):
    """Any tracked field changed; ``changes`` maps field name to (old, new)."""

    changes: dict[str, tuple[Any, Any]]


@dataclass(frozen=True)
class TicketStateChanged(TicketEvent):
    old_state: str
    new_state: str


@dataclass(frozen=True)
class MessageAdded(TicketEvent):
    message: models.Model


@dataclass(frozen=True)
class TicketMerged(TicketEvent):
    """``merged`` was merged into ``ticket`` (the survivor): its messages and events moved there
    and it was closed. Apps holding per-ticket rows (participants, …) move them in a handler."""

    merged: models.Model


@dataclass(frozen=True)
class SlaWarning(TicketEvent):
    """An SLA ``target`` of the ticket has used the policy's warning share of its time.

    ``timeline_event`` is the ``sla_warning`` row just written; ``recipient_ids`` are the people
    the SLA engine names (the assignee, else the group's supervisors)."""

    target: str
    due_at: datetime
    timeline_event: models.Model
    recipient_ids: frozenset[int]


@dataclass(frozen=True)
class SlaBreached(TicketEvent):
    """An SLA ``target`` of the ticket passed its due time unmet (same fields as a warning)."""

    target: str
    due_at: datetime
    timeline_event: models.Model
    recipient_ids: frozenset[int]


@dataclass(frozen=True)
class TicketEscalated(TicketEvent):
    """The ticket reached escalation ``level`` (an SLA escalation level, an acknowledgement lapse
    or a person escalating it). ``recipient_ids``: the people the escalation names (assignee,
    supervisors, named users); ``to_group``: the group it was moved to, if it moved, whose agents
    hear of it too. ``timeline_event`` is the ``escalated`` row."""

    level: int
    timeline_event: models.Model
    recipient_ids: frozenset[int]
    to_group: models.Model | None


registry: EventRegistry[TicketEvent] = EventRegistry("tickets", base=TicketEvent)
register = registry.register
publish = registry.publish
registered_handlers = registry.registered_handlers
