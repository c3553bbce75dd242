"""Issue 24: a failure tells the sender to retry. A transient failure (the database locked or
gone) records nothing and answers the webhook 503 with Retry-After and the CLI 75; a mail that
fails for its content is kept with its raw source, answered 202 / exit 0, and retried
automatically with backoff until the administrators are told."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.db import OperationalError
from django.test import Client
from django.utils import timezone

from kefu.intake import actions
from kefu.intake.actions import MAIL_RETRY_DELAYS, ingest_email
from kefu.intake.models import InboundEmail, Outcome
from kefu.intake.retries import claim_failed_mail_retries
from kefu.lib.jobs import run_pending_jobs
from kefu.notifications.models import Kind, Notification
from kefu.tickets.models import Ticket

NO_SENDER = b"Subject: who am I\nMessage-ID: <no-sender@customer.example>\n\nno sender at all\n"


@pytest.fixture
def database_locked_once(monkeypatch):
    """The first ingest hits a lock timeout, as under a burst on SQLite or a PostgreSQL
    restart; the next delivery finds the database working again."""
    real = actions._ingest
    calls = {"n": 0}

    def ingest(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise OperationalError("database is locked")
        return real(*args, **kwargs)

    monkeypatch.setattr(actions, "_ingest", ingest)


def post_mail(cast, raw: bytes, user=None):
    return Client().post(
        "/api/v1/channels/email/inbound",
        raw,
        content_type="message/rfc822",
        headers={"Authorization": f"Bearer {cast.token(user or cast.admin)}"},
    )


def test_a_transient_failure_answers_503_and_the_mtas_retry_is_ingested(
    cast, mail, database_locked_once
):
    raw = mail(sender="retry@customer.example")
    deferred = post_mail(cast, raw)
    assert deferred.status_code == 503
    assert deferred["Retry-After"] == "60"
    assert deferred.json() == {
        "detail": "The e-mail could not be stored just now; deliver it again later.",
        "errors": [],
    }
    assert not InboundEmail.objects.exists()  # no record to turn the retry into a duplicate

    retried = post_mail(cast, raw)
    assert retried.status_code == 200
    assert retried.json()["outcome"] == "ticket_created" and retried.json()["duplicate"] is False
    assert Ticket.objects.count() == 1


def test_agents_and_anonymous_callers_cannot_deliver_mail_even_when_it_would_defer(
    cast, mail, database_locked_once
):
    assert post_mail(cast, mail(), user=cast.agent).status_code == 403
    anonymous = Client().post(
        "/api/v1/channels/email/inbound", mail(), content_type="message/rfc822"
    )
    assert anonymous.status_code == 401


def test_a_mail_that_fails_for_its_content_is_kept_and_answered_202(cast):
    response = post_mail(cast, NO_SENDER)
    assert response.status_code == 202
    assert response.json()["outcome"] == "failed"
    assert "no usable sender" in response.json()["reason"]
    stored = InboundEmail.objects.get()
    assert stored.raw.read() == NO_SENDER
    assert stored.retry_due_at is not None and stored.retry_attempts == 0


def test_the_cli_exits_75_on_a_transient_failure_and_0_for_a_mail_kept_as_failed(
    cast, mail, tmp_path, database_locked_once
):
    path = tmp_path / "mail.eml"
    path.write_bytes(mail(sender="pipe@customer.example"))
    with pytest.raises(SystemExit) as exit_status:
        call_command("mail_ingest", str(path), stderr=io.StringIO())
    assert exit_status.value.code == 75
    assert not InboundEmail.objects.exists()

    out = io.StringIO()
    call_command("mail_ingest", str(path), stdout=out)  # the MTA's retry
    assert "ticket #" in out.getvalue()

    path.write_bytes(NO_SENDER)
    err = io.StringIO()
    call_command("mail_ingest", str(path), stderr=err)  # returns: exit status 0
    assert "no usable sender" in err.getvalue()


def test_a_failed_mail_is_retried_with_backoff_and_succeeds_once_the_cause_is_gone(
    cast, mail, monkeypatch
):
    raw = mail(sender="later@customer.example")
    real = actions._ingest
    monkeypatch.setattr(actions, "_ingest", lambda *a, **k: 1 / 0)  # a bug, fixed later
    failed = ingest_email(raw).inbound
    assert failed.outcome == Outcome.FAILED and "ZeroDivisionError" in failed.reason

    assert claim_failed_mail_retries() == 0  # not due yet
    with time_machine.travel(timezone.now() + MAIL_RETRY_DELAYS[0] + timedelta(seconds=1)):
        assert claim_failed_mail_retries() == 1
        assert claim_failed_mail_retries() == 0  # claimed once, by one tick
        run_pending_jobs()
    failed.refresh_from_db()
    assert failed.retry_attempts == 1 and failed.outcome == Outcome.FAILED
    assert failed.retry_due_at is not None

    monkeypatch.setattr(actions, "_ingest", real)
    with time_machine.travel(failed.retry_due_at + timedelta(seconds=1)):
        assert claim_failed_mail_retries() == 1
        run_pending_jobs()
    ingested = InboundEmail.objects.get()
    assert ingested.outcome == Outcome.TICKET_CREATED and ingested.retry_due_at is None
    assert Ticket.objects.count() == 1


def test_after_the_last_retry_the_administrators_are_told_and_nobody_else(cast, mailoutbox):
    failed = ingest_email(NO_SENDER).inbound
    moment = timezone.now()
    for _attempt in MAIL_RETRY_DELAYS:
        failed.refresh_from_db()
        moment = failed.retry_due_at + timedelta(seconds=1)
        with time_machine.travel(moment):
            assert claim_failed_mail_retries() == 1
            run_pending_jobs()
    failed.refresh_from_db()
    assert failed.retry_attempts == len(MAIL_RETRY_DELAYS) and failed.retry_due_at is None
    with time_machine.travel(moment + timedelta(days=2)):
        assert claim_failed_mail_retries() == 0

    told = Notification.objects.filter(kind=Kind.MAIL_FAILED)
    assert list(told.values_list("recipient", flat=True)) == [cast.admin.pk]
    notification = told.get()
    assert notification.ticket is None and "no usable sender" in notification.summary
    assert notification.is_by_email
    [told_by_mail] = [m for m in mailoutbox if m.to == [cast.admin.email]]
    assert "no usable sender" in told_by_mail.subject
    assert "http://" in told_by_mail.body and "/intake/mailboxes/" in told_by_mail.body

    # The administrator opens it from the console; others cannot.
    admin = Client()
    admin.force_login(cast.admin)
    page = admin.get("/notifications/")
    assert "still fails after every automatic retry" in page.content.decode()
    opened = admin.post(f"/notifications/{notification.pk}/open/")
    assert opened.status_code == 302 and opened["Location"] == "/intake/mailboxes/"
    agent = Client()
    agent.force_login(cast.agent)
    assert agent.post(f"/notifications/{notification.pk}/open/").status_code == 404


def test_the_retry_button_stays_for_humans(cast):
    failed = ingest_email(NO_SENDER).inbound
    admin = Client()
    admin.force_login(cast.admin)
    response = admin.post(f"/intake/mailboxes/failed/{failed.pk}/retry/")
    assert response.status_code in (200, 302)
    failed.refresh_from_db()
    assert failed.outcome == Outcome.FAILED  # still no sender: kept, with its reason


def test_a_transient_failure_leaves_the_imap_mail_unseen_for_the_next_poll(
    cast, mailbox, mail, monkeypatch, database_locked_once
):
    from contextlib import contextmanager

    from kefu.intake.email import imap
    from kefu.intake.tasks import fetch_mailbox

    server = {1: mail(sender="imap@customer.example"), 2: mail(sender="imap2@customer.example")}
    seen: list[int] = []

    @contextmanager
    def session(_mailbox):
        yield "client"

    monkeypatch.setattr(imap, "imap_session", session)
    monkeypatch.setattr(imap, "unseen_uids", lambda _client: [u for u in server if u not in seen])
    monkeypatch.setattr(imap, "fetch_raw", lambda _client, uid: server[uid])
    monkeypatch.setattr(imap, "mark_seen", lambda _client, uid: seen.append(uid))

    assert fetch_mailbox.call(mailbox.pk).startswith("deferred")
    assert seen == [] and not InboundEmail.objects.exists()
    mailbox.refresh_from_db()
    assert "database is locked" in mailbox.last_error

    assert fetch_mailbox.call(mailbox.pk) == "2 messages"  # the next poll
    assert seen == [1, 2] and Ticket.objects.count() == 2


def test_the_retry_button_says_so_when_the_database_is_busy(cast, monkeypatch):
    failed = ingest_email(NO_SENDER).inbound
    monkeypatch.setattr(
        actions, "_ingest", lambda *a, **k: (_ for _ in ()).throw(OperationalError("locked"))
    )
    admin = Client()
    admin.force_login(cast.admin)
    page = admin.post(f"/intake/mailboxes/failed/{failed.pk}/retry/", follow=True)
    assert "The database is busy or unreachable" in page.content.decode()
    assert InboundEmail.objects.get().pk == failed.pk  # kept, untouched
