"""CSV and Excel exports of contacts, organisations, products, assets and ticket lists.

An export is a list of columns (header, function of the row) over a queryset read in chunks.
CSV is streamed row by row; Excel is built with openpyxl's write-only workbook in a temporary
file that spills to disk, so neither holds the whole list in memory. The columns of the four
customer exports are the import's columns, so an export can be edited and imported again.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db.models import QuerySet
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone

from kefu.customers.imports import COLUMNS, FORMULA_STARTS
from kefu.customers.models import Asset, Contact, ImportKind, Organization, Product
from kefu.lib.text import clean_text

CHUNK = 2000


@dataclass(frozen=True)
class ExportColumn:
    header: str
    value: Callable[[Any], Any]


def _identifier(contact: Contact | None) -> str:
    return contact.identifier if contact is not None else ""


def _name(obj: Any) -> str:
    return obj.name if obj is not None else ""


def _getter(key: str) -> Callable[[Any], Any]:
    return lambda obj: getattr(obj, key)


SPECIAL: dict[str, dict[str, Callable[[Any], Any]]] = {
    ImportKind.CONTACTS: {"organization": lambda c: _name(c.organization)},
    ImportKind.ASSETS: {
        "product": lambda a: a.product.model_number,
        "organization": lambda a: _name(a.organization),
        "contact": lambda a: _identifier(a.contact),
    },
    ImportKind.ORGANIZATIONS: {
        "members_share_tickets": lambda o: "yes" if o.members_share_tickets else "no"
    },
}


def customer_columns(kind: str) -> list[ExportColumn]:
    special = SPECIAL.get(kind, {})
    return [
        ExportColumn(column.key, special.get(column.key) or _getter(column.key))
        for column in COLUMNS[kind]
    ]


def customer_queryset(kind: str) -> QuerySet:
    if kind == ImportKind.CONTACTS:
        return Contact.objects.select_related("organization").order_by("pk")
    if kind == ImportKind.ORGANIZATIONS:
        return Organization.objects.order_by("pk")
    if kind == ImportKind.PRODUCTS:
        return Product.objects.order_by("pk")
    return Asset.objects.select_related("product", "organization", "contact").order_by("pk")


def _text(value: Any, *, formula_starts: tuple[str, ...]) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
    if isinstance(value, (date, int, float)):
        return value
    # Older rows (and form posts, which only refuse NUL) may hold control characters that the
    # Excel format cannot store (openpyxl raises IllegalCharacterError).
    text = clean_text(str(value))
    # A cell starting with "=" (or, for CSV, "+", "-", "@") would run as a formula when opened.
    return "'" + text if text.startswith(formula_starts) else text


def rows_of(queryset: QuerySet, columns: list[ExportColumn]) -> Iterator[list[Any]]:
    """Rows read ``CHUNK`` at a time (prefetches, such as ticket tags, run per chunk)."""
    for obj in queryset.iterator(chunk_size=CHUNK):
        yield [column.value(obj) for column in columns]


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_response(filename: str, columns: list[ExportColumn], rows: Iterable[list[Any]]):
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield "\ufeff"  # so Excel opens UTF-8 (Chinese) text correctly
        yield writer.writerow([column.header for column in columns])
        for row in rows:
            yield writer.writerow(
                [
                    value.isoformat() if isinstance(value, (date, datetime)) else value
                    for value in (_text(v, formula_starts=FORMULA_STARTS) for v in row)
                ]
            )

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    response["Cache-Control"] = "private, no-store"
    return response


def xlsx_response(filename: str, columns: list[ExportColumn], rows: Iterable[list[Any]]):
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(filename[:31])
    sheet.append([column.header for column in columns])
    for row in rows:
        sheet.append([_text(value, formula_starts=("=",)) for value in row])
    handle = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 - FileResponse closes it
    workbook.save(handle)
    handle.seek(0)
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=f"{filename}.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Cache-Control"] = "private, no-store"
    return response


def export_response(
    fmt: str, filename: str, columns: list[ExportColumn], rows: Iterable[list[Any]]
):
    if fmt == "xlsx":
        return xlsx_response(filename, columns, rows)
    return csv_response(filename, columns, rows)


# --- ticket lists ----------------------------------------------------------------------------


def ticket_columns() -> list[ExportColumn]:
    """The ticket export's columns; the custom fields come last, one ``custom_fields.<key>``
    column each. The queryset needs ``category`` selected and ``prefetch_values()``."""
    from kefu.tickets.custom_fields import read_values
    from kefu.tickets.models import CustomField, category_tree

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
        ExportColumn("organization", lambda t: _name(t.organization)),
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
    from kefu.tickets.custom_fields import json_value

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
    from django.db.models.expressions import RawSQL

    from kefu.search.backends import backend_for
    from kefu.tickets.search import TICKET_INDEX, apply_query, search_columns

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
