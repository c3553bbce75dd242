"""Mailbox administration in the console and the API, and the inbound webhook."""

from __future__ import annotations

import pytest
from django.test import Client

from kefu.intake.models import Mailbox
from kefu.test import PASSWORD
from kefu.tickets.models import Ticket


def login(user) -> Client:
    client = Client()
    assert client.login(email=user.email, password=PASSWORD)
    return client


def test_an_admin_adds_a_mailbox_in_the_console_and_the_password_is_write_only(cast):
    client = login(cast.admin)
    data = {
        "name": "Sales",
        "email_address": "sales@kefu.example",
        "imap_host": "imap.exmail.qq.com",
        "imap_port": 993,
        "imap_security": "ssl",
        "imap_user": "sales@kefu.example",
        "imap_password": "app-pass",
        "imap_folder": "INBOX",
        "smtp_host": "smtp.exmail.qq.com",
        "smtp_port": 465,
        "smtp_security": "ssl",
        "smtp_user": "sales@kefu.example",
        "poll_interval_seconds": 120,
        "is_active": "on",
    }
    response = client.post("/intake/mailboxes/new/", data)
    assert response.status_code == 302
    mailbox = Mailbox.objects.get()
    assert mailbox.imap_password == "app-pass" and mailbox.next_fetch_at is not None

    page = client.get(f"/intake/mailboxes/{mailbox.pk}/")
    assert b"app-pass" not in page.content
    client.post(f"/intake/mailboxes/{mailbox.pk}/", {**data, "imap_password": ""})
    mailbox.refresh_from_db()
    assert mailbox.imap_password == "app-pass"  # empty keeps the stored password


def test_a_bad_poll_interval_is_an_error_and_keeps_what_was_typed(cast):
    response = login(cast.admin).post(
        "/intake/mailboxes/new/",
        {"name": "Typed name", "email_address": "x@kefu.example", "poll_interval_seconds": 5},
    )
    assert response.status_code == 200
    assert b"Typed name" in response.content
    assert not Mailbox.objects.exists()


def test_the_test_button_reports_a_clear_error(cast, mailbox):
    response = login(cast.admin).post(f"/intake/mailboxes/{mailbox.pk}/test/", follow=True)
    text = response.content.decode()
    assert "Cannot connect to IMAP server 127.0.0.1:1" in text


@pytest.mark.parametrize("who", ["agent", "supervisor", "alice"])
def test_non_admins_do_not_see_mailboxes(cast, mailbox, who):
    client = login(getattr(cast, who))
    # Staff without the role get 403, customers 404 (docs/architecture.md, permission guards).
    expected = 404 if who == "alice" else 403
    assert client.get("/intake/mailboxes/").status_code == expected
    assert client.get(f"/intake/mailboxes/{mailbox.pk}/").status_code == expected


def test_the_mailbox_list_has_a_fixed_query_count(cast, mailbox, django_assert_max_num_queries):
    client = login(cast.admin)
    with django_assert_max_num_queries(12):
        assert client.get("/intake/mailboxes/").status_code == 200


def test_the_inbound_webhook_ingests_raw_mail_for_admin_tokens_only(cast, api_as, mail):
    raw = mail(sender="webhook@customer.example")
    agent = Client().post(
        "/api/v1/channels/email/inbound",
        raw,
        content_type="message/rfc822",
        headers={"Authorization": f"Bearer {cast.token(cast.agent)}"},
    )
    assert agent.status_code == 403 and not Ticket.objects.exists()
    anonymous = Client().post("/api/v1/channels/email/inbound", raw, content_type="message/rfc822")
    assert anonymous.status_code == 401

    def send():
        return Client().post(
            "/api/v1/channels/email/inbound",
            raw,
            content_type="message/rfc822",
            headers={"Authorization": f"Bearer {cast.token(cast.admin)}"},
        )

    first, again = send(), send()
    assert first.status_code == 200 and first.json()["outcome"] == "ticket_created"
    assert again.json()["duplicate"] is True
    assert first.json()["ticket"]["number"] == Ticket.objects.get().number


def test_the_inbound_webhook_refuses_an_empty_body(cast):
    response = Client().post(
        "/api/v1/channels/email/inbound",
        b"",
        content_type="message/rfc822",
        headers={"Authorization": f"Bearer {cast.token(cast.admin)}"},
    )
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "body"


def test_mailboxes_through_the_api_never_show_passwords(cast, api_as):
    api = api_as(cast.admin)
    created = api.post(
        "/channels/email/mailboxes",
        {
            "name": "Aliyun",
            "email_address": "help@kefu.example",
            "imap_host": "imap.qiye.aliyun.com",
            "imap_user": "help@kefu.example",
            "imap_password": "pw-1",
            "smtp_host": "smtp.qiye.aliyun.com",
            "smtp_user": "help@kefu.example",
            "smtp_password": "pw-2",
            "group": cast.aftersales.pk,
            "denied_senders": ["@spam.example"],
        },
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert "pw-1" not in created.content.decode() and body["has_imap_password"] is True
    assert body["group"] == {"id": cast.aftersales.pk, "name": cast.aftersales.name}
    changed = api.patch(f"/channels/email/mailboxes/{body['id']}", {"is_active": False})
    assert changed.status_code == 200 and changed.json()["is_active"] is False
    assert Mailbox.objects.get().imap_password == "pw-1"
    bad = api.post("/channels/email/mailboxes", {"name": "x", "poll_interval_seconds": 1})
    assert bad.status_code == 422


@pytest.mark.parametrize("who", ["agent", "supervisor", "alice"])
def test_non_admins_cannot_list_or_read_mailboxes_through_the_api(cast, api_as, mailbox, who):
    api = api_as(getattr(cast, who))
    assert api.get("/channels/email/mailboxes").status_code == 403
    assert api.get(f"/channels/email/mailboxes/{mailbox.pk}").status_code == 404


def test_an_agent_sees_the_email_ticket_with_its_inline_image(cast, mailbox):
    from pathlib import Path

    from kefu.intake.actions import ingest_email

    raw = (Path(__file__).parent / "fixtures" / "no_message_id_html_inline.eml").read_bytes()
    ticket = ingest_email(raw, mailbox).ticket
    ticket.group = cast.cs
    ticket.save()
    image = ticket.messages.get().attachments.get()
    page = login(cast.agent).get(f"/tickets/{ticket.pk}/")
    assert page.status_code == 200
    assert f'src="/tickets/attachments/{image.pk}/"'.encode() in page.content
    assert login(cast.quality_agent).get(f"/tickets/{ticket.pk}/").status_code == 404
