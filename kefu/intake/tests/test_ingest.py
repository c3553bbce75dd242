"""The ingest action: tickets, threading, de-duplication, loop protection, malformed mail."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import time_machine
from django.utils import timezone

from kefu.intake.actions import ingest_email
from kefu.intake.models import InboundEmail, Mailbox, Outcome, TicketParticipant
from kefu.tickets.actions import update_ticket
from kefu.tickets.models import Channel, Message, State, Ticket

FIXTURES = Path(__file__).parent / "fixtures"


def test_a_new_mail_opens_an_email_ticket_for_a_new_contact_in_the_mailbox_group(
    cast, mailbox, mail
):
    result = ingest_email(mail(), mailbox)
    ticket = result.ticket
    assert result.outcome == Outcome.TICKET_CREATED
    assert (ticket.channel, ticket.subject, ticket.group) == (
        Channel.EMAIL,
        "打印机报错 E23",
        cast.aftersales,
    )
    assert ticket.contact.email == "li.lei@customer.example"
    assert ticket.contact.name == "Li Lei"
    first = ticket.messages.get()
    assert first.body_text == "开机后黑屏。"
    assert first.message_id.endswith("@customer.example>")
    assert first.author_contact == ticket.contact and first.author_user is None


def test_the_sender_joins_the_organisation_of_their_domain(cast, mail):
    result = ingest_email(mail(sender="New Person <new@acme.example>"))
    assert result.ticket.organization == cast.acme


def test_the_same_mail_twice_is_one_message(cast, mail):
    raw = mail()
    first = ingest_email(raw)
    second = ingest_email(raw)
    assert second.duplicate and second.inbound.pk == first.inbound.pk
    assert Ticket.objects.count() == 1 and Message.objects.count() == 1


def test_a_mail_without_message_id_is_deduplicated_by_its_bytes(cast, mail):
    raw = mail(message_id=None)
    ingest_email(raw)
    assert ingest_email(raw).duplicate
    assert Ticket.objects.count() == 1


def test_a_reply_threads_by_in_reply_to_and_reopens_a_resolved_ticket(cast, mail):
    first = ingest_email(mail(message_id="<q1@customer.example>"))
    ticket = first.ticket
    update_ticket(cast.admin, ticket, state=State.RESOLVED)
    reply = ingest_email(
        mail(subject="Re: something else", in_reply_to="<q1@customer.example>", body="还是不行")
    )
    assert reply.outcome == Outcome.MESSAGE_ADDED and reply.ticket == ticket
    ticket.refresh_from_db()
    assert ticket.state == State.OPEN
    assert ticket.messages.count() == 2


def test_after_the_reopen_window_a_reply_opens_a_new_linked_ticket(cast, mail, settings):
    settings.REOPEN_WINDOW_DAYS = 7
    first = ingest_email(mail(message_id="<old@customer.example>")).ticket
    update_ticket(cast.admin, first, state=State.RESOLVED)
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        result = ingest_email(mail(in_reply_to="<old@customer.example>"))
    assert result.outcome == Outcome.TICKET_CREATED and result.ticket != first
    note = result.ticket.messages.get(is_internal=True)
    assert f"#{first.number}" in note.body_text


def test_a_ticket_number_in_the_subject_threads_only_for_participants(cast, mail):
    ticket = ingest_email(mail(cc="Han Meimei <han@customer.example>")).ticket
    assert TicketParticipant.objects.filter(ticket=ticket, contact__email="han@customer.example")

    from_contact = ingest_email(mail(subject=f"Re: [#{ticket.number}] 打印机"))
    from_cc = ingest_email(
        mail(sender="han@customer.example", subject=f"[#{ticket.number}] also broken")
    )
    stranger = ingest_email(
        mail(sender="mallory@evil.example", subject=f"[#{ticket.number}] let me in")
    )
    assert from_contact.ticket == ticket and from_cc.ticket == ticket
    assert stranger.outcome == Outcome.TICKET_CREATED and stranger.ticket != ticket
    assert stranger.ticket.contact.email == "mallory@evil.example"


def test_our_own_mailbox_and_staff_are_never_participants(cast, mailbox, mail):
    ticket = ingest_email(
        mail(cc=f"support@kefu.example, {cast.agent.email}, Bob <bob2@customer.example>"),
        mailbox,
    ).ticket
    assert list(
        TicketParticipant.objects.filter(ticket=ticket).values_list("contact__email", flat=True)
    ) == ["bob2@customer.example"]


def test_an_agent_answering_by_mail_becomes_an_internal_note(cast, mail):
    ticket = ingest_email(mail(message_id="<c1@customer.example>")).ticket
    result = ingest_email(mail(sender=cast.agent.email, in_reply_to="<c1@customer.example>"))
    note = result.inbound.ticket_message
    assert result.ticket == ticket and note.is_internal and note.author_user == cast.agent


def test_auto_replies_and_bounces_open_nothing_and_send_nothing(cast, mail, mailoutbox):
    auto = ingest_email(mail(headers={"Auto-Submitted": "auto-replied"}, subject="Out of office"))
    bounce = ingest_email(
        mail(sender="MAILER-DAEMON@mx.customer.example", subject="Undelivered Mail")
    )
    bulk = ingest_email(mail(headers={"Precedence": "bulk"}))
    assert {auto.outcome, bounce.outcome, bulk.outcome} == {Outcome.AUTOMATIC}
    assert bounce.inbound.kind == "bounce"
    assert Ticket.objects.count() == 0
    assert mailoutbox == []


def test_a_bounce_of_our_reply_is_attached_to_its_ticket(cast, mail):
    ticket = ingest_email(mail()).ticket
    ours = Message.objects.create(
        ticket=ticket, author_user=cast.agent, body_text="hi", message_id="<kefu.9.1@kefu.example>"
    )
    bounce = ingest_email(
        mail(
            sender="MAILER-DAEMON@mx.customer.example",
            subject="Undelivered Mail Returned to Sender",
            in_reply_to=ours.message_id,
            body="550 5.1.1 user unknown",
        )
    )
    assert bounce.outcome == Outcome.AUTOMATIC and bounce.ticket == ticket
    assert bounce.inbound.is_permanent_failure


def test_denied_senders_are_recorded_not_ticketed(cast, mailbox, mail):
    mailbox.denied_senders = "@spam.example"
    mailbox.save()
    result = ingest_email(mail(sender="x@spam.example"), mailbox)
    assert result.outcome == Outcome.DENIED and Ticket.objects.count() == 0


def test_a_malformed_mail_opens_a_ticket_with_the_original_attached(cast):
    raw = (FIXTURES / "malformed.eml").read_bytes()
    result = ingest_email(raw)
    message = result.ticket.messages.get()
    assert "The text that survived." in message.body_text
    original = message.attachments.get(filename="original.eml")
    assert original.file.read() == raw


def test_inline_images_point_at_their_stored_attachment(cast):
    result = ingest_email((FIXTURES / "no_message_id_html_inline.eml").read_bytes())
    message = result.ticket.messages.get()
    image = message.attachments.get(filename="shot.png")
    assert f'src="/tickets/attachments/{image.pk}/"' in message.body_html


def test_an_oversized_mail_is_recorded_as_failed_with_the_reason(cast, mail, settings):
    settings.MAX_INBOUND_EMAIL_MB = 1
    raw = mail(body="x" * (1024 * 1024 + 10))
    result = ingest_email(raw)
    assert result.outcome == Outcome.FAILED and "over the limit" in result.inbound.reason
    assert result.inbound.raw.read() == raw
    assert Ticket.objects.count() == 0


def test_mail_without_any_sender_address_is_kept_as_failed(cast):
    result = ingest_email(b"Subject: who am I\n\nno sender at all\n")
    assert result.outcome == Outcome.FAILED and InboundEmail.objects.count() == 1


def test_mailbox_passwords_are_encrypted_at_rest(mailbox):
    stored = Mailbox.objects.values_list("imap_password_encrypted", flat=True).get()
    assert "secret-imap" not in stored
    assert Mailbox.objects.get().imap_password == "secret-imap"
