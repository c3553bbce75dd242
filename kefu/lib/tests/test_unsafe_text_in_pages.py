"""NUL and friends in the console and portal (issue 24 item 3): query strings are cleaned,
form fields refuse NUL with a form error that keeps what was typed; never a 500."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from kefu.tickets.actions import NewTicket, create_ticket
from kefu.tickets.models import Message, Ticket

# Every name a console or portal view reads from the query string, and one nobody reads.
QUERY_NAMES = (
    "q contact_query view cursor after page role status show whose from format state priority "
    "assignee group object_type action contact organization all date_from date_to unknown"
).split()


def _pages(patterns=None, prefix="", ids: dict[str, int] | None = None) -> list[str]:
    """Every console and portal URL; one with a ``<int:pk>`` when ``ids`` maps its first path
    segment (``tickets``, ``portal``, ``customers``) to an object's id."""
    found = []
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if route.startswith(("api/", "admin/", "i18n/", "accounts/logout")):
            continue
        if isinstance(pattern, URLResolver):
            found += _pages(pattern.url_patterns, route, ids)
            continue
        if "<" in route:
            pk = (ids or {}).get(route.split("/")[0])
            if pk is None or route.count("<") > 1 or "<int:pk>" not in route:
                continue
            route = route.replace("<int:pk>", str(pk))
        if isinstance(pattern, URLPattern):
            found.append("/" + route)
    return found


def _get(client: Client, path: str, value: str):
    return client.get(path + "?" + urlencode(dict.fromkeys(QUERY_NAMES, value)))


@pytest.mark.parametrize("who", ["admin", "alice"])
def test_a_nul_in_any_query_parameter_of_any_page_is_cleaned_away(cast, who):
    create_ticket(cast.alice, NewTicket(subject="Printer ab", body="jam"))
    client = Client()
    client.force_login(getattr(cast, who))
    pages = _pages()
    assert "/tickets/" in pages and "/portal/" in pages and "/customers/" in pages
    for path in pages:
        dirty, clean = _get(client, path, "a\x00b"), _get(client, path, "ab")
        assert dirty.status_code == clean.status_code < 500, path


@pytest.mark.parametrize(
    ("who", "path"), [("admin", "/tickets/?view=recent&"), ("alice", "/portal/?")]
)
def test_the_search_box_with_a_nul_finds_what_it_would_without(cast, who, path):
    create_ticket(cast.alice, NewTicket(subject="Printer ab", body="jam"))
    client = Client()
    client.force_login(getattr(cast, who))
    response = client.get(path + "q=Prin%00ter")
    assert response.status_code == 200
    assert "Printer ab" in re.sub("</?mark>", "", response.content.decode())


def test_an_outsider_searching_with_a_nul_still_sees_only_their_own(cast):
    create_ticket(cast.alice, NewTicket(subject="Printer ab", body="jam"))
    client = Client()
    client.force_login(cast.carol)
    response = client.get("/portal/?q=Printer%00")
    assert response.status_code == 200
    assert "Printer ab" not in re.sub("</?mark>", "", response.content.decode())


def test_a_nul_in_a_portal_form_is_a_form_error_and_keeps_the_text(cast):
    client = Client()
    client.force_login(cast.alice)
    response = client.post("/portal/new/", {"subject": "Printer\x00 jam", "body": "Tray 2"})
    assert response.status_code == 200
    assert response.context["form"].errors["subject"]
    assert "Tray 2" in response.content.decode()
    assert not Ticket.objects.exists()


def test_a_nul_in_a_console_reply_is_a_form_error(cast):
    ticket = create_ticket(cast.alice, NewTicket(subject="Printer", body="jam"))
    client = Client()
    client.force_login(cast.agent)
    response = client.post(
        f"/tickets/{ticket.pk}/reply/", {"body": "Please \x00restart", "kind": "reply"}
    )
    assert response.status_code == 200
    assert Message.objects.filter(ticket=ticket).count() == 1


def test_a_lone_surrogate_cannot_reach_a_form(cast):
    """Browsers send UTF-8; the bytes of a lone surrogate decode to replacement characters."""
    client = Client()
    client.force_login(cast.alice)
    response = client.post(
        "/portal/new/",
        b"subject=a%ED%A0%80b&body=ok",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 302
    assert Ticket.objects.get().subject == "a\ufffd\ufffd\ufffdb"


@pytest.mark.parametrize("who", ["admin", "alice"])
def test_every_form_refuses_a_nul_in_every_field_without_a_500(cast, who):
    """Every console and portal page without path parameters that shows a form, posted with a
    NUL in each of its fields (whatever their type): a form error, nothing stored."""
    ticket = create_ticket(cast.alice, NewTicket(subject="Printer", body="jam"))
    ids = {"tickets": ticket.pk, "portal": ticket.pk, "customers": cast.alice.contact.pk}
    client = Client()
    client.force_login(getattr(cast, who))
    tickets, posted = Ticket.objects.count(), []
    for path in _pages(ids=ids):
        page = client.get(path)
        form = page.context.get("form") if page.status_code == 200 and page.context else None
        if form is None or not hasattr(form, "fields"):
            continue
        data = {form.add_prefix(name): "a\x00b" for name in form.fields}
        response = client.post(path, data)
        assert response.status_code < 500, path
        posted.append(path)
    assert "/portal/new/" in posted if who == "alice" else "/tickets/new/" in posted
    assert Ticket.objects.count() == tickets
    assert Ticket.objects.get().subject == "Printer"
    assert Message.objects.count() == 1


POSTED_NAMES = (
    "subject body name email phone wechat_id notes reason comment value field tags tag kind "
    "title description label key q query contact_query message text state priority assignee "
    "group type category complexity serial_number model_number domain"
).split()


def test_every_page_posted_with_nul_fields_answers_without_a_500(cast):
    """Not only the pages that show a form: htmx endpoints (field updates, notes, links, merge,
    bulk) read posted fields too."""
    ticket = create_ticket(cast.alice, NewTicket(subject="Printer", body="jam"))
    ids = {"tickets": ticket.pk, "portal": ticket.pk, "customers": cast.alice.contact.pk}
    client = Client()
    client.force_login(cast.admin)
    data = dict.fromkeys(POSTED_NAMES, "a\x00b")
    for path in _pages(ids=ids):
        assert client.post(path, data).status_code < 500, path
        assert client.post(path, data, headers={"HX-Request": "true"}).status_code < 500, path
