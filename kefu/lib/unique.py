"""Find-or-create on a unique key, safe when two writers race for the same key.

Looking a row up and inserting it when missing is a race: two requests for the same new key
(two mails from one new customer, arriving together) both find nothing, and the second insert
hits the unique index. ``get_or_insert`` is the one shape every such write uses: the insert runs
in a savepoint, and when it loses the race the savepoint is rolled back (the caller's
transaction stays usable) and the winner's row is read again.

On PostgreSQL the losing insert waits for the winner's transaction; once that commits, the
re-read (READ COMMITTED: a fresh snapshot per statement) sees its row. On SQLite writers are
serialised by ``transaction_mode="IMMEDIATE"``, so the race cannot happen there, but the shape
is the same.

Django's ``QuerySet.get_or_create`` is this same shape (savepoint, re-read on IntegrityError)
when its keyword arguments are exactly the unique key (tags by name, ticket participants,
automatic mails by dedup key) and stays in use there; ``get_or_insert`` is for look-ups that are
not a plain equality on the key — contacts by any of three identifiers, case-insensitive names
and serial numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.db import IntegrityError, transaction
from django.db.models import Model

T = TypeVar("T")


def get_or_insert(find: Callable[[], T | None], insert: Callable[[], T]) -> tuple[T, bool]:
    """``(row, True)`` when ``insert`` created it, ``(row, False)`` when ``find`` found it —
    before the insert, or after a concurrent writer won the unique key.

    ``find`` must look the row up by every unique key ``insert`` may collide on. An
    ``IntegrityError`` that ``find`` cannot explain (another constraint) is raised unchanged.
    """
    found = find()
    if found is not None:
        return found, False
    try:
        with transaction.atomic():
            return insert(), True
    except IntegrityError:
        found = find()
        if found is None:
            raise
        return found, False


M = TypeVar("M", bound=Model)


def insert_new(row: M, find: Callable[[], Model | None], clash: Exception) -> M:
    """Save the unsaved ``row``, or raise ``clash`` (a clear ``ValidationError``) when ``find``
    shows its unique key is taken — checked before the insert and again if a concurrent
    writer took the key meanwhile, so the loser gets the message, never a database error."""

    def insert() -> M:
        row.save()
        return row

    _found, created = get_or_insert(find, insert)
    if not created:
        raise clash
    return row
