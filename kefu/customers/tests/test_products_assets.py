"""Products with their documents, assets with warranty and service history, and the portal's
"My products" page."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from kefu.customers.actions import create_asset, update_asset
from kefu.customers.models import Asset, Product, ProductDocument, WarrantyStatus, add_months


def test_months_are_added_by_the_calendar():
    assert add_months(date(2025, 1, 31), 1) == date(2025, 2, 28)
    assert add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)
    assert add_months(date(2025, 11, 15), 3) == date(2026, 2, 15)


def test_the_warranty_defaults_to_installation_plus_the_products_months(cast, acme_printer):
    assert acme_printer.warranty_ends_at == date(2027, 1, 10)
    with time_machine.travel(date(2027, 1, 10)):
        assert acme_printer.warranty_status() == WarrantyStatus.IN_WARRANTY
    with time_machine.travel(date(2027, 1, 11)):
        assert acme_printer.warranty_status() == WarrantyStatus.EXPIRED


def test_a_new_installation_date_moves_a_computed_warranty_but_not_a_given_one(cast, acme_printer):
    update_asset(cast.agent, acme_printer, installed_at=date(2025, 6, 1))
    assert acme_printer.warranty_ends_at == date(2027, 6, 1)
    update_asset(cast.agent, acme_printer, warranty_ends_at=date(2030, 1, 1))
    update_asset(cast.agent, acme_printer, installed_at=date(2025, 7, 1))
    assert acme_printer.warranty_ends_at == date(2030, 1, 1)


def test_it_refuses_a_duplicate_serial_number_and_a_warranty_before_installation(
    cast, printer, acme_printer
):
    with pytest.raises(ValidationError, match="exists already"):
        create_asset(cast.agent, serial_number="lp3300-0001", product=printer)
    with pytest.raises(ValidationError, match="cannot end before"):
        create_asset(
            cast.agent,
            serial_number="X-1",
            product=printer,
            installed_at=date(2025, 1, 1),
            warranty_ends_at=date(2024, 1, 1),
        )


def test_an_assets_organisation_defaults_to_its_contacts(cast, acme_printer):
    assert acme_printer.organization == cast.acme


@time_machine.travel(date(2026, 6, 1))
def test_the_asset_page_shows_the_service_history_newest_first(
    client, cast, make_ticket, acme_printer
):
    first = make_ticket(cast.alice, subject="Paper jam 卡纸", asset=acme_printer)
    second = make_ticket(cast.alan, subject="Toner empty", asset=acme_printer)
    make_ticket(cast.alice, subject="Unrelated")
    client.force_login(cast.agent)
    response = client.get(reverse("customers:asset", args=[acme_printer.pk]))
    assert [t.pk for t in response.context["history"]] == [second.pk, first.pk]
    html = response.content.decode()
    assert "In warranty until" in html and "Unrelated" not in html


def test_it_creates_and_edits_assets_from_forms(client, cast, printer):
    client.force_login(cast.agent)
    response = client.post(
        reverse("customers:asset_new"),
        {
            "serial_number": " KF 200-9 ",
            "product": printer.pk,
            "contact": cast.bob.contact.pk,
            "installed_at": "2025-03-01",
            "status": "in_service",
        },
    )
    asset = Asset.objects.get(serial_number="KF200-9")
    assert response["Location"] == reverse("customers:asset", args=[asset.pk])
    assert (asset.organization, asset.warranty_ends_at) == (cast.globex, date(2027, 3, 1))
    client.post(
        reverse("customers:asset_edit", args=[asset.pk]),
        {"serial_number": "KF200-9", "product": printer.pk, "status": "in_repair"},
    )
    asset.refresh_from_db()
    assert asset.status == "in_repair" and asset.contact is None


def test_the_asset_list_filters_by_warranty(client, cast, acme_printer, globex_printer):
    client.force_login(cast.agent)
    with time_machine.travel(date(2026, 6, 1)):
        response = client.get(reverse("customers:assets"), {"warranty": "expired"})
    assert [a.serial_number for a in response.context["page"]] == ["LP3300-0002"]


def test_it_stores_and_serves_a_product_manual_to_staff_only(client, cast, printer):
    client.force_login(cast.agent)
    upload = SimpleUploadedFile("manual.pdf", b"%PDF-1.4 manual", content_type="application/pdf")
    client.post(
        reverse("customers:document_upload", args=[printer.pk]),
        {"title": "用户手册", "file": upload},
    )
    document = ProductDocument.objects.get(product=printer)
    assert document.title == "用户手册" and document.size == 15
    response = client.get(reverse("customers:document", args=[document.pk]))
    assert response.status_code == 200 and b"".join(response.streaming_content).startswith(b"%PDF")
    client.force_login(cast.alice)
    assert client.get(reverse("customers:document", args=[document.pk])).status_code == 404


def test_it_refuses_a_blocked_document_type(client, cast, printer):
    client.force_login(cast.agent)
    upload = SimpleUploadedFile("setup.exe", b"MZ", content_type="application/octet-stream")
    response = client.post(
        reverse("customers:document_upload", args=[printer.pk]), {"file": upload}
    )
    assert response.status_code == 422
    assert not ProductDocument.objects.exists()


def test_it_creates_and_deactivates_a_product(client, cast):
    client.force_login(cast.agent)
    client.post(
        reverse("customers:product_new"),
        {"model_number": "KF-200", "name": "显示控制器", "warranty_months": "36"},
    )
    product = Product.objects.get(model_number="KF-200")
    client.post(reverse("customers:product_activate", args=[product.pk]), {"active": "0"})
    product.refresh_from_db()
    assert not product.is_active
    html = client.get(reverse("customers:products"), {"status": "inactive"}).content.decode()
    assert "KF-200" in html


@pytest.mark.parametrize("name", ["products", "assets", "product_new", "asset_new"])
def test_customer_cannot_open_product_and_asset_pages(client, cast, name):
    client.force_login(cast.bob)
    assert client.get(reverse(f"customers:{name}")).status_code == 404


def test_customer_cannot_open_an_asset_page(client, cast, acme_printer):
    client.force_login(cast.alice)
    assert client.get(reverse("customers:asset", args=[acme_printer.pk])).status_code == 404


# --- portal ----------------------------------------------------------------------------------


def test_customers_see_their_own_and_their_shared_organisations_products(
    client, cast, acme_printer, globex_printer
):
    client.force_login(cast.alan)  # Acme shares tickets: Alan sees Alice's printer
    response = client.get(reverse("portal:products"))
    assert [a.serial_number for a in response.context["assets"]] == ["LP3300-0001"]
    assert "In warranty until" in response.content.decode() or "Warranty expired" in (
        response.content.decode()
    )


def test_customer_cannot_see_a_colleagues_products_without_sharing(client, cast, globex_printer):
    client.force_login(cast.bob)  # Globex does not share: Bella's printer stays hers
    response = client.get(reverse("portal:products"))
    assert response.context["assets"] == []
    client.force_login(cast.bella)
    assert [a.serial_number for a in client.get(reverse("portal:products")).context["assets"]] == [
        "LP3300-0002"
    ]


def test_staff_are_sent_from_my_products_to_the_console(client, cast):
    client.force_login(cast.agent)
    assert client.get(reverse("portal:products")).status_code == 302
