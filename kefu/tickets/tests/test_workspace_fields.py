"""Category, complexity and asset on the ticket forms and page, the list filters, the API."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.urls import reverse

from kefu.api.tests.conftest import ApiClient, error_fields
from kefu.customers.models import Asset, Product
from kefu.tickets.actions import update_ticket
from kefu.tickets.forms import NewTicketForm, TicketUpdateForm
from kefu.tickets.models import Category, Ticket


@pytest.fixture
def tree(db):
    hardware = Category.objects.create(name="Hardware")
    display = Category.objects.create(name="Display", parent=hardware)
    dark = Category.objects.create(name="No picture", parent=display)
    software = Category.objects.create(name="Software", position=1)
    return {"hardware": hardware, "display": display, "dark": dark, "software": software}


@pytest.fixture
def asset(cast):
    product = Product.objects.create(model_number="KF-200", name="Display controller")
    return Asset.objects.create(
        serial_number="SN-0001",
        product=product,
        contact=cast.alice.contact,
        warranty_ends_at=date(2026, 6, 30),
    )


def test_both_forms_share_the_group_assignee_and_tag_fields(cast, make_ticket):
    ticket = make_ticket()
    for form in (NewTicketForm(cast.agent), TicketUpdateForm(cast.agent, ticket)):
        assert {"group", "assignee", "tags", "category", "complexity"} <= set(form.fields)


def test_the_category_menu_is_an_indented_tree(cast, make_ticket, tree):
    form = TicketUpdateForm(cast.agent, make_ticket())
    labels = [label for _value, label in form.fields["category"].choices]
    assert labels[1:] == [
        "Hardware",
        "\u00a0\u00a0Display",
        "\u00a0\u00a0\u00a0\u00a0No picture",
        "Software",
    ]


@time_machine.travel("2026-05-01 10:00 +08:00")
def test_the_ticket_page_shows_asset_product_and_warranty(client, cast, make_ticket, asset, tree):
    ticket = make_ticket(asset=asset, category=tree["dark"], complexity="complex")
    client.force_login(cast.agent)
    html = client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()
    assert "SN-0001" in html and "KF-200 Display controller" in html
    assert f'href="/customers/assets/{asset.pk}/"' in html
    assert "Hardware › Display › No picture" in html
    assert "warranty-in_warranty" in html and "No picture" in html and "Complex" in html
    with time_machine.travel("2026-07-01 10:00 +08:00"):
        client.force_login(cast.agent)  # the first session has expired by then
        html = client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()
    assert "warranty-expired" in html


def test_the_update_form_offers_only_the_customers_assets(client, cast, make_ticket, asset, tree):
    ticket = make_ticket(cast.alice)
    other = Asset.objects.create(
        serial_number="SN-BOB", product=asset.product, contact=cast.bob.contact
    )
    form = TicketUpdateForm(cast.agent, ticket)
    assert list(form.fields["asset"].queryset) == [asset]
    client.force_login(cast.agent)
    from kefu.tickets.tests.test_views import update_data

    data = update_data(ticket, asset=asset.pk, category=tree["display"].pk, complexity="simple")
    data.update({"initial-asset": "", "initial-category": "", "initial-complexity": ""})
    response = client.post(reverse("tickets:update", args=[ticket.pk]), data)
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert (ticket.asset, ticket.category, ticket.complexity) == (asset, tree["display"], "simple")
    assert ticket.events.filter(field="asset", new_value="SN-0001").exists()
    data = update_data(ticket, asset=other.pk)
    data["initial-asset"] = asset.pk
    response = client.post(reverse("tickets:update", args=[ticket.pk]), data)
    assert response.status_code == 200  # not one of the choices
    assert Ticket.objects.get(pk=ticket.pk).asset == asset


def test_the_new_ticket_form_finds_the_asset_by_serial(client, cast, asset, tree):
    client.force_login(cast.agent)
    data = {
        "contact": cast.alice.contact.pk,
        "subject": "Dark screen",
        "body": "No picture",
        "channel": "phone",
        "priority": "medium",
        "type": "question",
        "group": cast.cs.pk,
        "category": tree["dark"].pk,
        "complexity": "standard",
        "asset_serial": "sn-0001",
    }
    assert client.post(reverse("tickets:new"), data).status_code == 302
    ticket = Ticket.objects.get()
    assert (ticket.asset, ticket.category, ticket.complexity) == (asset, tree["dark"], "standard")
    response = client.post(reverse("tickets:new"), {**data, "asset_serial": "nope"})
    assert response.context["form"].errors["asset_serial"]


def test_the_list_filters_on_category_complexity_and_asset(client, cast, make_ticket, asset, tree):
    dark = make_ticket(subject="Dark", category=tree["dark"], asset=asset, complexity="complex")
    make_ticket(subject="Soft", category=tree["software"])
    client.force_login(cast.agent)

    def subjects(**params) -> set[str]:
        response = client.get(reverse("tickets:list"), params)
        return {ticket.subject for ticket in response.context["page"].tickets}

    assert subjects(category=tree["hardware"].pk) == {"Dark"}  # includes sub-categories
    assert subjects(complexity="complex") == {"Dark"}
    assert subjects(asset="SN-00") == {"Dark"}
    assert subjects(category=tree["software"].pk) == {"Soft"}
    assert subjects(category=tree["display"].pk) == {dark.subject}


def test_a_branch_keeps_the_tickets_of_its_deactivated_sub_categories(
    client, cast, make_ticket, tree
):
    make_ticket(subject="Dark", category=tree["dark"])
    make_ticket(subject="Soft", category=tree["software"])
    Category.objects.filter(pk=tree["display"].pk).update(is_active=False)
    client.force_login(cast.agent)
    response = client.get(reverse("tickets:list"), {"category": tree["hardware"].pk})
    assert {ticket.subject for ticket in response.context["page"].tickets} == {"Dark"}
    api = api_as_agent(cast).get("/api/v1/tickets", {"category": tree["hardware"].pk})
    assert [item["subject"] for item in api.json()["items"]] == ["Dark"]


def api_as_agent(cast):
    from django.test import Client

    return Client(headers={"Authorization": f"Bearer {cast.token(cast.agent)}"})


def test_api_sets_and_shows_asset_category_and_complexity(cast, make_ticket, asset, tree):
    agent = ApiClient(cast.token(cast.agent))
    ticket = make_ticket(cast.alice)
    response = agent.patch(
        f"/tickets/{ticket.pk}",
        {"asset": asset.pk, "category": tree["dark"].pk, "complexity": "simple"},
    )
    assert response.status_code == 200, response.json()
    data = response.json()
    assert data["asset"]["serial_number"] == "SN-0001"
    assert data["asset"]["product"]["name"].startswith("KF-200")
    assert data["asset"]["warranty_status"] in ("in_warranty", "expired")
    assert data["category"] == {"id": tree["dark"].pk, "name": "No picture"}
    assert data["complexity"] == "simple"
    assert agent.get("/tickets", {"category": tree["hardware"].pk}).json()["items"][0]["id"] == (
        ticket.pk
    )
    response = agent.patch(f"/tickets/{ticket.pk}", {"asset": None, "complexity": None})
    assert response.json()["asset"] is None and response.json()["complexity"] == ""
    paths = [item["path"] for item in agent.get("/categories").json()["items"]]
    assert "Hardware › Display › No picture" in paths


def test_customer_names_only_their_own_asset(cast, asset):
    bob_asset = Asset.objects.create(
        serial_number="SN-BOB", product=asset.product, contact=cast.bob.contact
    )
    alice = ApiClient(cast.token(cast.alice))
    response = alice.post("/tickets", {"subject": "x", "body": "x", "asset": bob_asset.pk})
    assert response.status_code == 422 and error_fields(response) == ["asset"]
    assert "SN-BOB" not in response.content.decode()
    response = alice.post("/tickets", {"subject": "x", "body": "x", "asset": asset.pk})
    assert response.status_code == 201 and response.json()["asset"]["id"] == asset.pk
    response = alice.post("/tickets", {"subject": "x", "body": "x", "complexity": "simple"})
    assert response.status_code == 422


def test_an_outsider_cannot_change_the_asset(cast, make_ticket, asset):
    ticket = make_ticket(cast.alice)
    response = ApiClient(cast.token(cast.quality_agent)).patch(
        f"/tickets/{ticket.pk}", {"asset": asset.pk}
    )
    assert response.status_code == 404
    update_ticket(cast.agent, ticket, asset=asset)


def test_an_htmx_change_refreshes_the_asset_panel(client, cast, make_ticket, asset):
    ticket = make_ticket(cast.alice)
    client.force_login(cast.agent)
    from kefu.tickets.tests.test_views import update_data

    data = update_data(ticket, asset=asset.pk)
    data["initial-asset"] = ""
    response = client.post(
        reverse("tickets:update", args=[ticket.pk]), data, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert 'id="workspace" hx-swap-oob="true"' in html and "SN-0001" in html
