"""Contact and organisation pages: list, profile with tickets and assets, edit, notes,
deactivate, merge — and who may not see them."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kefu.customers.actions import create_contact
from kefu.customers.models import Contact, Organization, Tier
from kefu.tickets.models import State


def test_it_lists_and_searches_contacts_with_ticket_counts(client, cast, make_ticket):
    make_ticket(cast.alice)
    done = make_ticket(cast.alice, subject="Old question")
    done.state = State.CLOSED
    done.save()
    client.force_login(cast.agent)
    response = client.get(reverse("customers:contacts"))
    assert response.status_code == 200
    rows = {contact.pk: counted for contact, counted in response.context["rows"]}
    alice = rows[cast.alice.contact.pk]
    assert (alice.open_count, alice.ticket_count) == (1, 2)
    assert alice.last_contact_at is not None
    html = client.get(reverse("customers:contacts"), {"q": "globex"}).content.decode()
    assert "Bob" in html and "Bella" in html and "Alice" not in html


def test_it_filters_contacts_by_organisation_and_hides_deactivated_ones(client, cast):
    cast.bella.contact.is_active = False
    cast.bella.contact.save()
    client.force_login(cast.agent)
    response = client.get(reverse("customers:contacts"), {"organization": cast.globex.pk})
    names = [contact.name for contact, _counted in response.context["rows"]]
    assert names == ["Bob"]
    response = client.get(
        reverse("customers:contacts"), {"organization": cast.globex.pk, "status": "inactive"}
    )
    assert [contact.name for contact, _counted in response.context["rows"]] == ["Bella"]


def test_the_profile_shows_identifiers_tickets_and_assets(client, cast, make_ticket, acme_printer):
    ticket = make_ticket(cast.alice, asset=acme_printer)
    client.force_login(cast.agent)
    html = client.get(reverse("customers:contact", args=[cast.alice.contact.pk])).content.decode()
    assert "alice@acme.example" in html
    assert ticket.subject in html
    assert "LP3300-0001" in html
    assert "In warranty until" in html
    assert "1 open of 1" in html


def test_it_creates_edits_and_deactivates_a_contact(client, cast):
    client.force_login(cast.agent)
    response = client.post(
        reverse("customers:contact_new"),
        {"name": "赵六", "phone": "138 0000 0009", "organization": cast.globex.pk},
    )
    contact = Contact.objects.get(name="赵六")
    assert response["Location"] == reverse("customers:contact", args=[contact.pk])
    assert contact.phone in ("13800000009", "+8613800000009")
    client.post(
        reverse("customers:contact_edit", args=[contact.pk]),
        {"name": "赵六", "phone": "13800000009", "wechat_id": "zhao6", "notes": "VIP"},
    )
    contact.refresh_from_db()
    assert (contact.wechat_id, contact.notes, contact.organization) == ("zhao6", "VIP", None)
    client.post(reverse("customers:contact_activate", args=[contact.pk]), {"active": "0"})
    contact.refresh_from_db()
    assert not contact.is_active


def test_it_refuses_an_identifier_of_another_contact(client, cast):
    client.force_login(cast.agent)
    response = client.post(
        reverse("customers:contact_edit", args=[cast.bob.contact.pk]),
        {"name": "Bob", "email": "ALICE@acme.example"},
    )
    assert response.status_code == 200
    assert "belongs to Alice" in response.content.decode()
    cast.bob.contact.refresh_from_db()
    assert cast.bob.contact.email == "bob@globex.example"


def test_it_saves_notes_with_htmx(client, cast):
    client.force_login(cast.agent)
    response = client.post(
        reverse("customers:contact_notes", args=[cast.carol.contact.pk]),
        {"notes": "Prefers phone calls 只接电话"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert 'id="notes-form"' in response.content.decode()
    cast.carol.contact.refresh_from_db()
    assert cast.carol.contact.notes == "Prefers phone calls 只接电话"


@pytest.mark.parametrize(
    "name",
    ["contacts", "contact_new", "organizations", "organization_new"],
)
def test_customer_cannot_open_customer_pages(client, cast, name):
    client.force_login(cast.alice)
    assert client.get(reverse(f"customers:{name}")).status_code == 404


def test_customer_cannot_read_or_change_a_profile(client, cast):
    client.force_login(cast.bob)
    bella = cast.bella.contact
    assert client.get(reverse("customers:contact", args=[bella.pk])).status_code == 404
    assert (
        client.post(reverse("customers:contact_notes", args=[bella.pk]), {"notes": "x"}).status_code
        == 404
    )
    assert (
        client.post(
            reverse("customers:contact_merge", args=[bella.pk]), {"into": cast.bob.contact.pk}
        ).status_code
        == 404
    )
    bella.refresh_from_db()
    assert bella.notes == "" and bella.is_active


def test_anonymous_visitors_go_to_the_login_page(client, cast):
    response = client.get(reverse("customers:contacts"))
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]


def test_the_profile_lists_only_tickets_the_agent_may_see(client, cast, make_ticket):
    make_ticket(cast.alice, subject="客服部 ticket")
    make_ticket(cast.alice, subject="Quality ticket", group=cast.quality)
    client.force_login(cast.agent)
    html = client.get(reverse("customers:contact", args=[cast.alice.contact.pk])).content.decode()
    assert "客服部 ticket" in html and "Quality ticket" not in html


def test_it_merges_a_duplicate_from_the_profile(client, cast, make_ticket):
    duplicate = create_contact(cast.agent, name="Alice (phone)", phone="13900000001")
    ticket = make_ticket(cast.alice, subject="From the phone")
    ticket.contact = duplicate
    ticket.save()
    client.force_login(cast.agent)
    response = client.post(
        reverse("customers:contact_merge", args=[duplicate.pk]), {"into": cast.alice.contact.pk}
    )
    assert response["Location"] == reverse("customers:contact", args=[cast.alice.contact.pk])
    ticket.refresh_from_db()
    assert ticket.contact_id == cast.alice.contact.pk


def test_it_explains_a_merge_into_an_unknown_contact(client, cast):
    client.force_login(cast.agent)
    response = client.post(
        reverse("customers:contact_merge", args=[cast.carol.contact.pk]), {"into": 999999}
    )
    assert response.status_code == 422
    assert "There is no customer with this number." in response.content.decode()


def test_it_creates_and_shows_an_organisation(client, cast, make_ticket, acme_printer):
    client.force_login(cast.supervisor)
    client.post(
        reverse("customers:organization_new"),
        {"name": "蓝天酒店", "tier": Tier.KEY_ACCOUNT, "domain": "bluesky.example"},
    )
    bluesky = Organization.objects.get(name="蓝天酒店")
    assert bluesky.tier == Tier.KEY_ACCOUNT
    make_ticket(cast.alice)
    html = client.get(reverse("customers:organization", args=[cast.acme.pk])).content.decode()
    assert "Alice 李" in html and "LP3300-0001" in html and "1 open of 1" in html
    list_html = client.get(reverse("customers:organizations"), {"tier": "key_account"})
    assert [o.name for o, _c in list_html.context["rows"]] == ["蓝天酒店"]


def test_it_deactivates_an_organisation(client, cast):
    client.force_login(cast.agent)
    client.post(reverse("customers:organization_activate", args=[cast.globex.pk]), {"active": "0"})
    cast.globex.refresh_from_db()
    assert not cast.globex.is_active


def test_the_contact_list_costs_the_same_queries_for_more_rows(
    client, cast, make_ticket, django_assert_max_num_queries
):
    client.force_login(cast.agent)
    client.get(reverse("customers:contacts"))  # warm up (session, content types)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("customers:contacts"))
    for n in range(15):
        create_contact(cast.agent, name=f"Kunde {n}", phone=f"1380000{n:04d}")
        make_ticket(cast.alice)
    with django_assert_max_num_queries(len(few)):
        client.get(reverse("customers:contacts"))
