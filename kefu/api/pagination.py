"""The API's pages: newest first over (created_at, id) with the signed cursors of
``kefu.lib.pagination``, and ranked search pages. A bad cursor is a ``422`` naming ``cursor``.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from kefu.lib import pagination
from kefu.search.query import QueryError, parse
from kefu.tickets.search import apply_query, ranked_page


def keyset_page(queryset: QuerySet, *, limit: int, cursor: str | None) -> tuple[list, str | None]:
    """One page of ``queryset`` (newest first) and the cursor of the next page, if any."""
    try:
        page = pagination.keyset_page(queryset, order="-created_at", size=limit, cursor=cursor)
    except pagination.InvalidCursor:
        raise _invalid_cursor() from None
    return page.rows, page.next_cursor


def _invalid_cursor() -> ValidationError:
    return ValidationError(
        {"cursor": _("This cursor is not valid; use the next_cursor of a previous page.")}
    )


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
    try:
        offset = pagination.read_offset_cursor(cursor, query) if cursor else 0
    except pagination.InvalidCursor:
        raise _invalid_cursor() from None
    page = ranked_page(user, queryset, parsed, limit=limit, offset=offset)
    next_cursor = None
    if page.has_next:
        next_cursor = pagination.make_offset_cursor(query, offset + limit)
    return page.tickets, next_cursor
