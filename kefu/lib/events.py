"""Typed domain events: how an app low in the import order lets higher apps react to its actions.

The publishing app declares its events as frozen dataclasses and one ``EventRegistry`` in its
``events.py`` (``kefu.tickets.events``, ``kefu.accounts.events``, …); higher apps register handlers
in ``AppConfig.ready()``. Handlers run synchronously inside the publishing action's transaction, in
registration order (which follows ``INSTALLED_APPS``); an exception in a handler rolls back the
whole action. ``registered_handlers()`` lists every handler for docs and tests. This is Kefu's only
hook mechanism for business flow: no Django signals.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any, Generic, TypeVar

E = TypeVar("E")
F = TypeVar("F")

_registries: dict[str, EventRegistry[Any]] = {}


class EventRegistry(Generic[E]):
    """The handlers of one app's events, keyed by event type (``E`` is the events' base class)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._handlers: dict[type, list[Callable[[Any], None]]] = defaultdict(list)
        _registries[name] = self

    def register(self, event_type: type[F], handler: Callable[[F], None]) -> None:
        if handler not in self._handlers[event_type]:
            self._handlers[event_type].append(handler)

    def publish(self, event: E) -> None:
        for handler in list(self._handlers[type(event)]):
            handler(event)

    def registered_handlers(self) -> dict[str, list[str]]:
        return {
            event_type.__name__: [f"{h.__module__}.{h.__qualname__}" for h in handlers]
            for event_type, handlers in self._handlers.items()
            if handlers
        }


def all_registries() -> dict[str, EventRegistry[Any]]:
    """Every app's event registry by name, for docs and tests."""
    return dict(_registries)
