"""/api/v1/contacts, /organizations, /products and /assets: CRUD, filters, cursor pages, merge,
deactivation, and the outsider cases."""

from __future__ import annotations

from datetime import date

import pytest

from kefu.api.tests.conftest import error_fields
from kefu.customers.actions import create_contact
from kefu.customers.models import Asset, Contact, Organization, Product
from kefu.tickets.models import Ticket

ASSET_KEYS = {
    "id",
    "serial_number",
    "product",
    "organization",
    "contact",
    "installed_at",
    "warranty_ends_at",
    "installation_address",
    "status",
    "warranty_status",
}


# --- contacts --------------------------------------------------------------------------------


def test_staff_create_read_change_and_deactivate_a_contact(cast, api_as):
    api = api_as(cast.agent)
    response = api.post(
        "/contacts",
        {"name": "周杰", "email": "Zhou@Example.com", "organization": cast.globex.pk},
    )
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["email"] == "zhou@example.com"
    assert data["organization"] == {"id": cast.globex.pk, "name": "Globex"}
    contact_id = data["id"]
    response = api.patch(f"/contacts/{contact_id}", {"wechat_id": "zhoujie", "notes": "VIP"})
    assert response.json()["wechat_id"] == "zhoujie" and response.json()["notes"] == "VIP"
    assert api.post(f"/contacts/{contact_id}/deactivate").json()["is_active"] is False
    assert api.get(f"/contacts/{contact_id}").json()["is_active"] is False
    assert Contact.objects.filter(pk=contact_id).exists()  # never deleted


def test_it_answers_422_for_a_taken_identifier_and_an_unknown_field(cast, api_as):
    api = api_as(cast.agent)
    response = api.post("/contacts", {"email": "alice@acme.example"})
    assert response.status_code == 422
    response = api.patch(f"/contacts/{cast.bob.contact.pk}", {"email": "alice@acme.example"})
    assert response.status_code == 422 and error_fields(response) == ["email"]
    response = api.post("/contacts", {"email": "x@example.com", "vip": True})
    assert response.status_code == 422 and error_fields(response) == ["vip"]


def test_it_lists_contacts_in_cursor_pages_with_filters(cast, api_as):
    api = api_as(cast.agent)
    first = api.get("/contacts", {"limit": 3}).json()
    assert len(first["items"]) == 3 and first["next_cursor"]
    second = api.get("/contacts", {"limit": 3, "cursor": first["next_cursor"]}).json()
    ids = [c["id"] for c in first["items"] + second["items"]]
    assert len(ids) == len(set(ids)) == Contact.objects.count()
    globex = api.get("/contacts", {"organization": cast.globex.pk}).json()["items"]
    assert {c["name"] for c in globex} == {"Bob", "Bella"}
    assert [c["name"] for c in api.get("/contacts", {"q": "陈"}).json()["items"]] == ["Carol 陈"]


def test_the_api_finds_contacts_by_organisation_name_like_the_console(cast, api_as):
    found = api_as(cast.agent).get("/contacts", {"q": "有限公司"}).json()["items"]
    acme_people = Contact.objects.filter(organization=cast.acme)
    assert {c["name"] for c in found} == set(acme_people.values_list("name", flat=True))
    own = api_as(cast.alice).get("/contacts", {"q": "有限公司"}).json()["items"]
    assert [c["id"] for c in own] == [cast.alice.contact.pk]  # a customer: only their own


def test_it_merges_contacts_through_the_api(cast, api_as, make_ticket):
    duplicate = create_contact(cast.agent, name="Alice phone", phone="13900000002")
    ticket = make_ticket(cast.alice)
    Ticket.objects.filter(pk=ticket.pk).update(contact=duplicate)
    response = api_as(cast.agent).post(
        f"/contacts/{duplicate.pk}/merge", {"into": cast.alice.contact.pk}
    )
    assert response.status_code == 200
    assert response.json()["id"] == cast.alice.contact.pk
    assert response.json()["phone"]
    ticket.refresh_from_db()
    assert ticket.contact_id == cast.alice.contact.pk
    again = api_as(cast.agent).post(
        f"/contacts/{duplicate.pk}/merge", {"into": cast.bob.contact.pk}
    )
    assert again.status_code == 422 and error_fields(again) == ["into"]


def test_customer_reads_only_their_own_contact(cast, api_as):
    api = api_as(cast.alice)
    items = api.get("/contacts").json()["items"]
    assert [c["id"] for c in items] == [cast.alice.contact.pk]
    assert items[0]["notes"] is None
    assert api.get(f"/contacts/{cast.alice.contact.pk}").status_code == 200
    assert api.get(f"/contacts/{cast.alan.contact.pk}").status_code == 404


def test_customer_cannot_change_deactivate_or_merge_contacts(cast, api_as):
    api = api_as(cast.bob)
    own = cast.bob.contact.pk
    assert api.post("/contacts", {"email": "new@example.com"}).status_code == 403
    assert api.patch(f"/contacts/{own}", {"name": "Robert"}).status_code == 403
    assert api.post(f"/contacts/{own}/deactivate").status_code == 403
    assert api.post(f"/contacts/{own}/merge", {"into": cast.bella.contact.pk}).status_code == 403
    cast.bob.contact.refresh_from_db()
    assert cast.bob.contact.name == "Bob" and cast.bob.contact.is_active


