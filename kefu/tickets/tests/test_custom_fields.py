"""Custom fields: definitions, validation, storage, the forms, the list filter and the API."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from kefu.api.tests.conftest import ApiClient, error_fields
from kefu.tickets.actions import update_ticket
from kefu.tickets.custom_fields import read_values_fresh, save_custom_field
from kefu.tickets.models import CustomField, EventType, Ticket, TicketType


@pytest.fixture
def fields(cast):
    incident = TicketType.objects.get(key="incident")
    return {
        "meter": save_custom_field(cast.admin, key="meter", label="Meter reading", kind="number"),
        "bought": save_custom_field(cast.admin, key="bought", label="Bought on", kind="date"),
        "channel": save_custom_field(
            cast.admin,
            key="channel",
            label="Purchase channel",
            kind="choice",
            choices=["JD.com", "Tmall", "Store"],
        ),
        "parts": save_custom_field(
            cast.admin,
            key="parts",
            label="Parts",
            kind="multi_choice",
            choices=["fan", "board", "screen"],
        ),
        "onsite": save_custom_field(cast.admin, key="onsite", label="On site", kind="checkbox"),
        "note": save_custom_field(cast.admin, key="note", label="Note", kind="text"),
        "error_code": save_custom_field(
            cast.admin,
            key="error_code",
            label="Error code",
            kind="text",
            is_required=True,
            ticket_types=[incident],
        ),
    }


def api(cast, user) -> ApiClient:
    return ApiClient(cast.token(user))


# --- the action -----------------------------------------------------------------------------


def test_it_stores_every_kind_and_records_changes_on_the_timeline(cast, make_ticket, fields):
    ticket = make_ticket()
    update_ticket(
        cast.agent,
        ticket,
        custom_fields={
            "meter": "1234.5",
            "bought": "2026-03-01",
            "channel": "Tmall",
            "parts": ["screen", "fan"],
            "onsite": True,
            "note": " cracked ",
        },
    )
    assert read_values_fresh(ticket) == {
        "meter": Decimal("1234.5"),
        "bought": date(2026, 3, 1),
        "channel": "Tmall",
        "parts": ["fan", "screen"],  # in the field's order
        "onsite": True,
        "note": "cracked",
    }
    changes = ticket.events.filter(type=EventType.CHANGED, field__startswith="cf.")
    assert changes.count() == 6
    assert changes.get(field="cf.parts").new_value == "fan, screen"
    assert all(event.is_internal for event in changes)

    update_ticket(cast.agent, ticket, custom_fields={"parts": [], "onsite": False, "meter": 1234.5})
    assert "parts" not in read_values_fresh(ticket) and "onsite" not in read_values_fresh(ticket)
    assert ticket.events.filter(field="cf.meter").count() == 1  # the same number: no change


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"meter": "lots"}, "custom_fields.meter"),
        ({"meter": True}, "custom_fields.meter"),
        ({"bought": "01/03/2026"}, "custom_fields.bought"),
        ({"channel": "eBay"}, "custom_fields.channel"),
        ({"parts": ["fan", "wheel"]}, "custom_fields.parts"),
        ({"onsite": "yes"}, "custom_fields.onsite"),
        ({"note": "x" * 1001}, "custom_fields.note"),
        ({"nonsense": 1}, "custom_fields.nonsense"),
        ({"error_code": "E23"}, "custom_fields.error_code"),  # incidents only
    ],
)
def test_it_rejects_values_that_do_not_fit(cast, make_ticket, fields, values, field):
    ticket = make_ticket()
    with pytest.raises(ValidationError) as caught:
        update_ticket(cast.agent, ticket, custom_fields=values)
    assert list(caught.value.message_dict) == [field]
    assert read_values_fresh(ticket) == {}


def test_staff_must_fill_required_fields_of_the_type(cast, make_ticket, fields):
    with pytest.raises(ValidationError) as caught:
        make_ticket(actor=cast.agent, type_key="incident")
    assert list(caught.value.message_dict) == ["custom_fields.error_code"]
    ticket = make_ticket(actor=cast.agent, type_key="incident", custom_fields={"error_code": "E23"})
    with pytest.raises(ValidationError):
        update_ticket(cast.agent, ticket, custom_fields={"error_code": ""})
    # Other types do not have the field at all.
    assert make_ticket(actor=cast.agent, type_key="question")


def test_customers_and_channels_need_not_fill_required_fields(cast, fields):
    from kefu.tickets.actions import NewTicket, create_ticket

    ticket = create_ticket(cast.alice, NewTicket(subject="Broken", body="x", type_key="incident"))
    assert read_values_fresh(ticket) == {}
    with pytest.raises(ValidationError) as refused:  # the API's documented 422, in the action
        create_ticket(
            cast.alice,
            NewTicket(subject="x", body="x", type_key="incident", custom_fields={"note": "hi"}),
        )
    assert list(refused.value.message_dict) == ["custom_fields"]


def test_a_deactivated_field_takes_no_new_values(cast, make_ticket, fields):
    ticket = make_ticket()
    save_custom_field(cast.admin, fields["note"], is_active=False)
    with pytest.raises(ValidationError) as caught:
        update_ticket(cast.agent, ticket, custom_fields={"note": "x"})
    assert "deactivated" in str(caught.value)


def test_only_admins_define_fields_and_kinds_stay_once_used(cast, make_ticket, fields):
    with pytest.raises(PermissionDenied):
        save_custom_field(cast.supervisor, key="x", label="X", kind="text")
    with pytest.raises(ValidationError):
        save_custom_field(cast.admin, key="Bad Key", label="X", kind="text")
    with pytest.raises(ValidationError):
        save_custom_field(cast.admin, key="meter", label="Again", kind="text")
    with pytest.raises(ValidationError):
        save_custom_field(cast.admin, key="pick", label="Pick", kind="choice", choices=[])
    update_ticket(cast.agent, make_ticket(), custom_fields={"note": "x"})
    with pytest.raises(ValidationError):
        save_custom_field(cast.admin, fields["note"], kind="number")


# --- the console ----------------------------------------------------------------------------


def test_it_shows_fields_of_the_type_on_the_ticket_page_and_saves_them(
    client, cast, make_ticket, fields
):
    ticket = make_ticket(type_key="question")
    client.force_login(cast.agent)
    html = client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()
    assert 'name="cf_meter"' in html and 'name="cf_error_code"' not in html

    from kefu.tickets.tests.test_views import update_data

    data = update_data(ticket, cf_meter="88", cf_parts=["fan"], **_initial_custom())
    response = client.post(reverse("tickets:update", args=[ticket.pk]), data)
    assert response.status_code == 302
    assert read_values_fresh(ticket) == {"meter": Decimal("88"), "parts": ["fan"]}
    html = client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()
    assert "Meter reading" in html and "88" in html


def _initial_custom() -> dict:
    """The hidden "as shown" values of an empty ticket's custom fields."""
    return {
        "initial-cf_meter": "",
        "initial-cf_bought": "",
        "initial-cf_channel": "",
        "initial-cf_onsite": "False",
        "initial-cf_note": "",
    }


