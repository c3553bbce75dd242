"""Typed domain events published by ticket actions, and their registry higher apps hook into.

The registry has the shape of every app's (``kefu.lib.events``): handlers run synchronously inside
the action's transaction, in registration order (which follows ``INSTALLED_APPS``, since apps
register in ``AppConfig.ready()``); an exception in a handler rolls back the whole action.
``registered_handlers()`` lists every handler for docs and tests.
"""

from __future__ import annotations

from dataclasses import dataclass
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


registry: EventRegistry[TicketEvent] = EventRegistry("tickets")
register = registry.register
publish = registry.publish
registered_handlers = registry.registered_handlers
