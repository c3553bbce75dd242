"""NUL and lone surrogates in mail (issue 24 item 3): parsed clean, stored on every path.

On PostgreSQL an encoded NUL in the subject (``=?utf-8?q?a=00b?=``) made the ingest fail and
even the failure record could not be written. The IMAP path is in test_live_mail.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from kefu.intake.email.parse import parse_email
from kefu.intake.models import InboundEmail, Outcome
from kefu.lib.text import first_unsafe_character
from kefu.tickets.models import Ticket

NUL_MAIL = Path(__file__).parent / "fixtures" / "nul_in_subject_name_body_and_filename.eml"


def _assert_clean(*values: str) -> None:
    for value in values:
        assert first_unsafe_character(value) is None, ascii(value)


def test_every_text_of_a_parsed_mail_is_clean():
    parsed = parse_email(NUL_MAIL.read_bytes() + b"")
    assert parsed.subject == "ab"
    assert parsed.from_display_name == "Li Lei"
    assert parsed.header("x-mailer") == "oldmailer"
    assert parsed.body_text.startswith("line one and a lone surrogate")
    _assert_clean(
        parsed.body_text,
        parsed.body_html,
        *(a.filename for a in parsed.attachments),
        *(value for values in parsed.headers.values() for value in values),
    )


def test_a_lone_surrogate_from_a_utf16_part_is_replaced():
    raw = (
        b"From: li.lei@customer.example\r\nSubject: utf-16\r\n"
        b"Content-Type: text/plain; charset=utf-16-le\r\n\r\n"
        + "a\ud800b".encode("utf-16-le", "surrogatepass")
    )
    assert parse_email(raw).body_text == "a\ufffdb"


def _assert_ticket_from_the_nul_mail() -> None:
    ticket = Ticket.objects.get()
    assert ticket.subject == "ab"
    assert ticket.contact.name == "Li Lei"
    message = ticket.messages.get()
    assert "\x00" not in message.body_text and "line one" in message.body_text
    assert InboundEmail.objects.get().outcome == Outcome.TICKET_CREATED


def test_a_nul_in_the_subject_through_the_webhook_makes_a_ticket(cast):
    response = Client().post(
        "/api/v1/channels/email/inbound",
        NUL_MAIL.read_bytes(),
        content_type="message/rfc822",
        headers={"Authorization": f"Bearer {cast.token(cast.admin)}"},
    )
    assert response.status_code == 200, response.content
    assert response.json()["outcome"] == "ticket_created"
    _assert_ticket_from_the_nul_mail()


def test_a_nul_in_the_webhook_mailbox_parameter_is_a_clear_error(cast):
    response = Client().post(
        "/api/v1/channels/email/inbound?mailbox=support%00@kefu.example",
        NUL_MAIL.read_bytes(),
        content_type="message/rfc822",
        headers={"Authorization": f"Bearer {cast.token(cast.admin)}"},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "mailbox"
    assert not Ticket.objects.exists()


def test_a_nul_in_the_subject_through_the_cli_makes_a_ticket(cast, capsys):
    call_command("mail_ingest", str(NUL_MAIL))
    assert "ticket #" in capsys.readouterr().out
    _assert_ticket_from_the_nul_mail()


def test_a_mailbox_argument_that_is_not_utf8_is_a_clear_error(cast):
    """``kefu mail ingest --mailbox $'\\xff'``: Python hands the byte over as a lone surrogate."""
    with pytest.raises(CommandError, match="No mailbox has the address"):
        call_command("mail_ingest", str(NUL_MAIL), mailbox="support\udcff@kefu.example")
    assert not Ticket.objects.exists()
