"""The ticket list as a CSV or Excel file: its columns, and every ticket matching the list's
search (the export machinery is ``kefu.customers.exports``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

from kefu.customers.exports import ExportColumn
from kefu.search.backends import backend_for
from kefu.tickets.custom_fields import json_value, read_values
from kefu.tickets.models import CustomField, category_tree
from kefu.tickets.search import TICKET_INDEX, apply_query, search_columns


def ticket_columns() -> list[ExportColumn]:
    """The ticket export's columns; the custom fields come last, one ``custom_fields.<key>``
    column each. The queryset needs ``category`` selected and ``prefetch_values()``."""
    category_paths = {
        category.pk: path for category, _depth, path in category_tree(active_only=False)
    }
    custom_fields = list(CustomField.objects.order_by("position", "label", "pk"))

    def tags(ticket: Any) -> str:
        return ", ".join(sorted(tag.name for tag in ticket.tags.all()))

    def custom_value(key: str) -> Callable[[Any], Any]:
        return lambda ticket: _custom_cell(read_values(ticket).get(key))

    return [
        ExportColumn("number", lambda t: t.number),
        ExportColumn("subject", lambda t: t.subject),
        ExportColumn("state", lambda t: t.state),
        ExportColumn("priority", lambda t: t.priority),
        ExportColumn("type", lambda t: t.type.key),
        ExportColumn("category", lambda t: category_paths.get(t.category_id, "")),
        ExportColumn("complexity", lambda t: t.complexity),
        ExportColumn("channel", lambda t: t.channel),
        ExportColumn("customer", lambda t: t.contact.name),
        ExportColumn("customer_identifier", lambda t: t.contact.identifier),
        ExportColumn("organization", lambda t: t.organization.name if t.organization_id else ""),
        ExportColumn("group", lambda t: t.group.name),
        ExportColumn("assignee", lambda t: str(t.assignee) if t.assignee_id else ""),
        ExportColumn("asset", lambda t: t.asset.serial_number if t.asset_id else ""),
        ExportColumn("tags", tags),
        ExportColumn("created_at", lambda t: t.created_at),
        ExportColumn("updated_at", lambda t: t.updated_at),
        ExportColumn("first_response_at", lambda t: t.first_response_at),
        ExportColumn("resolved_at", lambda t: t.resolved_at),
        ExportColumn("closed_at", lambda t: t.closed_at),
        *(
            ExportColumn(f"custom_fields.{field.key}", custom_value(field.key))
            for field in custom_fields
        ),
    ]


def _custom_cell(value: Any) -> Any:
    """A custom field value as a cell: options joined, a checkbox as yes/no, numbers as numbers."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(value)
    if isinstance(value, date):
        return value
    return json_value(value)


def tickets_matching(user, tickets: QuerySet, parsed) -> QuerySet:
    """Every ticket matching a parsed list search (``apply_query``'s filters, then each word or
    phrase, then the exclusions) — unranked and without the ranking window, because an export
    wants all matches, not the best page."""
    if parsed.ticket_number is not None:
        return tickets.filter(number=parsed.ticket_number)
    tickets = apply_query(user, tickets, parsed)
    if not parsed.include:
        return tickets  # apply_query has handled the exclusions
    backend, columns = backend_for(), search_columns(user)
    for phrase in parsed.include:
        sql, params = backend.matching_ids_sql(TICKET_INDEX, [phrase], columns=columns)
        tickets = tickets.filter(pk__in=RawSQL(sql, params))  # noqa: S611 - parameters
    if parsed.exclude:
        sql, params = backend.matching_ids_sql(TICKET_INDEX, parsed.exclude, columns=columns)
        tickets = tickets.exclude(pk__in=RawSQL(sql, params))  # noqa: S611 - parameters
    return tickets
