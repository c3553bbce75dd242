"""The ticket list exports with its current filters, search words and sort, every page of it;
customers get nothing."""

from __future__ import annotations

import csv
import io

from django.urls import reverse
from openpyxl import load_workbook

from kefu.tickets.models import Priority


def _content(response) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def _csv_rows(response) -> list[dict[str, str]]:
    text = _content(response).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def _xlsx_rows(response) -> list[list]:
    sheet = load_workbook(io.BytesIO(_content(response)), read_only=True).worksheets[0]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def test_the_ticket_export_has_the_lists_filters_and_every_page(client, cast, make_ticket):
    for n in range(30):
        make_ticket(cast.alice, subject=f"Printer {n}", priority=Priority.HIGH)
    make_ticket(cast.bob, subject="Low one", priority=Priority.LOW)
    make_ticket(cast.alice, subject="Quality only", group=cast.quality, priority=Priority.HIGH)
    client.force_login(cast.agent)
    response = client.get(
        reverse("tickets:export"),
        {"view": "open", "priority": "high", "sort": "number", "format": "csv"},
    )
    rows = _csv_rows(response)
    assert len(rows) == 30  # all pages; not the low one, not the group the agent is not in
    assert [row["subject"] for row in rows[:2]] == ["Printer 0", "Printer 1"]
    assert rows[0]["customer_identifier"] == "alice@acme.example"


def test_the_ticket_export_applies_search_words(client, cast, make_ticket):
    make_ticket(cast.alice, subject="打印机卡纸 paper jam")
    make_ticket(cast.alice, subject="Invoice question")
    client.force_login(cast.agent)
    response = client.get(
        reverse("tickets:export"), {"view": "open", "q": "invoice", "format": "xlsx"}
    )
    rows = _xlsx_rows(response)
    assert rows[0][:2] == ["number", "subject"]
    assert [row[1] for row in rows[1:]] == ["Invoice question"]


def test_the_export_button_in_the_htmx_filter_form_redirects_to_the_download(client, cast):
    client.force_login(cast.agent)
    response = client.get(
        reverse("tickets:export"),
        {"view": "open", "format": "csv"},
        HTTP_HX_REQUEST="true",
    )
    assert response["HX-Redirect"].startswith(reverse("tickets:export"))
    assert "format=csv" in response["HX-Redirect"]
    assert 'formaction="/tickets/export/"' in client.get(reverse("tickets:list")).content.decode()


def test_customer_cannot_export_tickets(client, cast, make_ticket):
    make_ticket(cast.alice)
    client.force_login(cast.alice)
    assert client.get(reverse("tickets:export")).status_code == 404


def test_the_ticket_export_has_category_complexity_and_custom_fields(client, cast, make_ticket):
    from kefu.tickets.categories import save_category
    from kefu.tickets.custom_fields import save_custom_field

    hardware = save_category(cast.admin, name="Hardware 硬件")
    display = save_category(cast.admin, name="Display", parent=hardware)
    save_custom_field(cast.admin, key="order_number", label="Order", kind="text")
    save_custom_field(
        cast.admin, key="bought_at", label="Shop", kind="multi_choice", choices=["Tmall", "JD"]
    )
    save_custom_field(cast.admin, key="units", label="Units", kind="number")
    make_ticket(
        category=display,
        complexity="complex",
        custom_fields={"order_number": "=SUM(A1)", "bought_at": ["Tmall", "JD"], "units": 3},
    )
    make_ticket(subject="Plain")
    client.force_login(cast.agent)

    rows = _csv_rows(client.get(reverse("tickets:export"), {"sort": "number", "format": "csv"}))
    assert [(row["category"], row["complexity"]) for row in rows] == [
        ("Hardware 硬件 › Display", "complex"),
        ("", ""),
    ]
    assert rows[0]["custom_fields.order_number"] == "'=SUM(A1)"  # never a live formula
    assert rows[0]["custom_fields.bought_at"] == "Tmall, JD"
    assert rows[0]["custom_fields.units"] == "3"
    assert rows[1]["custom_fields.units"] == ""

    sheet = _xlsx_rows(client.get(reverse("tickets:export"), {"sort": "number", "format": "xlsx"}))
    header = sheet[0]
    assert sheet[1][header.index("custom_fields.units")] == 3
