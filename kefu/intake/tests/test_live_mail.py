"""End to end against real servers on loopback: Dovecot (IMAP) and an aiosmtpd SMTP listener.

Dovecot runs from its own configuration in a temporary directory (``dovecot.py``; here with a
passwd-file user); CI installs ``dovecot-imapd`` and runs these with KEFU_REQUIRE_ALL=1.
"""

from __future__ import annotations

import email
import os
import subprocess
from email import policy
from pathlib import Path

import pytest

from kefu.conftest import scratch_database
from kefu.intake.models import InboundEmail, Outcome
from kefu.intake.tests.conftest import build_mail
from kefu.intake.tests.dovecot import free_port, running_dovecot
from kefu.lib.jobs import run_pending_jobs
from kefu.lib.tick import run_tick_once
from kefu.tickets.actions import add_message
from kefu.tickets.models import Message, Ticket

USER, PASSWORD = "support", "dovecot-test-pw"


@pytest.fixture(scope="module")
def dovecot():
    auth = """
auth_mechanisms = plain login
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}
"""
    users = f"{USER}:{{PLAIN}}{PASSWORD}::::::\n"
    with running_dovecot(auth, mailbox_name=USER, files={"users": users}) as server:
        yield server


class Captured:
    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@pytest.fixture
def smtp_listener():
    from aiosmtpd.controller import Controller

    handler = Captured()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller.port, handler
    finally:
        controller.stop()


@pytest.fixture
def live_mailbox(cast, dovecot, smtp_listener):
    from kefu.intake.actions import save_mailbox

    # Earlier tests in this module may have left mail behind; start from an empty Maildir.
    for sub in ("cur", "new"):
        for path in (dovecot.maildir / sub).iterdir():
            path.unlink()
    return save_mailbox(
        cast.admin,
        name="Support",
        email_address="support@kefu.example",
        from_name="Kefu 客服",
        imap_host="127.0.0.1",
        imap_port=dovecot.port,
        imap_security="none",
        imap_user=USER,
        imap_password=PASSWORD,
        smtp_host="127.0.0.1",
        smtp_port=smtp_listener[0],
        smtp_security="none",
        group=cast.cs,
    )


def poll(mailbox) -> None:
    """What ``kefu tick`` and the worker do: claim the due mailbox, run the fetch job."""
    type(mailbox).objects.filter(pk=mailbox.pk).update(next_fetch_at=None)
    assert run_tick_once()["mailboxes"] == 1
    run_pending_jobs()


def test_mail_becomes_a_ticket_and_the_conversation_threads_both_ways(
    cast, dovecot, smtp_listener, live_mailbox
):
    _port, captured = smtp_listener
    dovecot.drop(
        build_mail(
            sender="Li Lei <li.lei@customer.example>",
            cc="Han Meimei <han@customer.example>",
            message_id="<first@customer.example>",
        )
    )
    poll(live_mailbox)
    ticket = Ticket.objects.get()
    assert ticket.contact.email == "li.lei@customer.example" and ticket.group == cast.cs
    assert dovecot.unseen() == 0  # marked seen once the ticket was committed
    [ack] = captured.messages  # the acknowledgement, threaded onto the customer's mail
    assert ack["Auto-Submitted"] == "auto-replied" and f"#{ticket.number}" in ack["Subject"]
    assert ack["In-Reply-To"] == "<first@customer.example>"
    assert ack["Message-ID"] == ticket.automatic_mails.get().message_id
    captured.messages.clear()
    captured.envelopes.clear()

    reply = add_message(cast.agent, ticket, body="请重启打印机。")
    run_pending_jobs()
    [sent] = captured.messages
    reply.refresh_from_db()
    assert sent["Message-ID"] == reply.message_id and reply.customer_notified_at
    assert sent["In-Reply-To"] == "<first@customer.example>"
    assert "<first@customer.example>" in sent["References"]
    assert f"[#{ticket.number}]" in sent["Subject"]
    assert "support@kefu.example" in sent["From"]
    assert sent["To"] == "li.lei@customer.example" and sent["Cc"] == "han@customer.example"
    assert sorted(captured.envelopes[0][1]) == ["han@customer.example", "li.lei@customer.example"]

    run_pending_jobs()  # a retried or duplicate job sends nothing more
    assert len(captured.messages) == 1

    dovecot.drop(
        build_mail(
            subject=f"Re: {sent['Subject']}", in_reply_to=reply.message_id, body="好了，谢谢"
        )
    )
    poll(live_mailbox)
    assert Ticket.objects.count() == 1
    assert ticket.messages.filter(author_contact__isnull=False).count() == 2


def test_strangers_automatic_mail_duplicates_and_broken_mail(
    cast, dovecot, smtp_listener, live_mailbox
):
    _port, captured = smtp_listener
    dovecot.drop(build_mail(message_id="<origin@customer.example>"))
    poll(live_mailbox)
    ticket = Ticket.objects.get()

    duplicate = build_mail(sender="x@customer.example", message_id="<twice@customer.example>")
    dovecot.drop(duplicate)
    dovecot.drop(duplicate)
    dovecot.drop(build_mail(sender="mallory@evil.example", subject=f"[#{ticket.number}] hi"))
    dovecot.drop(
        build_mail(
            sender="li.lei@customer.example",
            subject="Automatic reply: out of office",
            headers={"Auto-Submitted": "auto-replied"},
            in_reply_to="<origin@customer.example>",
        )
    )
    dovecot.drop((Path(__file__).parent / "fixtures" / "malformed.eml").read_bytes())
    poll(live_mailbox)

    assert Message.objects.filter(message_id="<twice@customer.example>").count() == 1
    stranger = Ticket.objects.get(contact__email="mallory@evil.example")
    assert stranger != ticket
    assert InboundEmail.objects.get(outcome=Outcome.AUTOMATIC).kind == "auto_reply"
    assert ticket.messages.count() == 1  # the auto-reply did not land on the ticket
    broken = Ticket.objects.get(contact__email="dave@example.org")
    assert broken.messages.get().attachments.filter(filename="original.eml").exists()
    assert dovecot.unseen() == 0
    # Only the new tickets were acknowledged (one each); the auto-reply was not answered.
    assert sorted(m["To"] for m in captured.messages) == [
        "dave@example.org",
        "li.lei@customer.example",
        "mallory@evil.example",
        "x@customer.example",
    ]


