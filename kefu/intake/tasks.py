"""Background jobs of the intake app. Each takes ids, re-fetches, and is idempotent."""

from __future__ import annotations

import logging

from kefu.lib.jobs import job

logger = logging.getLogger(__name__)


@job
def fetch_mailbox(mailbox_id: int) -> str:
    """Ingest the mailbox's unseen mail; mark each seen only after its ingest committed.

    A worker killed between the two leaves the mail unseen: the next fetch ingests it again and
    the Message-ID de-duplication turns that into a no-op, then marks it seen. One bad message
    never blocks the mailbox: whatever its ingest raises, it is kept as failed with its raw bytes
    and marked seen, and the fetch goes on with the next; a message the server will not hand
    out, or that cannot be recorded at all, stays unseen for the next fetch.
    """
    from kefu.intake.actions import IngestDeferred, record_fetch_result
    from kefu.intake.email.imap import MailboxError, fetch_raw, imap_session, mark_seen, unseen_uids
    from kefu.intake.models import Mailbox

    mailbox = Mailbox.objects.filter(pk=mailbox_id, is_active=True).first()
    if mailbox is None:
        return "mailbox gone or inactive"
    ingested = skipped = 0
    try:
        with imap_session(mailbox) as client:
            for uid in unseen_uids(client):
                try:
                    raw = fetch_raw(client, uid)
                except MailboxError as error:
                    logger.warning("mailbox %s: skipping message %s: %s", mailbox, uid, error)
                    skipped += 1
                    continue
                if raw is None:
                    continue
                if not _ingest_or_record_failure(raw, mailbox):
                    skipped += 1
                    continue
                mark_seen(client, uid)
                ingested += 1
    except IngestDeferred as error:
        # Left unseen: the next poll delivers it (and the ones after it) again.
        logger.warning("fetching mailbox %s deferred: %s", mailbox, error)
        record_fetch_result(mailbox, str(error))
        return f"deferred: {error}"
    except (MailboxError, OSError) as error:
        logger.warning("fetching mailbox %s failed: %s", mailbox, error)
        record_fetch_result(mailbox, str(error))
        return f"failed: {error}"
    record_fetch_result(mailbox)
    return f"{ingested} messages" + (f", {skipped} left unseen" if skipped else "")


def _ingest_or_record_failure(raw: bytes, mailbox) -> bool:
    """Whether the message is now stored (as a ticket, a message or a failure) and may be seen.

    Both calls commit before returning, so a stored message is never lost by marking it seen.
    """
    from kefu.intake.actions import IngestDeferred, ingest_email, record_failed_email

    try:
        ingest_email(raw, mailbox)
        return True
    except IngestDeferred:
        raise  # transient (the database, the disk): the mail stays unseen for the next poll
    except Exception as error:  # one message's failure, whatever it is, must not stop the fetch
        logger.exception("mailbox %s: ingest raised; keeping the mail as failed", mailbox)
        reason = f"{type(error).__name__}: {error}"
    try:
        record_failed_email(raw, mailbox, reason)
        return True
    except Exception:
        logger.exception("mailbox %s: the failed mail could not be recorded either", mailbox)
        return False


@job
def retry_failed_mail(inbound_email_id: int, retry_number: int) -> str:
    """Ingest a failed mail again from its stored raw source (the ``retry_number``-th automatic
    retries, claimed by the tick); a transient failure raises, so the job is retried."""
    from kefu.intake.retries import retry_failed_mail_once

    return retry_failed_mail_once(inbound_email_id, retry_number)


@job
def send_automatic_mail(automatic_mail_id: int) -> str:
    """Send one acknowledgement or resolution notice, once (``kefu.lib.mail.send_once``)."""
    from kefu.intake.email.send import automatic_message_id, mailbox_for_ticket, send_automatic
    from kefu.intake.models import AutomaticMail
    from kefu.lib.mail import MailRecord, send_once

    def send(automatic) -> str:
        send_automatic(automatic)
        return "sent"

    return send_once(
        MailRecord(
            AutomaticMail,
            error_field="reason",
            status_field="status",
            select_related=("ticket__contact",),
        ),
        automatic_mail_id,
        message_id=lambda unsent: automatic_message_id(unsent, mailbox_for_ticket(unsent.ticket)),
        send=send,
    )


@job
def refresh_mailbox_token(mailbox_id: int) -> str:
    """Refresh a mailbox's OAuth2 access token ahead of its expiry (enqueued by the tick).

    A refused refresh token marks the mailbox "reconnect needed" (``refresh_access_token``); an
    unreachable provider is left to the tick, which claimed the next attempt already.
    """
    from django.utils import timezone

    from kefu.intake.email.oauth import OAuthError
    from kefu.intake.models import Mailbox
    from kefu.intake.oauth import REFRESH_AHEAD, refresh_access_token

    mailbox = Mailbox.objects.filter(pk=mailbox_id, is_active=True).first()
    if mailbox is None or mailbox.oauth_status != "connected":
        return "not connected"
    expires_at = mailbox.oauth_access_token_expires_at
    if expires_at is not None and expires_at - timezone.now() > REFRESH_AHEAD:
        return "refreshed meanwhile"  # by a fetch or send that found the token expiring
    try:
        refresh_access_token(mailbox)
    except OAuthError as error:
        logger.warning("refreshing the token of mailbox %s failed: %s", mailbox, error)
        return f"failed: {error}"
    return "refreshed"


@job
def send_reconnect_notice(mailbox_id: int) -> str:
    """E-mail every active administrator that a mailbox needs reconnecting, once per loss.

    ``oauth_reconnect_notified_at`` is stamped inside the row lock after sending, so a retried
    job finds it sent; a new connection clears it. Sent through the site's mail settings — the
    mailbox's own SMTP is what no longer works.
    """
    from django.db import transaction
    from django.utils import timezone

    from kefu.accounts.models import Role, User
    from kefu.intake.models import Mailbox
    from kefu.lib.mail import make_message

    with transaction.atomic():
        mailbox = Mailbox.objects.select_for_update().filter(pk=mailbox_id).first()
        if mailbox is None or mailbox.oauth_reconnect_needed_at is None:
            return "connected again"
        if mailbox.oauth_reconnect_notified_at is not None:
            return "already sent"
        admins = list(User.objects.filter(role=Role.ADMIN, is_active=True).exclude(email=""))
        lost = int(mailbox.oauth_reconnect_needed_at.timestamp())
        for admin in admins:
            make_message(
                "mailbox_reconnect_needed",
                {"mailbox": mailbox, "recipient": admin},
                to=[admin.email],
                language=admin.language or None,
                # One Message-ID per loss and person: a resend after a crash is the same mail.
                message_id=f"<kefu.reconnect.{mailbox.pk}.{lost}.{admin.pk}@kefu.local>",
            ).send()
        Mailbox.objects.filter(pk=mailbox.pk).update(oauth_reconnect_notified_at=timezone.now())
    return f"told {len(admins)} administrators"