def test_it_reports_a_bad_value_on_the_form(client, cast, make_ticket, fields):
    ticket = make_ticket(type_key="question")
    client.force_login(cast.agent)
    from kefu.tickets.tests.test_views import update_data

    data = update_data(ticket, cf_meter="1.1234567", **_initial_custom())
    response = client.post(reverse("tickets:update", args=[ticket.pk]), data)
    assert response.status_code == 200
    assert response.context["update_form"].errors["cf_meter"]
    assert read_values_fresh(ticket) == {}


def test_new_ticket_form_requires_the_required_field(client, cast, fields):
    client.force_login(cast.agent)
    data = {
        "contact": cast.alice.contact.pk,
        "subject": "Display dark",
        "body": "No picture",
        "channel": "phone",
        "priority": "medium",
        "type": "incident",
        "group": cast.cs.pk,
        "complexity": "",
        "category": "",
    }
    response = client.post(reverse("tickets:new"), data)
    assert response.status_code == 200
    assert response.context["form"].errors["cf_error_code"]
    assert not Ticket.objects.exists()
    response = client.post(reverse("tickets:new"), {**data, "cf_error_code": "E23"})
    assert response.status_code == 302
    assert read_values_fresh(Ticket.objects.get()) == {"error_code": "E23"}


def test_the_list_filters_on_custom_fields(client, cast, make_ticket, fields):
    fan = make_ticket(subject="Fan ticket")
    screen = make_ticket(subject="Screen ticket")
    update_ticket(cast.agent, fan, custom_fields={"parts": ["fan", "board"], "meter": 10})
    update_ticket(cast.agent, screen, custom_fields={"parts": ["screen"], "onsite": True})
    client.force_login(cast.agent)

    def subjects(**params) -> set[str]:
        response = client.get(reverse("tickets:list"), params)
        return {ticket.subject for ticket in response.context["page"].tickets}

    assert subjects(cf_parts="fan") == {"Fan ticket"}
    assert subjects(cf_meter="10") == {"Fan ticket"}
    assert subjects(cf_onsite="yes") == {"Screen ticket"}
    assert subjects(cf_onsite="no") == {"Fan ticket"}
    assert subjects() == {"Fan ticket", "Screen ticket"}


