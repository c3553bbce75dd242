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
from datetime import datetime
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


def handlers_table() -> str:
    """The domain events section of docs/architecture.md: every event and its handlers in the
    order they run."""
    from kefu.lib.docs import is_test_code, markdown_table

    rows = [
        (
            f"`{event_type.__name__}`",
            ", ".join(
                f"`{h.__module__.removeprefix('kefu.')}.{h.__qualname__}`"
                for h in _handlers.get(event_type, [])
                if not is_test_code(h.__module__)
            )
            or "—",
        )
        for event_type in TicketEvent.__subclasses__()
    ]
    return markdown_table(("event", "handlers, in the order they run"), rows)
