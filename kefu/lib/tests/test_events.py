"""The typed-event registry every app's events.py uses, and the handlers wired at start-up."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from kefu.lib.events import EventRegistry, all_registries


@dataclass(frozen=True)
class Happened:
    what: str


@dataclass(frozen=True)
class Other:
    what: str


def test_it_runs_handlers_in_registration_order_once_each():
    registry: EventRegistry[object] = EventRegistry("test-order")
    seen: list[str] = []

    def first(event: Happened) -> None:
        seen.append(f"first {event.what}")

    def second(event: Happened) -> None:
        seen.append(f"second {event.what}")

    registry.register(Happened, first)
    registry.register(Happened, second)
    registry.register(Happened, first)  # a second ready() must not double it
    registry.publish(Happened("a"))
    registry.publish(Other("b"))  # nobody listens: nothing runs
    assert seen == ["first a", "second a"]
    assert registry.registered_handlers() == {
        "Happened": [f"{__name__}.{first.__qualname__}", f"{__name__}.{second.__qualname__}"]
    }


def test_a_handlers_error_reaches_the_publisher():
    registry: EventRegistry[object] = EventRegistry("test-error")

    def refuse(event: Happened) -> None:
        raise ValueError(event.what)

    registry.register(Happened, refuse)
    with pytest.raises(ValueError, match="no"):
        registry.publish(Happened("no"))


def test_lower_apps_events_are_answered_by_the_higher_apps():
    handlers = {name: registry.registered_handlers() for name, registry in all_registries().items()}
    assert handlers["accounts"] == {
        "UserDeactivated": ["kefu.tickets.handlers.on_user_deactivated"],
        "GroupDeactivating": ["kefu.tickets.handlers.on_group_deactivating"],
    }
    assert handlers["customers"] == {"ContactsMerged": ["kefu.tickets.handlers.on_contacts_merged"]}
    assert handlers["sla"] == {
        "AcknowledgementLapsed": ["kefu.routing.handlers.on_acknowledgement_lapsed"]
    }
    assert "kefu.sla.handlers.on_ticket_created" in handlers["tickets"]["TicketCreated"]
