"""Automatic mail (acknowledgement, resolution notice), failed sends, bounces, failed-mail retry."""

from __future__ import annotations

import smtplib
import socket
from datetime import timedelta

import pytest
import time_machine
from django.core import mail as django_mail
from django.template.defaultfilters import date as date_filter
from django.test import Client
from django.utils import timezone, translation

from kefu.intake.actions import ingest_email, save_group_mail_settings
from kefu.intake.models import AutoMailStatus, AutomaticMail, InboundEmail, Outcome
from kefu.lib.jobs import run_pending_jobs
from kefu.lib.mail import describe_send_error
from kefu.test import PASSWORD
from kefu.tickets.actions import add_message, update_ticket
from kefu.tickets.models import State


def login(user) -> Client:
    client = Client()
    assert client.login(email=user.email, password=PASSWORD)
    return client


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_new_mail_ticket_is_acknowledged_once_with_its_number_and_first_response_time(cast, mail):
    ticket = ingest_email(mail(message_id="<ask@customer.example>")).ticket
    run_pending_jobs()
    run_pending_jobs()  # a second run finds it sent
    [sent] = django_mail.outbox
    automatic = AutomaticMail.objects.get(ticket=ticket)
    assert automatic.status == AutoMailStatus.SENT and automatic.sent_at is not None
    assert sent.extra_headers["Message-ID"] == automatic.message_id
    assert sent.extra_headers["Auto-Submitted"] == "auto-replied"
    assert sent.extra_headers["In-Reply-To"] == "<ask@customer.example>"
    assert sent.subject.startswith(f"[#{ticket.number}]") and sent.to == ["li.lei@customer.example"]
    with translation.override("en"):
        due = date_filter(timezone.localtime(ticket.sla.first_response_due_at), "DATETIME_FORMAT")
    assert f"ticket #{ticket.number}" in sent.body and due in sent.body


def test_the_customers_answer_to_the_acknowledgement_threads_into_the_ticket(cast, mail):
    ticket = ingest_email(mail()).ticket
    run_pending_jobs()
    automatic = AutomaticMail.objects.get(ticket=ticket)
    answer = ingest_email(mail(subject="Re: hello", in_reply_to=automatic.message_id))
    assert answer.outcome == Outcome.MESSAGE_ADDED and answer.ticket == ticket


def test_a_group_can_turn_automatic_mail_off(cast, mail):
    save_group_mail_settings(
        cast.admin, cast.cs, send_acknowledgement=False, send_resolution_notice=False
    )
    ticket = ingest_email(mail()).ticket
    update_ticket(cast.agent, ticket, state=State.RESOLVED)
    run_pending_jobs()
    assert django_mail.outbox == [] and not AutomaticMail.objects.exists()


def test_one_address_gets_at_most_three_automatic_mails_an_hour(cast, mail):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        for n in range(4):
            ingest_email(mail(sender="bot@loop.example", subject=f"Ticket {n}"))
        run_pending_jobs()
        assert len(django_mail.outbox) == 3
        skipped = AutomaticMail.objects.get(status=AutoMailStatus.SKIPPED)
        assert "Rate limit" in skipped.reason
        clock.shift(timedelta(minutes=61))
        ingest_email(mail(sender="bot@loop.example", subject="Later"))
        run_pending_jobs()
        assert len(django_mail.outbox) == 4


def test_resolving_an_email_ticket_tells_the_customer_but_a_web_ticket_gets_nothing(
    cast, mail, make_ticket
):
    ticket = ingest_email(mail()).ticket
    run_pending_jobs()
    django_mail.outbox.clear()
    update_ticket(cast.agent, ticket, state=State.RESOLVED)
    web_ticket = make_ticket()
    update_ticket(cast.agent, web_ticket, state=State.RESOLVED)
    run_pending_jobs()
    [sent] = django_mail.outbox
    assert sent.to == ["li.lei@customer.example"] and "resolved" in sent.body
    assert sent.extra_headers["Auto-Submitted"] == "auto-generated"


class WorkerKilled(BaseException):
    """Stands for SIGKILL: nothing in the job may catch it."""


