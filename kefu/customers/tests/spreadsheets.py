"""Sample spreadsheets built on the fly for the import tests (no committed data files)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import Any


def xlsx_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]], encoding="utf-8") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


ASSET_HEADER = (
    "serial_number",
    "product",
    "organization",
    "contact",
    "installed_at",
    "warranty_ends_at",
    "installation_address",
    "status",
)


def asset_rows(count: int, *, model: str, organization: str, contact: str = "") -> list[list]:
    """``count`` units of ``model``, installed a day apart from 2024-01-01 (real Excel dates)."""
    start = date(2024, 1, 1)
    return [
        [
            f"SN-{index:05d}",
            model,
            organization,
            contact,
            start + timedelta(days=index),
            None,
            f"上海市浦东新区张江路 {index} 号",
            "in_service",
        ]
        for index in range(count)
    ]
