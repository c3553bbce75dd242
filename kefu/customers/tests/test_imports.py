"""Spreadsheet imports: dry-run preview with row-level errors, all-or-nothing by default, only
the valid rows when asked, upsert by natural key, the job and its progress, and who may import."""

from __future__ import annotations

import time
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from kefu.customers.actions import confirm_import, create_organization, start_import
from kefu.customers.models import Asset, Contact, ImportRun, ImportStatus, Organization, Product
from kefu.customers.tests.spreadsheets import ASSET_HEADER, asset_rows, csv_bytes, xlsx_bytes
from kefu.lib.jobs import run_pending_jobs

CONTACT_HEADER = ("name", "email", "phone", "wechat_id", "organization", "language", "notes")


def _run(cast, kind, filename, content, *, only_valid=False) -> ImportRun:
    run = start_import(cast.supervisor, kind=kind, filename=filename, content=content)
    confirm_import(cast.supervisor, run, only_valid_rows=only_valid)
    run_pending_jobs()
    run.refresh_from_db()
    return run


BROKEN_CONTACTS = csv_bytes(
    CONTACT_HEADER,
    [
        ["王五", "wangwu@example.com", "", "", "Globex", "zh-hans", ""],
        ["Bad mail", "not-an-address", "", "", "", "", ""],
        ["No org", "noorg@example.com", "", "", "Nowhere Ltd", "", ""],
        ["Nobody", "", "", "", "", "", ""],
        ["Twice", "WANGWU@example.com", "", "", "", "", ""],
        ["赵六", "", "+86 138 0000 0006", "", "", "", "phone only"],
    ],
)


def test_the_dry_run_reports_every_broken_row_with_its_column_and_writes_nothing(cast):
    run = start_import(
        cast.supervisor, kind="contacts", filename="contacts.csv", content=BROKEN_CONTACTS
    )
    errors = [(error["row"], error["column"]) for row in run.preview for error in row["errors"]]
    assert errors == [(3, "email"), (4, "organization"), (5, "email"), (6, "email")]
    assert [row["action"] for row in run.preview] == [
        "create",
        "error",
        "error",
        "error",
        "error",
        "create",
    ]
    assert run.error_count == 4 and run.total_rows == 6
    messages = {error["row"]: error["message"] for row in run.preview for error in row["errors"]}
    assert "not-an-address is not a valid e-mail address." in messages[3]
    assert "Nowhere Ltd" in messages[4]
    assert "row 2 has it already" in messages[6]
    assert not Contact.objects.filter(name__in=["王五", "赵六"]).exists()


def test_it_imports_nothing_when_any_row_has_an_error(cast):
    before = Contact.objects.count()
    run = _run(cast, "contacts", "contacts.csv", BROKEN_CONTACTS)
    assert run.status == ImportStatus.FAILED
    assert run.created_count == 0 and Contact.objects.count() == before
    assert sorted({error["row"] for error in run.errors}) == [3, 4, 5, 6]
    assert "Nothing was imported" in run.failure


def test_it_imports_only_the_valid_rows_when_asked(cast):
    run = _run(cast, "contacts", "contacts.csv", BROKEN_CONTACTS, only_valid=True)
    assert run.status == ImportStatus.DONE
    assert (run.created_count, run.updated_count, run.skipped_count) == (2, 0, 4)
    wang = Contact.objects.get(email="wangwu@example.com")
    assert (wang.name, wang.organization, wang.language) == ("王五", cast.globex, "zh-hans")
    assert Contact.objects.get(name="赵六").notes == "phone only"


def test_importing_the_same_rows_again_updates_them(cast):
    content = csv_bytes(
        ("name", "tier", "domain", "members_share_tickets"),
        [["Initech", "key_account", "initech.example", "yes"], ["Globex", "standard", "", ""]],
    )
    first = _run(cast, "organizations", "orgs.csv", content)
    assert (first.created_count, first.updated_count) == (1, 1)
    second = _run(cast, "organizations", "orgs.csv", content)
    assert (second.created_count, second.updated_count) == (0, 2)
    initech = Organization.objects.get(name="Initech")
    assert initech.tier == "key_account" and initech.members_share_tickets
    assert Organization.objects.filter(name="Initech").count() == 1


def test_empty_cells_leave_values_unchanged(cast):
    cast.bob.contact.notes = "keep me"
    cast.bob.contact.save()
    content = csv_bytes(("email", "name", "notes"), [["bob@globex.example", "Bob 鲍", ""]])
    _run(cast, "contacts", "c.csv", content)
    cast.bob.contact.refresh_from_db()
    assert (cast.bob.contact.name, cast.bob.contact.notes) == ("Bob 鲍", "keep me")


def test_it_reads_gb18030_csv_from_chinese_excel(cast):
    content = csv_bytes(
        ("model_number", "name", "warranty_months"), [["KF-200", "显示控制器", "36"]], "gb18030"
    )
    run = _run(cast, "products", "products.csv", content)
    assert run.status == ImportStatus.DONE
    assert Product.objects.get(model_number="KF-200").name == "显示控制器"