def test_a_worker_killed_after_the_server_took_the_acknowledgement_resends_the_same_message_id(
    cast, mail, smtp_server, monkeypatch
):
    from email import message_from_bytes

    from kefu.intake.email import send as sending
    from kefu.intake.tasks import send_automatic_mail

    ticket = ingest_email(mail()).ticket
    automatic = AutomaticMail.objects.get(ticket=ticket)
    real_send = sending.send_automatic

    def send_then_die(row):
        real_send(row)  # the server answered 250 to DATA ...
        raise WorkerKilled  # ... and the worker died before sent_at committed

    monkeypatch.setattr(sending, "send_automatic", send_then_die)
    with pytest.raises(WorkerKilled):
        send_automatic_mail.call(automatic.pk)
    automatic.refresh_from_db()
    assert automatic.sent_at is None and automatic.message_id  # rolled back; the id was kept

    monkeypatch.setattr(sending, "send_automatic", real_send)
    send_automatic_mail.call(automatic.pk)  # the reaper's re-run
    send_automatic_mail.call(automatic.pk)  # and any later one: already sent
    # At-least-once with a stable Message-ID (docs/channels.md, "Sending once"): the receiver
    # sees one message under two deliveries.
    ids = [message_from_bytes(raw)["Message-ID"] for raw in smtp_server.delivered]
    assert ids == [automatic.message_id, automatic.message_id]
    automatic.refresh_from_db()
    assert automatic.status == AutoMailStatus.SENT and automatic.sent_at is not None


def test_smtp_errors_are_described_and_5xx_counts_as_permanent():
    refused = smtplib.SMTPRecipientsRefused({"x@y.example": (550, b"5.1.1 no such user")})
    assert describe_send_error(refused) == ("x@y.example: 550 5.1.1 no such user", True)
    assert describe_send_error(smtplib.SMTPDataError(451, b"try later"))[1] is False
    assert describe_send_error(ConnectionRefusedError(111, "refused"))[1] is False


class Rejecting:
    def __init__(self):
        self.reject = True
        self.delivered: list[bytes] = []

    async def handle_RCPT(self, server, session, envelope, address, options):  # noqa: N802
        if self.reject:
            return "550 5.1.1 <li.lei@customer.example>: no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.delivered.append(envelope.content)
        return "250 OK"


@pytest.fixture
def rejecting_smtp(cast, mailbox):
    from aiosmtpd.controller import Controller

    from kefu.intake.actions import save_mailbox

    handler = Rejecting()
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    save_mailbox(cast.admin, mailbox, smtp_port=controller.port)
    save_group_mail_settings(
        cast.admin, cast.aftersales, send_acknowledgement=False, send_resolution_notice=False
    )
    try:
        yield handler
    finally:
        controller.stop()


def test_a_permanently_refused_reply_shows_its_error_and_is_sent_again_by_the_retry_button(
    cast, mail, mailbox, rejecting_smtp
):
    ticket = ingest_email(mail(), mailbox).ticket
    update_ticket(cast.admin, ticket, group=cast.cs)  # the cast's agents work in cs
    reply = add_message(cast.agent, ticket, body="请重启打印机。")
    run_pending_jobs()
    reply.refresh_from_db()
    assert "550 5.1.1" in reply.delivery_error and reply.customer_notified_at is None

    page = login(cast.agent).get(f"/tickets/{ticket.pk}/")
    assert b"Not delivered to the customer" in page.content and b"Retry sending" in page.content
    url = f"/tickets/{ticket.pk}/messages/{reply.pk}/retry/"
    assert login(cast.quality_agent).post(url).status_code == 404  # the outsider
    login(cast.tech_agent).post(url)  # read-only access: refused, nothing queued
    reply.refresh_from_db()
    assert reply.delivery_error

    rejecting_smtp.reject = False
    assert login(cast.agent).post(url).status_code == 302
    run_pending_jobs()
    reply.refresh_from_db()
    assert reply.customer_notified_at is not None and reply.delivery_error == ""
    assert len(rejecting_smtp.delivered) == 1


