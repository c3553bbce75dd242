"""Exports: the four customer lists round-trip through the import; customers get nothing (the
ticket list's export: kefu/tickets/tests/test_exports.py)."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from kefu.customers.actions import confirm_import, start_import, update_contact
from kefu.customers.models import Asset, Contact, ImportStatus
from kefu.lib.jobs import run_pending_jobs


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


def _reimport(cast, kind, filename, content):
    run = start_import(cast.supervisor, kind=kind, filename=filename, content=content)
    confirm_import(cast.supervisor, run)
    run_pending_jobs()
    run.refresh_from_db()
    return run


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_exported_contacts_import_again_unchanged(client, cast, fmt):
    update_contact(cast.agent, cast.carol.contact, phone="+86 138 0000 0001", notes="=1+1")
    client.force_login(cast.agent)
    response = client.get(reverse("customers:export", args=["contacts"]), {"format": fmt})
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    before = {
        c.pk: (c.name, c.email, c.phone, c.wechat_id, c.organization_id, c.notes)
        for c in Contact.objects.all()
    }
    run = _reimport(cast, "contacts", f"contacts.{fmt}", _content(response))
    assert run.status == ImportStatus.DONE, run.errors
    assert (run.created_count, run.updated_count) == (0, len(before))
    after = {
        c.pk: (c.name, c.email, c.phone, c.wechat_id, c.organization_id, c.notes)
        for c in Contact.objects.all()
    }
    assert after == before


def test_a_formula_in_a_cell_is_not_run_by_the_spreadsheet(client, cast):
    update_contact(cast.agent, cast.carol.contact, notes='=HYPERLINK("http://evil")')
    client.force_login(cast.agent)
    response = client.get(reverse("customers:export", args=["contacts"]), {"format": "csv"})
    carol = next(row for row in _csv_rows(response) if row["email"] == "carol@mail.example")
    assert carol["notes"].startswith("'=")


def test_a_control_character_stored_earlier_does_not_break_the_excel_export(client, cast):
    """A form post refuses only NUL; a vertical tab pasted from Word reached the database and
    made openpyxl raise IllegalCharacterError (issue 24)."""
    Contact.objects.filter(pk=cast.carol.contact.pk).update(notes="line\x0bbreak")
    client.force_login(cast.agent)
    response = client.get(reverse("customers:export", args=["contacts"]), {"format": "xlsx"})
    assert response.status_code == 200
    assert any("linebreak" in row for row in _xlsx_rows(response))


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_exported_assets_and_products_import_again_unchanged(
    client, cast, fmt, acme_printer, globex_printer
):
    client.force_login(cast.agent)
    products = client.get(reverse("customers:export", args=["products"]), {"format": fmt})
    assets = client.get(reverse("customers:export", args=["assets"]), {"format": fmt})
    fields = (
        "serial_number",
        "product_id",
        "organization_id",
        "contact_id",
        "installed_at",
        "warranty_ends_at",
        "installation_address",
        "status",
    )
    before = list(Asset.objects.order_by("pk").values_list(*fields))
    assert _reimport(cast, "products", f"p.{fmt}", _content(products)).updated_count == 1
    run = _reimport(cast, "assets", f"a.{fmt}", _content(assets))
    assert (run.status, run.updated_count, run.created_count) == (ImportStatus.DONE, 2, 0)
    assert list(Asset.objects.order_by("pk").values_list(*fields)) == before


def test_the_asset_export_follows_the_list_filters(client, cast, acme_printer, globex_printer):
    client.force_login(cast.agent)
    response = client.get(
        reverse("customers:export", args=["assets"]),
        {"format": "csv", "organization": cast.globex.pk},
    )
    assert [row["serial_number"] for row in _csv_rows(response)] == ["LP3300-0002"]


@pytest.mark.parametrize("kind", ["contacts", "organizations", "products", "assets"])
def test_customer_cannot_export(client, cast, kind):
    client.force_login(cast.alice)
    assert client.get(reverse("customers:export", args=[kind])).status_code == 404
