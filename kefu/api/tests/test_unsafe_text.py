"""NUL, other control characters and lone surrogates in API requests: 422 naming the field.

On PostgreSQL these answered 500 (issue 24 item 3). The table below is built from the OpenAPI
document, so an endpoint added later is covered without editing this file.
"""

from __future__ import annotations

import json

import pytest

from kefu.api.openapi import openapi_document
from kefu.customers.models import Contact, Organization
from kefu.lib.text import clean_line
from kefu.tickets.models import Message, Ticket

NUL, SURROGATE = "a\x00b", "a\ud800b"
BAD = [pytest.param(NUL, "U+0000", id="nul"), pytest.param(SURROGATE, "U+D800", id="surrogate")]


def _resolve(document: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _takes_text(document: dict, schema: dict) -> bool:
    schema = _resolve(document, schema)
    options = schema.get("anyOf", [schema])
    for option in options:
        option = _resolve(document, option)
        if option.get("type") == "string" and "enum" not in option and "format" not in option:
            return True
        if option.get("type") == "array" and _takes_text(document, option.get("items", {})):
            return True
    return False


def _text_fields() -> list[tuple[str, str, str, bool]]:
    """(method, path, property, is_list) for every text property of every JSON request body."""
    document = json.loads(openapi_document())
    rows = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" not in content:
                continue
            body = _resolve(document, content["application/json"]["schema"])
            for name, prop in body.get("properties", {}).items():
                if _takes_text(document, prop):
                    is_list = _resolve(document, prop).get("type") == "array" or any(
                        o.get("type") == "array" for o in prop.get("anyOf", [])
                    )
                    rows.append((method, path.removeprefix("/api/v1"), name, is_list))
    return rows


TEXT_FIELDS = _text_fields()


def test_the_table_covers_the_text_endpoints():
    covered = {(method, path) for method, path, _name, _is_list in TEXT_FIELDS}
    assert {
        ("post", "/tickets"),
        ("patch", "/tickets/{ticket_id}"),
        ("post", "/tickets/{ticket_id}/messages"),
        ("post", "/contacts"),
        ("patch", "/contacts/{contact_id}"),
        ("post", "/organizations"),
        ("patch", "/organizations/{organization_id}"),
        ("post", "/assets"),
        ("post", "/products"),
    } <= covered
    assert len(TEXT_FIELDS) > 100


@pytest.fixture
def unthrottled(settings):
    settings.API_THROTTLE_PER_MINUTE = 100_000


@pytest.mark.parametrize(("bad", "code"), BAD)
def test_every_text_field_of_every_write_endpoint_refuses_unsafe_text(
    cast, api_as, unthrottled, bad, code
):
    admin = api_as(cast.admin)
    failures = []
    for method, path, name, is_list in TEXT_FIELDS:
        url = path.format_map(_AnyId())
        response = getattr(admin, method)(url, {name: [bad] if is_list else bad})
        body = response.json()
        field = f"{name}.0" if is_list else name
        if (
            response.status_code != 422
            or body["errors"] != [{"field": field, "message": body["detail"]}]
            or code not in body["detail"]
        ):
            failures.append((method, path, name, response.status_code, body))
    assert not failures


class _AnyId(dict):
    def __missing__(self, key: str) -> str:
        return "1"


# --- stored nothing, answered 422: the real requests that answered 500 on PostgreSQL -------


@pytest.mark.parametrize(("bad", "code"), BAD)
def test_a_ticket_with_unsafe_text_is_refused_and_nothing_is_stored(cast, api_as, bad, code):
    cases = [
        ({"subject": bad, "body": "ok"}, "subject"),
        ({"subject": "ok", "body": bad}, "body"),
        (
            {"subject": "ok", "body": "ok", "customer": {"email": "x@y.example", "name": bad}},
            "customer.name",
        ),
        ({"subject": "ok", "body": "ok", "tags": ["fine", bad]}, "tags.1"),
        (
            {"subject": "ok", "body": "ok", "custom_fields": {bad: 1}},
            "custom_fields." + clean_line(bad),
        ),
    ]
    for payload, field in cases:
        response = api_as(cast.agent).post("/tickets", payload)
        assert response.status_code == 422, response.content
        [error] = response.json()["errors"]
        assert error["field"] == field and code in error["message"]
    assert not Ticket.objects.exists()


@pytest.mark.parametrize(("bad", "code"), BAD)
def test_changes_and_replies_with_unsafe_text_are_refused(cast, api_as, bad, code):
    created = api_as(cast.alice).post("/tickets", {"subject": "Printer", "body": "jam"})
    ticket_id = created.json()["id"]
    agent = api_as(cast.agent)
    assert agent.patch(f"/tickets/{ticket_id}", {"subject": bad}).status_code == 422
    assert agent.post(f"/tickets/{ticket_id}/messages", {"body": bad}).status_code == 422
    alice = api_as(cast.alice)
    assert alice.post(f"/tickets/{ticket_id}/messages", {"body": bad}).status_code == 422
    assert Ticket.objects.get().subject == "Printer"
    assert Message.objects.count() == 1


def test_an_outsider_gets_the_same_422_for_a_ticket_they_cannot_see(cast, api_as):
    """The check runs before any object is fetched, so it tells nothing about what exists."""
    created = api_as(cast.alice).post("/tickets", {"subject": "Printer", "body": "jam"})
    ticket_id = created.json()["id"]
    outsider = api_as(cast.carol)
    theirs = outsider.post(f"/tickets/{ticket_id}/messages", {"body": NUL})
    missing = outsider.post(f"/tickets/{ticket_id + 1000}/messages", {"body": NUL})
    assert theirs.status_code == missing.status_code == 422
    assert theirs.json() == missing.json()
    assert Message.objects.count() == 1


@pytest.mark.parametrize(("bad", "code"), BAD)
def test_contacts_and_organisations_with_unsafe_text_are_refused(cast, api_as, bad, code):
    admin = api_as(cast.admin)
    assert admin.post("/contacts", {"name": bad, "email": "new@x.example"}).status_code == 422
    assert admin.post("/organizations", {"name": bad}).status_code == 422
    contact = Contact.objects.get(user=cast.alice)
    response = admin.patch(f"/contacts/{contact.pk}", {"name": bad})
    assert response.status_code == 422 and code in response.json()["detail"]
    response = admin.patch(f"/organizations/{cast.acme.pk}", {"name": bad})
    assert response.status_code == 422
    assert not Contact.objects.filter(email="new@x.example").exists()
    assert Organization.objects.get(pk=cast.acme.pk).name == cast.acme.name


@pytest.mark.parametrize(
    "path", ["/tickets", "/contacts", "/organizations", "/products", "/assets", "/users"]
)
def test_a_search_query_with_a_nul_is_a_clear_error(cast, api_as, path):
    response = api_as(cast.admin).get(path, {"q": NUL})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "q"
    assert "U+0000" in response.json()["detail"]


def test_tabs_and_line_breaks_are_text(cast, api_as):
    response = api_as(cast.alice).post(
        "/tickets", {"subject": "Printer\tjam", "body": "line one\r\nline two"}
    )
    assert response.status_code == 201
    assert "line one\r\nline two" in Message.objects.get().body_text
