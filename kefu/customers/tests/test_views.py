"""Staff-side customer views: the contact picker and portal invitations."""

from __future__ import annotations

import pytest
from django.urls import reverse

from kefu.customers.actions import create_contact
from kefu.lib.jobs import run_pending_jobs


def invite_url(contact) -> str:
    return reverse("customers:invite", args=[contact.pk])


def flashes(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


@pytest.fixture
def dora(cast):
    return create_contact(cast.agent, name="Dora 杜", email="dora@acme.example")


def test_it_invites_a_contact_and_mails_a_link(client, cast, dora, mailoutbox):
    client.force_login(cast.agent)
    response = client.post(invite_url(dora), {"next": "/tickets/"}, follow=True)
    assert "Invitation sent to dora@acme.example." in flashes(response)
    assert response.redirect_chain[-1][0] == "/tickets/"
    dora.refresh_from_db()
    assert dora.user is not None and dora.user.is_customer
    assert mailoutbox == []  # sent by the worker, not by the request
    run_pending_jobs()
    assert [mail.to for mail in mailoutbox] == [["dora@acme.example"]]
    assert "/accounts/password/set/" in mailoutbox[0].body


def test_it_explains_why_a_contact_without_e_mail_cannot_be_invited(client, cast, mailoutbox):
    phone_only = create_contact(cast.agent, name="Only Phone", phone="13800000001")
    client.force_login(cast.agent)
    response = client.post(invite_url(phone_only), follow=True)
    assert "The customer needs an e-mail address to be invited." in flashes(response)
    phone_only.refresh_from_db()
    assert phone_only.user is None
    run_pending_jobs()
    assert mailoutbox == []


def test_it_ignores_an_outside_next_address(client, cast, dora):
    client.force_login(cast.agent)
    response = client.post(invite_url(dora), {"next": "https://evil.example/"})
    assert response["Location"] == reverse("home")


def test_customer_cannot_invite_anyone(client, cast, dora):
    client.force_login(cast.alice)
    assert client.post(invite_url(dora)).status_code == 404
    dora.refresh_from_db()
    assert dora.user is None


def test_it_sends_anonymous_inviters_to_the_login_page(client, cast, dora):
    response = client.post(invite_url(dora))
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]


def test_it_refuses_invitations_by_get(client, cast, dora):
    client.force_login(cast.agent)
    assert client.get(invite_url(dora)).status_code == 405


def test_it_answers_404_for_an_unknown_contact(client, cast):
    client.force_login(cast.agent)
    assert client.post(reverse("customers:invite", args=[999999])).status_code == 404


def test_it_finds_contacts_by_name_e_mail_and_phone(client, cast):
    create_contact(cast.agent, name="赵先生", phone="+86 138 0000 0002")
    client.force_login(cast.agent)

    def found(query: str) -> str:
        response = client.get(reverse("customers:search"), {"q": query}, HTTP_HX_REQUEST="true")
        assert response.status_code == 200
        return response.content.decode()

    html = found("globex")
    assert "Bob" in html and "Bella" in html and "Alice" not in html
    assert "赵先生" in found("138 0000 0002")
    assert "Carol 陈" in found("陈")
    assert "No customer matches" in found("nobody-at-all")
    assert 'id="contact-results"' in found("")


def test_customer_cannot_search_contacts(client, cast):
    client.force_login(cast.bob)
    assert client.get(reverse("customers:search"), {"q": "Alice"}).status_code == 404
