"""Typed domain events published by ticket actions, and the one registry higher apps hook into.

Handlers run synchronously inside the action's transaction, in registration order (which follows
``INSTALLED_APPS``, since apps register in ``AppConfig.ready()``). An exception in a handler rolls
back the whole action. ``registered_handlers()`` lists every handler for docs and tests.
This is Kefu's only hook mechanism for business flow: no Django signals.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import models


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


E = TypeVar("E", bound=TicketEvent)
Handler = Callable[[Any], None]

_handlers: dict[type[TicketEvent], list[Handler]] = defaultdict(list)


def register(event_type: type[E], handler: Callable[[E], None]) -> None:
    if handler not in _handlers[event_type]:
        _handlers[event_type].append(handler)


def publish(event: TicketEvent) -> None:
    for handler in list(_handlers[type(event)]):
        handler(event)


def registered_handlers() -> dict[str, list[str]]:
    return {
        event_type.__name__: [f"{h.__module__}.{h.__qualname__}" for h in handlers]
        for event_type, handlers in _handlers.items()
    }
