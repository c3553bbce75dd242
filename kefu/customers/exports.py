"""CSV and Excel exports of contacts, organisations, products and assets, and the export
machinery the ticket list's export (``kefu.tickets.exports``) uses too.

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
from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.utils import timezone

from kefu.customers.imports import COLUMNS, FORMULA_STARTS
from kefu.customers.models import Asset, Contact, ImportKind, Organization, Product
from kefu.lib.console import is_htmx
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


def requested_format(request) -> str:
    return "xlsx" if request.GET.get("format") == "xlsx" else "csv"


def download_redirect(request) -> HttpResponse | None:
    """A button in an htmx form asked for the file: tell htmx to load it as a normal request."""
    if is_htmx(request):
        return HttpResponse(headers={"HX-Redirect": request.get_full_path()})
    return None