def test_an_unreachable_smtp_server_is_recorded_and_the_send_retried(cast, mail, mailbox):
    save_group_mail_settings(
        cast.admin, cast.aftersales, send_acknowledgement=False, send_resolution_notice=False
    )
    ticket = ingest_email(mail(), mailbox).ticket  # the mailbox's SMTP port 1 refuses
    reply = add_message(cast.admin, ticket, body="hello")
    run_pending_jobs()
    reply.refresh_from_db()
    assert reply.delivery_error.startswith("ConnectionRefusedError")
    from django_tasks_db.models import DBTaskResult

    assert DBTaskResult.objects.filter(status="READY").exists()  # the retry with backoff


def _bounce_for(message_id: str, address: str) -> bytes:
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.customer.example>\r\n"
        f"To: support@kefu.example\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <bounce-1@mx.customer.example>\r\nAuto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        "--b\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.customer.example\r\n\r\n"
        f"Final-Recipient: rfc822; {address}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n"
        "--b\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"Message-ID: {message_id}\r\nSubject: hello\r\n"
        "--b--\r\n"
    ).encode()


def test_a_permanent_bounce_marks_the_reply_and_flags_the_address_until_they_write_again(
    cast, mail
):
    ticket = ingest_email(mail()).ticket
    reply = add_message(cast.agent, ticket, body="请重启打印机。")
    run_pending_jobs()
    reply.refresh_from_db()
    assert reply.customer_notified_at and reply.message_id

    bounce = ingest_email(_bounce_for(reply.message_id, "li.lei@customer.example"))
    assert bounce.outcome == Outcome.AUTOMATIC and bounce.ticket == ticket
    reply.refresh_from_db()
    assert reply.delivery_error.startswith("Bounced") and "user unknown" in reply.delivery_error
    contact = ticket.contact
    contact.refresh_from_db()
    assert contact.email_bounced_at is not None
    page = login(cast.agent).get(f"/tickets/{ticket.pk}/")
    assert b"Bounced permanently" in page.content and b"Not delivered" in page.content

    second = add_message(cast.agent, ticket, body="还在吗？")
    run_pending_jobs()
    second.refresh_from_db()
    assert second.customer_notified_at is None and "bounced permanently" in second.delivery_error

    ingest_email(mail(subject="Re: still here", in_reply_to=reply.message_id))
    contact.refresh_from_db()
    assert contact.email_bounced_at is None


def test_an_admin_retries_failed_mail_after_the_cause_is_fixed(cast, mail, mailbox, settings):
    settings.MAX_INBOUND_EMAIL_MB = 0
    failed = ingest_email(mail(), mailbox).inbound
    assert failed.outcome == Outcome.FAILED
    url = f"/intake/mailboxes/failed/{failed.pk}/retry/"
    assert b"Retry" in login(cast.admin).get("/intake/mailboxes/").content
    assert login(cast.agent).post(url).status_code == 403  # administrators only

    response = login(cast.admin).post(url, follow=True)
    assert b"failed again" in response.content
    failed.refresh_from_db()
    assert failed.outcome == Outcome.FAILED  # kept, with its raw source

    settings.MAX_INBOUND_EMAIL_MB = 30
    login(cast.admin).post(url)
    retried = InboundEmail.objects.get()
    assert retried.outcome == Outcome.TICKET_CREATED and retried.ticket is not None
    assert login(cast.admin).post(url).status_code == 404  # no longer a failed mail


def test_admins_switch_automatic_mail_per_group_and_others_cannot(cast):
    url = "/intake/mailboxes/automatic-mail/"
    assert login(cast.agent).get(url).status_code == 403  # staff without the role
    assert login(cast.alice).get(url).status_code == 404  # customers: no such page
    client = login(cast.admin)
    assert cast.cs.name.encode() in client.get(url).content
    response = client.post(url, {"group": cast.cs.pk, "send_acknowledgement": "on"})
    assert response.status_code == 302
    settings_row = cast.cs.mail_settings
    assert settings_row.send_acknowledgement and not settings_row.send_resolution_notice