def test_it_reports_a_missing_required_column(cast):
    content = csv_bytes(("name",), [["no model"]])
    run = start_import(cast.supervisor, kind="products", filename="p.csv", content=content)
    columns = [error["column"] for error in run.preview[0]["errors"]]
    assert "model_number" in columns


def test_it_refuses_a_file_that_is_not_a_spreadsheet(cast):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="not an Excel"):
        start_import(cast.supervisor, kind="assets", filename="a.xlsx", content=b"hello")
    with pytest.raises(ValidationError, match="csv or .xlsx"):
        start_import(cast.supervisor, kind="assets", filename="a.pdf", content=b"%PDF")


def test_a_supervisor_imports_500_assets_from_excel_in_seconds(cast, printer):
    content = xlsx_bytes(
        ASSET_HEADER,
        asset_rows(
            500, model="LP-3300", organization="Acme 有限公司", contact="alice@acme.example"
        ),
    )
    started = time.monotonic()
    run = _run(cast, "assets", "assets.xlsx", content)
    elapsed = time.monotonic() - started
    assert run.status == ImportStatus.DONE, run.errors[:3]
    assert run.created_count == 500 and run.percent == 100
    assert Asset.objects.filter(contact=cast.alice.contact).count() == 500
    unit = Asset.objects.get(serial_number="SN-00010")
    assert unit.installed_at == date(2024, 1, 11)
    assert unit.warranty_ends_at == date(2026, 1, 11)  # from the product's 24 months
    assert elapsed < 30, f"500 assets took {elapsed:.1f} s"


def test_asset_rows_report_unknown_products_contacts_and_bad_dates(cast, printer):
    content = xlsx_bytes(
        ASSET_HEADER,
        [
            ["A-1", "NO-SUCH", "", "", None, None, "", ""],
            ["A-2", "LP-3300", "", "nobody@example.com", "31/02/2025", None, "", ""],
            ["A-3", "LP-3300", "", "", "2025-01-01", "2024-01-01", "", "broken"],
        ],
    )
    run = start_import(cast.supervisor, kind="assets", filename="a.xlsx", content=content)
    errors = [(e["row"], e["column"]) for row in run.preview for e in row["errors"]]
    assert errors == [
        (2, "product"),
        (3, "contact"),
        (3, "installed_at"),
        (4, "warranty_ends_at"),
        (4, "status"),
    ]


def test_the_import_pages_walk_from_upload_to_progress(client, cast):
    create_organization(cast.supervisor, name="Initech")
    client.force_login(cast.supervisor)
    upload = SimpleUploadedFile(
        "contacts.csv", csv_bytes(("email", "organization"), [["new@initech.example", "Initech"]])
    )
    response = client.post(reverse("customers:import_start"), {"kind": "contacts", "file": upload})
    run = ImportRun.objects.get()
    assert response["Location"] == reverse("customers:import", args=[run.pk])
    html = client.get(response["Location"]).content.decode()
    assert "1 rows checked" in html or "1 rows checked:" in html
    client.post(reverse("customers:import_confirm", args=[run.pk]))
    progress = client.get(reverse("customers:import_progress", args=[run.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in progress  # still queued: keeps polling
    run_pending_jobs()
    progress = client.get(reverse("customers:import_progress", args=[run.pk])).content.decode()
    assert "hx-trigger" not in progress and "1 new" in progress
    assert Contact.objects.get(email="new@initech.example").organization.name == "Initech"


def test_a_confirmed_import_cannot_be_started_twice(cast):
    content = csv_bytes(("model_number", "name"), [["X-1", "X"]])
    run = start_import(cast.supervisor, kind="products", filename="p.csv", content=content)
    confirm_import(cast.supervisor, run)
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        confirm_import(cast.supervisor, run)


def test_agents_and_customers_cannot_import(client, cast):
    client.force_login(cast.agent)  # staff without the role: 403; customers: 404
    assert client.get(reverse("customers:import_start")).status_code == 403
    client.force_login(cast.alice)
    assert client.get(reverse("customers:import_start")).status_code == 404
    run = start_import(
        cast.supervisor,
        kind="products",
        filename="p.csv",
        content=csv_bytes(("model_number", "name"), [["X", "Y"]]),
    )
    for user in (cast.agent, cast.alice):
        client.force_login(user)
        assert client.get(reverse("customers:import", args=[run.pk])).status_code == 404
        assert client.post(reverse("customers:import_confirm", args=[run.pk])).status_code == 404
    run.refresh_from_db()
    assert run.status == ImportStatus.PREVIEW


def test_nul_and_control_characters_in_csv_cells_are_cleaned_away(cast):
    """Issue 24: a NUL in a cell failed the import on PostgreSQL. (An .xlsx cannot hold them:
    XML has no NUL and openpyxl refuses to write the other control characters.)"""
    content = csv_bytes(
        ("na\x00me", *CONTACT_HEADER[1:]),
        [["Wang\x00 Wu\x0b", "wang\x00wu@example.com", "", "", "", "", "line one\nline\x01 two"]],
    )
    run = _run(cast, "contacts", "contacts.csv", content)
    assert run.status == ImportStatus.DONE, run.preview
    contact = Contact.objects.get(email="wangwu@example.com")
    assert (contact.name, contact.notes) == ("Wang Wu", "line one\nline two")
