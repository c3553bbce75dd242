"""End to end: an invited customer reaches the portal; a customer resets a forgotten password."""

import re

from django.urls import reverse

from kefu.customers.actions import create_contact, invite_contact
from kefu.lib.jobs import run_pending_jobs
from kefu.test import PASSWORD

SET_PASSWORD_LINK = re.compile(r"https?://[^/\s]+(/accounts/password/set/[^/\s]+/[^/\s]+/)")
NEW_PASSWORD = "a new and quite long passphrase"


def link_path_in(mail) -> str:
    found = SET_PASSWORD_LINK.search(mail.body)
    assert found, mail.body
    return found.group(1)


def test_an_invited_customer_sets_a_password_and_lands_in_the_portal(client, cast, mailoutbox):
    contact = create_contact(cast.agent, name="Dora 杜", email="dora@acme.example")
    invite_contact(cast.agent, contact)
    assert run_pending_jobs() == 1

    assert [mail.to for mail in mailoutbox] == [["dora@acme.example"]]
    path = link_path_in(mailoutbox[0])
    assert client.get(path).status_code == 200
    response = client.post(
        path, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}, follow=True
    )

    assert response.redirect_chain[-1][0] == reverse("portal:tickets")
    assert response.context["user"].email == "dora@acme.example"
    assert response.context["user"].is_customer
    # The link works once: the password it was made for has changed.
    client.logout()
    assert client.get(path).status_code == 400


def test_an_invited_customer_sees_the_organisations_shared_tickets(
    client, cast, make_ticket, mailoutbox
):
    make_ticket(cast.alice, subject="Acme shared ticket")
    make_ticket(cast.bob, subject="Globex ticket")
    contact = create_contact(cast.agent, name="Dora", email="dora@acme.example")
    invite_contact(cast.agent, contact)
    run_pending_jobs()
    path = link_path_in(mailoutbox[0])
    client.post(path, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    subjects = {t.subject for t in client.get(reverse("portal:tickets")).context["tickets"]}
    assert subjects == {"Acme shared ticket"}


def test_a_customer_resets_a_forgotten_password(client, cast, mailoutbox):
    response = client.post(reverse("accounts:password_reset"), {"email": cast.carol.email})
    assert response.status_code == 302
    run_pending_jobs()
    assert [mail.to for mail in mailoutbox] == [[cast.carol.email]]

    path = link_path_in(mailoutbox[0])
    client.post(path, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    client.logout()

    old = client.post(reverse("accounts:login"), {"email": cast.carol.email, "password": PASSWORD})
    assert old.status_code == 200
    new = client.post(
        reverse("accounts:login"),
        {"email": cast.carol.email, "password": NEW_PASSWORD},
        follow=True,
    )
    assert new.redirect_chain[-1][0] == reverse("portal:tickets")


def test_a_reset_for_an_unknown_address_sends_nothing(client, cast, mailoutbox):
    client.post(reverse("accounts:password_reset"), {"email": "nobody@nowhere.example"})
    run_pending_jobs()
    assert mailoutbox == []