def test_a_worker_killed_after_the_commit_and_before_marking_seen_makes_one_ticket(
    cast, dovecot, live_mailbox, monkeypatch
):
    from kefu.intake.email import imap

    dovecot.drop(build_mail(message_id="<crash@customer.example>"))

    def killed(client, uid):
        raise OSError("worker killed")

    monkeypatch.setattr(imap, "mark_seen", killed)
    poll(live_mailbox)
    assert dovecot.unseen() == 1 and Ticket.objects.count() == 1
    monkeypatch.undo()
    poll(live_mailbox)
    assert dovecot.unseen() == 0 and Ticket.objects.count() == 1


def test_a_wrong_password_is_a_clear_error_on_the_mailbox(cast, dovecot, live_mailbox):
    from kefu.intake.actions import save_mailbox
    from kefu.intake.email.check import check_connection

    save_mailbox(cast.admin, live_mailbox, imap_password="wrong")
    live_mailbox.refresh_from_db()
    [problem] = check_connection(live_mailbox)
    assert "IMAP login as support refused" in problem
    poll(live_mailbox)
    live_mailbox.refresh_from_db()
    assert "refused" in live_mailbox.last_error


@pytest.fixture
def scratch_env(tmp_path):
    """Environment for a separate process on its own database (a file, or a scratch
    PostgreSQL database beside the configured one), never the test database."""
    env = {**os.environ, "KEFU_DATA_DIR": str(tmp_path), "KEFU_TESTING": "1"}
    env.pop("KEFU_REDIS_URL", None)
    with scratch_database("kill") as scratch_url:
        if scratch_url:
            env["KEFU_DATABASE_URL"] = scratch_url
        yield env


def test_a_worker_killed_between_parse_and_commit_and_fetching_again_makes_one_ticket(
    dovecot, scratch_env
):
    import json
    import sys

    for sub in ("cur", "new"):
        for path in (dovecot.maildir / sub).iterdir():
            path.unlink()
    dovecot.drop(build_mail(message_id="<killed@customer.example>"))

    def fetch(mode: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "kefu.intake.tests.fetch_in_subprocess"]
        return subprocess.run(
            [*command, mode, str(dovecot.port), USER, PASSWORD],
            env=scratch_env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    died = fetch("die-before-commit")
    assert died.returncode == 3, died.stderr  # killed with the ticket written, not committed
    assert dovecot.unseen() == 1
    died = fetch("die-before-seen")
    assert died.returncode == 3, died.stderr  # killed after the commit, before \Seen
    assert dovecot.unseen() == 1
    fetched = fetch("fetch")
    assert fetched.returncode == 0, fetched.stderr
    counts = json.loads(fetched.stdout.strip().splitlines()[-1])
    assert counts == {"tickets": 1, "messages": 1, "inbound": 1}
    assert dovecot.unseen() == 0


def test_one_bad_message_never_blocks_the_mailbox(cast, dovecot, live_mailbox, monkeypatch):
    """Issue 24: an encoded NUL in a subject, or any other failure of one message, used to abort
    the fetch before marking anything seen, so the mailbox stayed stuck behind that message."""
    from kefu.intake import actions

    nul_mail = Path(__file__).parent / "fixtures" / "nul_in_subject_name_body_and_filename.eml"
    exploding = build_mail(message_id="<explodes@customer.example>", subject="boom")
    unrecordable = build_mail(message_id="<unrecordable@customer.example>", subject="lost?")
    dovecot.drop(nul_mail.read_bytes())
    dovecot.drop(exploding)
    dovecot.drop(unrecordable)
    dovecot.drop(build_mail(message_id="<after@customer.example>", subject="after"))

    real_ingest, real_record = actions.ingest_email, actions.record_failed_email

    def ingest(raw, mailbox=None, **kwargs):
        if b"<explodes@" in raw or b"<unrecordable@" in raw:
            raise RuntimeError("a bug in one message's ingest")
        return real_ingest(raw, mailbox, **kwargs)

    def record(raw, mailbox, reason):
        if b"<unrecordable@" in raw:
            raise OSError("the database went away")
        return real_record(raw, mailbox, reason)

    monkeypatch.setattr(actions, "ingest_email", ingest)
    monkeypatch.setattr(actions, "record_failed_email", record)
    poll(live_mailbox)

    assert sorted(Ticket.objects.values_list("subject", flat=True)) == ["ab", "after"]
    failed = InboundEmail.objects.get(outcome=Outcome.FAILED)
    assert failed.message_id == "<explodes@customer.example>"
    assert "RuntimeError: a bug in one message's ingest" in failed.reason
    assert failed.raw.read().replace(b"\r\n", b"\n") == exploding  # IMAP hands out CRLF
    assert dovecot.unseen() == 1  # only the one that could not be recorded at all
    live_mailbox.refresh_from_db()
    assert live_mailbox.last_error == ""

    monkeypatch.undo()
    poll(live_mailbox)  # the next fetch takes the one left behind
    assert dovecot.unseen() == 0
    assert Ticket.objects.filter(subject="lost?").exists()
