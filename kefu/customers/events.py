"""Typed events customers publishes for higher apps (see ``kefu.lib.events``).

Customers sits below tickets: a merge moves every row that points to the duplicate, and the
apps whose rows moved add their own history (tickets: a timeline row, the search index).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import models

from kefu.lib.events import EventRegistry


@dataclass(frozen=True)
class ContactsMerged:
    """``duplicate`` was merged into ``survivor`` (published at the end of ``merge_contacts``,
    inside its transaction). ``moved`` lists the primary keys of the rows, by model, that
    pointed to the duplicate and now point to the survivor; ``duplicate_name`` is the
    duplicate's name before the merge."""

    actor: Any  # a User, or None for the system
    duplicate: models.Model
    survivor: models.Model
    duplicate_name: str
    moved: dict[type[models.Model], list[int]]


registry: EventRegistry[Any] = EventRegistry("customers")
register = registry.register
publish = registry.publish
registered_handlers = registry.registered_handlers