def test_a_groups_send_as_mailbox_sends_its_replies_and_automatic_mail(cast, mail, mailbox):
    from aiosmtpd.controller import Controller

    from kefu.intake.actions import save_mailbox

    handler = Rejecting()
    handler.reject = False
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        service = save_mailbox(
            cast.admin,
            name="After-sales",
            email_address="service@kefu.example",
            from_name="售后服务部",
            imap_host="127.0.0.1",
            imap_port=1,
            imap_security="none",
            imap_user="service",
            imap_password="secret",
            smtp_host="127.0.0.1",
            smtp_port=controller.port,
            smtp_security="none",
            smtp_user="",
        )
        save_group_mail_settings(
            cast.admin,
            cast.cs,
            send_acknowledgement=False,
            send_resolution_notice=True,
            sending_mailbox=service,
        )
        # The customer wrote to support@ (whose SMTP port 1 refuses everything) …
        ticket = ingest_email(mail(message_id="<q1@customer.example>"), mailbox).ticket
        update_ticket(cast.admin, ticket, group=cast.cs)
        reply = add_message(cast.agent, ticket, body="我们派工程师上门。")
        update_ticket(cast.agent, ticket, state=State.RESOLVED)
        run_pending_jobs()
        reply.refresh_from_db()
        # … but 客服部 answers as service@, through service@'s own SMTP account.
        assert reply.delivery_error == "" and reply.customer_notified_at is not None
        assert reply.message_id.endswith("@kefu.example>")
        # The acknowledgement (queued while the ticket was in 售后服务部, sent after the move),
        # the reply and the resolution notice.
        assert len(handler.delivered) == 3
        for raw in handler.delivered:
            assert b"service@kefu.example" in raw.split(b"\r\n\r\n", 1)[0]
            assert b"In-Reply-To: <q1@customer.example>" in raw
        statuses = set(AutomaticMail.objects.filter(ticket=ticket).values_list("status", flat=True))
        assert statuses == {AutoMailStatus.SENT}

        # Deactivating the sender mailbox falls back to the mailbox the customer wrote to.
        from kefu.intake.email.send import mailbox_for_ticket

        save_mailbox(cast.admin, service, is_active=False)
        assert mailbox_for_ticket(ticket) == mailbox
    finally:
        controller.stop()


def test_admins_choose_the_send_as_mailbox_in_the_console_and_the_api(cast, mailbox):
    url = "/intake/mailboxes/automatic-mail/"
    client = login(cast.admin)
    assert b"Send as" in client.get(url).content
    client.post(
        url,
        {"group": cast.cs.pk, "send_acknowledgement": "on", "sending_mailbox": mailbox.pk},
    )
    assert cast.cs.mail_settings.sending_mailbox == mailbox

    api = "/api/v1/channels/email/group-settings"
    headers = {"Authorization": f"Bearer {cast.token(cast.admin)}"}
    listed = Client().get(api, headers=headers).json()["items"]
    cs_row = next(row for row in listed if row["group"]["id"] == cast.cs.pk)
    assert cs_row["sending_mailbox"] == {"id": mailbox.pk, "name": mailbox.name}
    assert cs_row["send_acknowledgement"] and not cs_row["send_resolution_notice"]

    changed = Client().patch(
        f"{api}/{cast.cs.pk}",
        {"sending_mailbox": None, "send_resolution_notice": True},
        content_type="application/json",
        headers=headers,
    )
    assert changed.status_code == 200, changed.content
    assert changed.json()["sending_mailbox"] is None
    assert changed.json()["send_acknowledgement"] and changed.json()["send_resolution_notice"]

    unknown = Client().patch(
        f"{api}/{cast.cs.pk}",
        {"sending_mailbox": 999999},
        content_type="application/json",
        headers=headers,
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "sending_mailbox"

    agent_headers = {"Authorization": f"Bearer {cast.token(cast.agent)}"}
    assert Client().get(api, headers=agent_headers).status_code == 403
    refused = Client().patch(
        f"{api}/{cast.cs.pk}",
        {"sending_mailbox": mailbox.pk},
        content_type="application/json",
        headers=agent_headers,
    )
    assert refused.status_code == 403
    cast.cs.mail_settings.refresh_from_db()
    assert cast.cs.mail_settings.sending_mailbox is None
