"""Per-process snapshots of configuration that every ticket write reads and admins rarely change.

Opening a ticket consults the SLA policies, assignment rules, triggers, time rules, webhooks,
ticket types, the default group, custom fields and the triage switch. Read from the database
each time, that was about twenty queries per ticket; a snapshot costs one: reading the version
token.

The token lives in one row (``ConfigVersion``). Saving or deleting a row of a registered model
(``watch``) writes a new random token in the same transaction, so

- the writing process sees its own change at once (it reads its own uncommitted token);
- other processes see it when the writer commits (their next read finds a new token);
- a rolled-back change restores the old token, which no longer matches the snapshot taken
  during the change, so that snapshot is dropped too (a counter could repeat; a random token
  cannot).

This is cache invalidation, not business flow, which is why it uses Django's model signals:
they also catch the admin site and fixtures. A queryset ``update()`` or ``bulk_create`` sends no
signal: code that changes watched configuration that way calls ``config_changed()`` itself.

Snapshots hold model instances shared by every request in the process: treat them as read-only.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.db import connection, models
from django.db.models.signals import m2m_changed, post_delete, post_save

T = TypeVar("T")

_lock = threading.Lock()
_snapshots: dict[str, tuple[str, Any]] = {}
_VERSION_SQL = "SELECT token FROM kefu_lib_configversion WHERE id = 1"
_watched: set[type[models.Model]] = set()
_state_fields: dict[type[models.Model], frozenset[str]] = {}


def current_token() -> str | None:
    # Plain SQL: this runs several times per ticket write, and the ORM's query compilation
    # cost more than the round trip.
    with connection.cursor() as cursor:
        cursor.execute(_VERSION_SQL)
        row = cursor.fetchone()
    return row[0] if row else None


def snapshot(name: str, load: Callable[[], T]) -> T:
    """``load()``'s result, reused until watched configuration changes.

    With no version row (a database flushed by a test), nothing is reused.
    """
    token = current_token()
    if token is not None:
        with _lock:
            found = _snapshots.get(name)
        if found is not None and found[0] == token:
            return found[1]
    value = load()
    if token is not None:
        with _lock:
            _snapshots[name] = (token, value)
    return value


def config_changed() -> None:
    """Invalidate every snapshot, in every process, when the caller's transaction commits."""
    from kefu.lib.models import ConfigVersion

    token = secrets.token_hex(8)
    if not ConfigVersion.objects.filter(pk=1).update(token=token):
        ConfigVersion.objects.update_or_create(pk=1, defaults={"token": token})
    with _lock:
        _snapshots.clear()


def _on_change(sender, **kwargs) -> None:
    action = kwargs.get("action")
    if action is not None and not action.startswith("post_"):
        return
    update_fields = kwargs.get("update_fields")
    if update_fields and set(update_fields) <= _state_fields.get(sender, frozenset()):
        return
    config_changed()


def watch(*model_classes: type[models.Model], state_fields: Iterable[str] = ()) -> None:
    """Snapshots depend on these models: any save, delete or many-to-many change invalidates,
    except a ``save(update_fields=…)`` of ``state_fields`` only (running state such as a
    rotation pointer kept on a configuration row, which no snapshot reads)."""
    for model in model_classes:
        if state_fields:
            _state_fields[model] = frozenset(state_fields)
        if model in _watched:
            continue
        _watched.add(model)
        uid = f"kefu-config-{model._meta.label}"
        post_save.connect(_on_change, sender=model, dispatch_uid=uid + "-save")
        post_delete.connect(_on_change, sender=model, dispatch_uid=uid + "-delete")
        for field in model._meta.local_many_to_many:
            through = field.remote_field.through  # type: ignore[attr-defined]
            m2m_changed.connect(_on_change, sender=through, dispatch_uid=f"{uid}-{field.name}")
