"""Keyset pagination with signed cursors: the one paginator of every list (API, console, portal,
notifications).

A page is walked along one sort column plus ``id`` as tie-breaker, so pages stay stable while
rows arrive and a deep page costs what the first one does (no OFFSET). A cursor names the row a
page starts after (``next``) or before (``previous``); it is signed (``django.core.signing``) and
bound to the model and the order it was made for, so it is opaque to clients and a forged,
damaged or foreign cursor is refused (``InvalidCursor``) rather than reaching the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core import signing
from django.db.models import Q, QuerySet

SALT = "kefu.lib.pagination"
NEXT, PREVIOUS = "next", "previous"


class InvalidCursor(ValueError):
    """The cursor was not made by ``keyset_page`` for this list and order."""


@dataclass(frozen=True)
class Page:
    rows: list[Any]
    next_cursor: str | None
    previous_cursor: str | None


def keyset_page(queryset: QuerySet, *, order: str, size: int, cursor: str | None = None) -> Page:
    """One page of ``queryset`` in ``order`` (a column or annotation, ``-`` for descending)
    after or before ``cursor``; raises ``InvalidCursor`` for a cursor it did not make."""
    column = order.lstrip("-")
    scope = f"{queryset.model._meta.label_lower}:{order}"
    direction, value, pk = _read(cursor, scope) if cursor else (NEXT, None, None)
    backwards = direction == PREVIOUS
    descending = order.startswith("-") != backwards
    if cursor:
        op = "lt" if descending else "gt"
        queryset = queryset.filter(
            Q(**{f"{column}__{op}": value}) | Q(**{column: value, f"id__{op}": pk})
        )
    ordering = [f"-{column}", "-id"] if descending else [column, "id"]
    rows = list(queryset.order_by(*ordering)[: size + 1])
    has_more = len(rows) > size
    rows = rows[:size]
    if backwards:
        rows.reverse()
    has_next = True if backwards else has_more
    has_previous = has_more if backwards else bool(cursor)
    return Page(
        rows=rows,
        next_cursor=_make(scope, NEXT, column, rows[-1]) if rows and has_next else None,
        previous_cursor=_make(scope, PREVIOUS, column, rows[0]) if rows and has_previous else None,
    )


def _make(scope: str, direction: str, column: str, row: Any) -> str:
    value = getattr(row, column)
    kind = "datetime" if isinstance(value, datetime) else "value"
    if kind == "datetime":
        value = value.isoformat()
    return signing.dumps([scope, direction, kind, value, row.pk], salt=SALT, compress=True)


def _read(token: str, scope: str) -> tuple[str, Any, int]:
    try:
        cursor_scope, direction, kind, value, pk = signing.loads(token, salt=SALT)
        if kind == "datetime":
            value = datetime.fromisoformat(value)
    except (signing.BadSignature, ValueError, TypeError):
        raise InvalidCursor(token) from None
    if cursor_scope != scope or direction not in (NEXT, PREVIOUS) or not isinstance(pk, int):
        raise InvalidCursor(token)
    return direction, value, pk


def make_offset_cursor(scope: str, offset: int) -> str:
    """A signed position in a ranked list (search results), bound to ``scope`` (the query):
    ranking has no stable column to walk, so these pages step by offset within a bounded
    window."""
    return signing.dumps([scope, offset], salt=SALT + ".offset")


def read_offset_cursor(token: str, scope: str) -> int:
    try:
        cursor_scope, offset = signing.loads(token, salt=SALT + ".offset")
    except (signing.BadSignature, ValueError, TypeError):
        raise InvalidCursor(token) from None
    if cursor_scope != scope or not isinstance(offset, int) or offset < 0:
        raise InvalidCursor(token)
    return offset
