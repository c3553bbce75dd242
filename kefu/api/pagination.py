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

from kefu.search.query import QueryError, parse
from kefu.tickets.search import apply_query, ranked_page

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


SEARCH_CURSOR_SALT = "kefu.api.search-cursor"


def search_page(
    user, queryset: QuerySet, query: str, limit: int, cursor: str | None
) -> tuple[list, str | None]:
    """One page of a search (``q``): ranked, so the cursor holds the query and a position in
    the ranked list (the list is the ``RANK_WINDOW`` newest matches; see docs/search.md)."""
    try:
        parsed = parse(query)
        if parsed.ticket_number is not None:
            return list(queryset.filter(number=parsed.ticket_number)[:1]), None
        queryset = apply_query(user, queryset, parsed)
    except QueryError as error:
        raise ValidationError({"q": str(error)}) from None
    if not parsed.include:  # filters only: the usual newest-first list and cursor
        return keyset_page(queryset, limit=limit, cursor=cursor)
    offset = 0
    if cursor:
        try:
            cursor_query, offset = signing.loads(cursor, salt=SEARCH_CURSOR_SALT)
        except (signing.BadSignature, ValueError, TypeError):
            cursor_query = None
        if cursor_query != query or not isinstance(offset, int) or offset < 0:
            raise ValidationError(
                {"cursor": _("This cursor is not valid; use the next_cursor of a previous page.")}
            )
    page = ranked_page(user, queryset, parsed, limit=limit, offset=offset)
    next_cursor = None
    if page.has_next:
        next_cursor = signing.dumps([query, offset + limit], salt=SEARCH_CURSOR_SALT)
    return page.tickets, next_cursor
