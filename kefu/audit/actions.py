"""Writing the audit log. ``record`` is the one stable entry point every app's actions call.

    from kefu.audit.actions import changes_for, record

    changes = changes_for(mailbox, values)          # {field: [old, new]} of what will change
    ...apply and save...
    record(actor, "mailbox.updated", mailbox, changes)

Call it inside the action's transaction, after the write: a rolled-back change leaves no entry.
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import models

from kefu.audit.context import current_ip
from kefu.audit.models import AuditEntry

MASK = "••••••"
# A change to a field whose name contains one of these is recorded as "changed", never its value.
SECRET_WORDS = ("password", "secret", "token", "api_key", "encryption_key", "private_key")


def is_secret(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in SECRET_WORDS)


def to_json(value: Any) -> Any:
    """A JSON-safe, human-readable form of a field value."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, Mapping):
        return {str(key): to_json(item) for key, item in value.items()}
    if isinstance(value, Iterable) and not isinstance(value, bytes):
        return [to_json(item) for item in value]
    return str(value)


def _mask(name: str, pair: Any) -> Any:
    if not is_secret(name):
        return to_json(pair)
    if isinstance(pair, list | tuple) and len(pair) == 2:
        return [MASK if pair[0] else "", MASK if pair[1] else ""]
    return MASK if pair else ""


def _comparable(value: Any) -> Any:
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, list | tuple | set | frozenset):
        return sorted(str(_comparable(item)) for item in value)
    return value


def changes_for(obj: models.Model | None, values: Mapping[str, Any]) -> dict[str, list[Any]]:
    """``{field: [old, new]}`` for each of ``values`` that differs from ``obj``'s current value
    (everything is new when ``obj`` is unsaved or ``None``). Call it *before* applying."""
    changes: dict[str, list[Any]] = {}
    for name, new in values.items():
        old = None
        if obj is not None and obj.pk is not None:
            try:
                old = getattr(obj, name)
            except (AttributeError, ValueError, models.ObjectDoesNotExist):
                old = None
            if isinstance(old, models.Manager):
                old = list(old.all())
        if _comparable(old) != _comparable(new):
            changes[name] = [old, new]
    return changes


def snapshot(obj: models.Model, names: Iterable[str]) -> dict[str, Any]:
    """The values of ``names`` on ``obj`` before a write (``None`` each for an unsaved object);
    ``changes_since`` compares them with the values after it. For actions that validate and set
    fields one by one, where ``changes_for`` would have to repeat the validation."""
    if obj.pk is None:
        return dict.fromkeys(names)
    return {name: getattr(obj, name) for name in names}


def changes_since(before: Mapping[str, Any], obj: models.Model) -> dict[str, list[Any]]:
    """``{field: [old, new]}`` for each field of ``before`` whose value on ``obj`` differs."""
    changes: dict[str, list[Any]] = {}
    for name, old in before.items():
        new = getattr(obj, name)
        if _comparable(old) != _comparable(new):
            changes[name] = [old, new]
    return changes


def record(
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    changes: Mapping[str, Any] | None = None,
    *,
    ip: str | None = None,
) -> AuditEntry:
    """Append one audit entry.

    ``actor``: the acting ``User``, or ``None`` for the operator at the command line / the system.
    ``action``: ``"<object>.<verb>"`` in the past tense, e.g. ``"user.deactivated"``,
    ``"routing_rule.updated"`` (see ``ACTION_LABELS`` for the known ones).
    ``obj``: the changed model instance, if any (its type, id and name are kept).
    ``changes``: ``{field: [old, new]}`` (from ``changes_for``) or ``{key: value}`` for context;
    values of secret-looking fields (passwords, tokens, keys) are masked.
    ``ip``: defaults to the address of the current request (set by ``AuditContextMiddleware``).
    """
    masked = {str(name): _mask(str(name), value) for name, value in (changes or {}).items()}
    return AuditEntry.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        actor_repr=(f"{actor.name} <{actor.email}>" if getattr(actor, "pk", None) else "")[:254],
        action=action[:60],
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None and obj.pk is not None else "",
        object_repr=str(obj)[:200] if obj is not None else "",
        changes=masked,
        ip=ip or current_ip(),
    )
