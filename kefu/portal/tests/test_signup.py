"""Self sign-up: verification by e-mail, expiry and resend, known addresses, existing contacts,
domain restriction, throttling, and sign-up switched off."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from kefu.accounts.models import User
from kefu.customers.actions import create_contact
from kefu.customers.models import Contact
from kefu.lib.jobs import run_pending_jobs

VERIFY_LINK = re.compile(r"https?://[^/\s]+(/portal/signup/verify/[^/\s]+/)")
PASSWORD = "a long and lovely passphrase"
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(autouse=True)
def signup_on(settings):
    settings.PORTAL_SIGNUP = "on"
    # Throttle counters live in the cache: a fresh prefix per test instead of clearing it.
    default = settings.CACHES["default"]
    settings.CACHES = {**settings.CACHES, "default": {**default, "KEY_PREFIX": uuid4().hex}}


def sign_up(client, email="dora@example.com", name="Dora 杜"):
    return client.post(reverse("portal:signup"), {"email": email, "name": name})


def link_in(mail) -> str:
    found = VERIFY_LINK.search(mail.body)
    assert found, mail.body
    return found.group(1)


def log_in(client, email, password=PASSWORD):
    return client.post(reverse("accounts:login"), {"email": email, "password": password})


def test_a_visitor_signs_up_verifies_and_lands_in_the_portal(client, cast, mailoutbox):
    assert client.get(reverse("portal:signup")).status_code == 200
    response = sign_up(client)
    assert response.url == reverse("portal:signup_sent")
    assert "dora@example.com" in client.get(response.url).content.decode()
    run_pending_jobs()
    [mail] = mailoutbox
    assert mail.to == ["dora@example.com"]

    path = link_in(mail)
    assert client.get(path).status_code == 200
    response = client.post(path, {"password1": PASSWORD, "password2": PASSWORD}, follow=True)

    assert response.redirect_chain[-1][0] == reverse("portal:tickets")
    user = response.context["user"]
    assert (user.email, user.name, user.is_customer) == ("dora@example.com", "Dora 杜", True)
    assert Contact.objects.get(user=user).email == "dora@example.com"


def test_an_unverified_sign_up_cannot_log_in(client, cast, mailoutbox):
    sign_up(client)
    run_pending_jobs()
    assert not User.objects.filter(email="dora@example.com").exists()
    assert log_in(client, "dora@example.com").status_code == 200  # the form again, with an error
    assert "_auth_user_id" not in client.session


def test_a_verification_link_works_once(client, cast, mailoutbox):
    sign_up(client)
    run_pending_jobs()
    path = link_in(mailoutbox[0])
    client.post(path, {"password1": PASSWORD, "password2": PASSWORD})
    client.logout()
    response = client.post(
        path, {"password1": "another password 123", "password2": "another password 123"}
    )
    assert response.url == reverse("accounts:login")
    assert log_in(client, "dora@example.com").status_code == 302  # the first password stands


def test_an_expired_link_offers_a_new_one(client, cast, mailoutbox, settings):
    settings.PORTAL_SIGNUP_LINK_HOURS = 48
    with time_machine.travel(NOW, tick=False) as clock:
        sign_up(client)
        run_pending_jobs()
        path = link_in(mailoutbox[0])
        clock.shift(timedelta(hours=49))
        response = client.get(path)
        assert response.status_code == 400
        assert "expired" in response.content.decode()
        assert client.post(path, {"password1": PASSWORD, "password2": PASSWORD}).status_code == 400
        assert not User.objects.filter(email="dora@example.com").exists()

        client.post(
            reverse("portal:signup_resend"), {"email": "dora@example.com", "name": "Dora 杜"}
        )
        run_pending_jobs()
        fresh = link_in(mailoutbox[-1])
        assert fresh != path
        response = client.post(fresh, {"password1": PASSWORD, "password2": PASSWORD})
    assert response.url == reverse("portal:tickets")


def test_a_forged_link_is_refused(client, cast):
    response = client.get(reverse("portal:signup_verify", args=["not-a-real-token"]))
    assert response.status_code == 400


def test_it_resends_the_link(client, cast, mailoutbox):
    sign_up(client)
    client.post(reverse("portal:signup_resend"), {"email": "dora@example.com", "name": "Dora 杜"})
    run_pending_jobs()
    assert [mail.to for mail in mailoutbox] == [["dora@example.com"]] * 2


def test_a_known_address_gets_an_account_exists_mail_and_no_second_login(client, cast, mailoutbox):
    response = sign_up(client, email=cast.alice.email.upper(), name="Mallory")
    # The page says the same as for a new address: it does not reveal who has an account.
    assert response.url == reverse("portal:signup_sent")
    run_pending_jobs()
    [mail] = mailoutbox
    assert mail.to == [cast.alice.email]
    assert "already has an account" in mail.body
    assert not VERIFY_LINK.search(mail.body)
    assert User.objects.filter(email__iexact=cast.alice.email).count() == 1


def test_an_existing_contact_is_linked_not_duplicated(client, cast, mailoutbox):
    contact = create_contact(cast.agent, name="Dora (phone)", email="dora@acme.example")
    sign_up(client, email="dora@acme.example", name="Dora")
    run_pending_jobs()
    client.post(link_in(mailoutbox[0]), {"password1": PASSWORD, "password2": PASSWORD})

    assert Contact.objects.filter(email__iexact="dora@acme.example").count() == 1
    contact.refresh_from_db()
    assert contact.user is not None and contact.user.email == "dora@acme.example"
    # Acme's domain: she joined the organisation, which shares tickets.
    assert contact.organization == cast.acme


def test_a_weak_password_is_refused_and_nothing_is_created(client, cast, mailoutbox):
    sign_up(client)
    run_pending_jobs()
    response = client.post(link_in(mailoutbox[0]), {"password1": "123", "password2": "123"})
    assert response.status_code == 200
    assert response.context["form"].errors["password1"]
    assert not User.objects.filter(email="dora@example.com").exists()


def test_sign_up_is_off_by_default_and_then_every_page_is_missing(client, cast, settings):
    settings.PORTAL_SIGNUP = "off"
    assert client.get(reverse("portal:signup")).status_code == 404
    assert sign_up(client).status_code == 404
    assert client.get(reverse("portal:signup_verify", args=["x"])).status_code == 404
    assert "Create an account" not in client.get(reverse("accounts:login")).content.decode()


def test_a_link_from_before_sign_up_was_switched_off_no_longer_works(
    client, cast, settings, mailoutbox
):
    sign_up(client)
    run_pending_jobs()
    settings.PORTAL_SIGNUP = "off"
    assert (
        client.post(
            link_in(mailoutbox[0]), {"password1": PASSWORD, "password2": PASSWORD}
        ).status_code
        == 404
    )
    assert not User.objects.filter(email="dora@example.com").exists()


def test_domain_mode_accepts_only_customer_organisation_domains(client, cast, settings, mailoutbox):
    settings.PORTAL_SIGNUP = "domain"
    settings.PORTAL_SIGNUP_DOMAINS = ["partner.example"]
    refused = sign_up(client, email="eve@gmail.example")
    assert refused.status_code == 200
    assert refused.context["form"].errors["email"]
    assert sign_up(client, email="dora@acme.example").status_code == 302
    assert sign_up(client, email="paul@partner.example").status_code == 302
    run_pending_jobs()
    assert sorted(mail.to[0] for mail in mailoutbox) == [
        "dora@acme.example",
        "paul@partner.example",
    ]


def test_sign_up_requests_are_throttled_like_logins(client, cast, settings, mailoutbox):
    settings.LOGIN_MAX_FAILURES = 2
    assert sign_up(client).status_code == 302
    assert sign_up(client).status_code == 302
    throttled = sign_up(client)
    assert throttled.status_code == 200
    assert "Too many requests" in throttled.content.decode()
    run_pending_jobs()
    assert len(mailoutbox) == 2


def test_the_login_page_offers_sign_up_when_it_is_open(client, cast):
    assert reverse("portal:signup") in client.get(reverse("accounts:login")).content.decode()
