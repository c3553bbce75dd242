"""Typed events accounts publishes for higher apps (see ``kefu.lib.events``).

Accounts sits below tickets, so it does not touch tickets: deactivating a user publishes
``UserDeactivated`` (tickets hands their open tickets over), deactivating a group publishes
``GroupDeactivating`` (tickets refuses while the group has open tickets).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kefu.lib.events import EventRegistry


@dataclass(frozen=True)
class UserDeactivated:
    """Published inside ``deactivate_user``'s transaction, before the user is marked inactive.

    Handlers hand the user's work over as the administrator chose (``reassign_group`` and/or
    ``reassign_to``; neither: keep it) and add what they did to ``report``, which becomes part
    of the audit entry (tickets reports ``tickets_handed_over`` and ``tickets_left_assigned``).
    """

    actor: Any  # a User, or None for the system
    user: Any
    reassign_group: Any = None
    reassign_to: Any = None
    report: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class GroupDeactivating:
    """Published by ``deactivate_group`` before the group is deactivated: a handler refuses by
    raising ``BusinessRuleError`` (tickets does while the group has open tickets)."""

    actor: Any
    group: Any


registry: EventRegistry[Any] = EventRegistry("accounts")
register = registry.register
publish = registry.publish
registered_handlers = registry.registered_handlers
