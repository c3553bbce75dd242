"""Keyset pagination over (created_at, id), newest first, with opaque signed cursors.

A cursor names the last row of the previous page, so pages stay stable while new tickets arrive
and the cost of a page does not grow with its depth (no OFFSET).
"""

from __future__ import annotations

from datetime import datetime

from django.core import signing
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

CURSOR_SALT = "kefu.api.cursor"


def encode_cursor(row) -> str:
    return signing.dumps([row.created_at.isoformat(), row.pk], salt=CURSOR_SALT, compress=True)


def decode_cursor(raw: str) -> tuple[datetime, int]:
    try:
        created_at, pk = signing.loads(raw, salt=CURSOR_SALT)
        return datetime.fromisoformat(created_at), int(pk)
    except (signing.BadSignature, ValueError, TypeError):
        raise ValidationError(
            {"cursor": _("This cursor is not valid; use the next_cursor of a previous page.")}
        ) from None


def keyset_page(queryset: QuerySet, *, limit: int, cursor: str | None) -> tuple[list, str | None]:
    """One page of ``queryset`` (newest first) and the cursor of the next page, if any."""
    queryset = queryset.order_by("-created_at", "-id")
    if cursor:
        created_at, pk = decode_cursor(cursor)
        queryset = queryset.filter(
            Q(created_at__lt=created_at) | Q(created_at=created_at, pk__lt=pk)
        )
    rows = list(queryset[: limit + 1])
    if len(rows) > limit:
        return rows[:limit], encode_cursor(rows[limit - 1])
    return rows, None
