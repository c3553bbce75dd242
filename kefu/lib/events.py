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

    def __init__(self, name: str, base: type | None = None) -> None:
        self.name = name
        self.base = base  # the events' common base class, if any: lists events nobody handles
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

    def event_types(self) -> list[type]:
        """Every declared event (subclasses of ``base``) and every event with a handler."""
        declared: list[type] = list(self.base.__subclasses__()) if self.base else []
        return declared + [t for t in self._handlers if t not in declared]

    def handlers_of(self, event_type: type) -> list[Callable[[Any], None]]:
        return list(self._handlers.get(event_type, []))


def all_registries() -> dict[str, EventRegistry[Any]]:
    """Every app's event registry by name, for docs and tests."""
    return dict(_registries)


def handlers_table() -> str:
    """The domain events section of docs/architecture.md: every app's events and their
    handlers, in the order they run."""
    from kefu.lib.docs import is_test_code, markdown_table

    rows = []
    for name, registry in _registries.items():
        if is_test_code(type(registry).__module__) or name.startswith("test"):
            continue
        for event_type in registry.event_types():
            if is_test_code(event_type.__module__):
                continue
            handlers = [
                f"`{h.__module__.removeprefix('kefu.')}.{h.__qualname__}`"
                for h in registry.handlers_of(event_type)
                if not is_test_code(h.__module__)
            ]
            rows.append((f"`{name}`", f"`{event_type.__name__}`", ", ".join(handlers) or "—"))
    return markdown_table(("app", "event", "handlers, in the order they run"), rows)