def test_only_admins_open_the_custom_field_pages(client, cast, fields):
    url = reverse("tickets:custom_fields")
    client.force_login(cast.alice)
    assert client.get(url).status_code == 404
    client.force_login(cast.supervisor)
    assert client.get(url).status_code == 403
    client.force_login(cast.admin)
    assert "Meter reading" in client.get(url).content.decode()
    response = client.post(
        reverse("tickets:custom_field_new"),
        {
            "key": "colour",
            "label": "Colour",
            "kind": "choice",
            "choices_text": "red\nblue\n",
            "position": 3,
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    assert CustomField.objects.get(key="colour").choices == ["red", "blue"]
    response = client.post(
        reverse("tickets:custom_field_new"),
        {"key": "shade", "label": "Shade", "kind": "choice", "choices_text": "", "position": 0},
    )
    assert response.status_code == 400
    assert response.context["form"].errors["choices_text"]


# --- the API --------------------------------------------------------------------------------


def test_api_creates_changes_and_shows_custom_fields(cast, fields):
    response = api(cast, cast.agent).post(
        "/tickets",
        {
            "subject": "Display dark",
            "body": "No picture",
            "type": "incident",
            "customer": {"email": "alice@acme.example"},
            "custom_fields": {"error_code": "E23", "meter": 5, "bought": "2026-01-31"},
        },
    )
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["custom_fields"] == {"error_code": "E23", "meter": 5, "bought": "2026-01-31"}
    response = api(cast, cast.agent).patch(
        f"/tickets/{data['id']}", {"custom_fields": {"meter": 7.25, "parts": ["board"]}}
    )
    assert response.status_code == 200
    assert response.json()["custom_fields"]["meter"] == 7.25
    assert response.json()["custom_fields"]["parts"] == ["board"]
    alice = api(cast, cast.alice).get(f"/tickets/{data['id']}").json()
    assert alice["custom_fields"] is None


def test_api_reports_custom_field_errors_by_field(cast, make_ticket, fields):
    ticket = make_ticket()
    response = api(cast, cast.agent).patch(
        f"/tickets/{ticket.pk}", {"custom_fields": {"meter": "many", "channel": "eBay"}}
    )
    assert response.status_code == 422
    assert sorted(error_fields(response)) == ["custom_fields.channel", "custom_fields.meter"]
    response = api(cast, cast.agent).post(
        "/tickets",
        {"subject": "x", "body": "x", "type": "incident", "customer": {"email": "a@b.example"}},
    )
    assert response.status_code == 422
    assert error_fields(response) == ["custom_fields.error_code"]


def test_customer_cannot_set_custom_fields_through_the_api(cast, fields):
    response = api(cast, cast.alice).post(
        "/tickets", {"subject": "x", "body": "x", "custom_fields": {"note": "hi"}}
    )
    assert response.status_code == 422
    assert error_fields(response) == ["custom_fields"]


def test_api_custom_field_crud(cast, fields):
    admin = api(cast, cast.admin)
    response = admin.post(
        "/custom-fields",
        {
            "key": "colour",
            "label": "Colour",
            "kind": "multi_choice",
            "choices": ["red", "blue", "red"],
            "ticket_types": ["incident"],
            "required": False,
        },
    )
    assert response.status_code == 201, response.json()
    created = response.json()
    assert created["choices"] == ["red", "blue"] and created["ticket_types"] == ["incident"]
    response = admin.patch(f"/custom-fields/{created['id']}", {"label": "Colours", "position": 2})
    assert response.json()["label"] == "Colours"
    response = admin.client.delete(
        f"/api/v1/custom-fields/{created['id']}", headers=admin._headers(None)
    )
    assert response.status_code == 200 and response.json()["active"] is False
    keys = [item["key"] for item in api(cast, cast.agent).get("/custom-fields").json()["items"]]
    assert "colour" in keys and "meter" in keys

    assert (
        api(cast, cast.agent)
        .post("/custom-fields", {"key": "y", "label": "Y", "kind": "text"})
        .status_code
        == 403
    )
    assert api(cast, cast.alice).get("/custom-fields").status_code == 403
    response = admin.post("/custom-fields", {"key": "meter", "label": "M", "kind": "text"})
    assert response.status_code == 422 and error_fields(response) == ["key"]
