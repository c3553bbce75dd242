"""Typed events intake publishes for higher apps (see ``kefu.lib.events``).

Notifications sits above intake, so intake does not call it: when a failed mail has used up its
automatic retries, intake publishes ``InboundMailAbandoned`` and notifications tells the
administrators.
"""

from __future__ import annotations

from dataclasses import dataclass

from kefu.lib.events import EventRegistry


@dataclass(frozen=True)
class InboundMailAbandoned:
    """A failed inbound mail still fails after its last automatic retry (published by
    ``retry_failed_mail_once``). ``summary`` names the sender, subject and
    reason; ``link`` is the console page that lists failed mail."""

    inbound: object  # the InboundEmail
    summary: str
    link: str


registry: EventRegistry[InboundMailAbandoned] = EventRegistry("intake")
register = registry.register
publish = registry.publish
registered_handlers = registry.registered_handlers