def test_anonymous_callers_get_401(api_as):
    for path in ("/contacts", "/organizations", "/products", "/assets"):
        assert api_as().get(path).status_code == 401


# --- organisations and products ---------------------------------------------------------------


def test_staff_manage_organisations(cast, api_as):
    api = api_as(cast.supervisor)
    response = api.post("/organizations", {"name": "华东电器", "tier": "key_account"})
    assert response.status_code == 201
    org_id = response.json()["id"]
    response = api.patch(f"/organizations/{org_id}", {"members_share_tickets": True})
    assert response.json()["members_share_tickets"] is True
    assert api.get("/organizations", {"tier": "key_account"}).json()["items"][0]["id"] == org_id
    assert api.post(f"/organizations/{org_id}/deactivate").json()["is_active"] is False
    assert api.post("/organizations", {"name": "Globex"}).status_code == 422


def test_staff_manage_products(cast, api_as):
    api = api_as(cast.agent)
    response = api.post(
        "/products", {"model_number": "KF-200", "name": "显示控制器", "warranty_months": 36}
    )
    assert response.status_code == 201
    product_id = response.json()["id"]
    assert response.json()["documents"] == []
    response = api.patch(f"/products/{product_id}", {"category": "显示", "warranty_months": None})
    assert response.json()["category"] == "显示" and response.json()["warranty_months"] is None
    assert api.get("/products", {"q": "kf-2"}).json()["items"][0]["id"] == product_id
    assert api.post(f"/products/{product_id}/deactivate").json()["is_active"] is False
    assert api.post("/products", {"model_number": "kf-200", "name": "x"}).status_code == 422


@pytest.mark.parametrize("path", ["/organizations", "/products"])
def test_customer_cannot_list_organisations_or_products(cast, api_as, path):
    assert api_as(cast.alice).get(path).status_code == 403


def test_customer_cannot_create_organisations_or_products(cast, api_as):
    api = api_as(cast.alice)
    assert api.post("/organizations", {"name": "Mine"}).status_code == 403
    assert api.post("/products", {"model_number": "M", "name": "Mine"}).status_code == 403
    assert not Organization.objects.filter(name="Mine").exists()
    assert not Product.objects.filter(model_number="M").exists()


# --- assets ----------------------------------------------------------------------------------


def test_staff_register_an_asset_with_a_default_warranty(cast, api_as, printer):
    response = api_as(cast.agent).post(
        "/assets",
        {
            "serial_number": "LP-9",
            "product": printer.pk,
            "contact": cast.bob.contact.pk,
            "installed_at": "2025-02-01",
            "installation_address": "Globex HQ",
        },
    )
    assert response.status_code == 201, response.json()
    data = response.json()
    assert ASSET_KEYS <= set(data)
    assert data["warranty_ends_at"] == "2027-02-01"
    assert data["organization"] == {"id": cast.globex.pk, "name": "Globex"}
    assert data["status"] == "in_service"
    assert data["warranty_status"] in ("in_warranty", "expired")


def test_it_changes_filters_and_deactivates_assets(cast, api_as, acme_printer, globex_printer):
    api = api_as(cast.agent)
    response = api.patch(
        f"/assets/{acme_printer.pk}", {"status": "in_repair", "warranty_ends_at": "2030-01-01"}
    )
    assert response.json()["status"] == "in_repair"
    assert response.json()["warranty_ends_at"] == "2030-01-01"
    assert [a["id"] for a in api.get("/assets", {"serial": "lp3300-0002"}).json()["items"]] == [
        globex_printer.pk
    ]
    by_org = api.get("/assets", {"organization": cast.acme.pk}).json()["items"]
    assert [a["serial_number"] for a in by_org] == ["LP3300-0001"]
    assert api.post(f"/assets/{acme_printer.pk}/deactivate").json()["is_active"] is False
    assert Asset.objects.filter(pk=acme_printer.pk).exists()


def test_it_explains_an_unknown_product_and_a_null_status(cast, api_as, acme_printer):
    api = api_as(cast.agent)
    response = api.post("/assets", {"serial_number": "Z", "product": 999999})
    assert response.status_code == 422 and error_fields(response) == ["product"]
    response = api.patch(f"/assets/{acme_printer.pk}", {"status": None})
    assert response.status_code == 422


def test_customer_reads_own_and_shared_assets_only(cast, api_as, acme_printer, globex_printer):
    alan = api_as(cast.alan)  # Acme shares: Alan reads Alice's unit
    assert [a["serial_number"] for a in alan.get("/assets").json()["items"]] == ["LP3300-0001"]
    assert alan.get(f"/assets/{acme_printer.pk}").json()["notes"] is None
    bob = api_as(cast.bob)  # Globex does not share: Bella's unit stays hers
    assert bob.get("/assets").json()["items"] == []
    assert bob.get(f"/assets/{globex_printer.pk}").status_code == 404


def test_customer_cannot_change_assets(cast, api_as, acme_printer, printer):
    api = api_as(cast.alice)
    assert api.patch(f"/assets/{acme_printer.pk}", {"status": "retired"}).status_code == 403
    assert api.post("/assets", {"serial_number": "N", "product": printer.pk}).status_code == 403
    assert api.post(f"/assets/{acme_printer.pk}/deactivate").status_code == 403
    acme_printer.refresh_from_db()
    assert acme_printer.status == "in_service" and acme_printer.is_active
    assert acme_printer.installed_at == date(2025, 1, 10)
