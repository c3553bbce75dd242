"""Background jobs of the intake app. Each takes ids, re-fetches, and is idempotent."""

from __future__ import annotations

import logging

from kefu.lib.jobs import job

logger = logging.getLogger(__name__)


@job
def fetch_mailbox(mailbox_id: int) -> str:
    """Ingest the mailbox's unseen mail; mark each seen only after its ingest committed.

    A worker killed between the two leaves the mail unseen: the next fetch ingests it again and
    the Message-ID de-duplication turns that into a no-op, then marks it seen.
    """
    from kefu.intake.actions import IngestDeferred, ingest_email, record_fetch_result
    from kefu.intake.email.imap import MailboxError, fetch_raw, imap_session, mark_seen, unseen_uids
    from kefu.intake.models import Mailbox

    mailbox = Mailbox.objects.filter(pk=mailbox_id, is_active=True).first()
    if mailbox is None:
        return "mailbox gone or inactive"
    ingested = 0
    try:
        with imap_session(mailbox) as client:
            for uid in unseen_uids(client):
                raw = fetch_raw(client, uid)
                if raw is None:
                    continue
                ingest_email(raw, mailbox)  # commits (or records the failure) before returning
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
    return f"{ingested} messages"


@job
def retry_failed_mail(inbound_email_id: int, retry_number: int) -> str:
    """Ingest a failed mail again from its stored raw source (the ``retry_number``-th automatic
    retries, claimed by the tick); a transient failure raises, so the job is retried."""
    from kefu.intake.actions import retry_failed_mail_once

    return retry_failed_mail_once(inbound_email_id, retry_number)


@job
def send_automatic_mail(automatic_mail_id: int) -> str:
    """Send one acknowledgement or resolution notice, exactly once.

    The Message-ID is stored before the first attempt and ``sent_at`` stamped inside the row
    lock, so a retried or duplicated job finds it sent. A temporary failure raises (the job is
    retried with backoff) after storing the reason; a permanent one (SMTP 5xx) is recorded as
    failed.
    """
    from kefu.intake.models import AutoMailStatus, AutomaticMail
    from kefu.lib.mail import describe_send_error

    try:
        return _send_automatic_mail(automatic_mail_id)
    except Exception as error:
        reason, permanent = describe_send_error(error)
        AutomaticMail.objects.filter(pk=automatic_mail_id, sent_at__isnull=True).update(
            reason=reason, status=AutoMailStatus.FAILED if permanent else AutoMailStatus.PENDING
        )
        if permanent:
            return f"failed permanently: {reason}"
        raise


def _send_automatic_mail(automatic_mail_id: int) -> str:
    from django.db import transaction
    from django.utils import timezone

    from kefu.intake.email.send import automatic_message_id, mailbox_for_ticket, send_automatic
    from kefu.intake.models import AutoMailStatus, AutomaticMail

    unsent = AutomaticMail.objects.select_related("ticket").filter(pk=automatic_mail_id).first()
    if unsent is not None and not unsent.message_id:
        # Committed before the first attempt: every retry sends under the same Message-ID.
        message_id = automatic_message_id(unsent, mailbox_for_ticket(unsent.ticket))
        AutomaticMail.objects.filter(pk=unsent.pk, message_id="").update(message_id=message_id)
    with transaction.atomic():
        automatic = (
            AutomaticMail.objects.select_for_update(of=("self",))
            .select_related("ticket__contact")
            .filter(pk=automatic_mail_id)
            .first()
        )
        if automatic is None or automatic.sent_at is not None:
            return "already sent"
        if automatic.status != AutoMailStatus.PENDING:
            return f"not sent: {automatic.status}"
        # Sent inside the row lock: a second worker waits, then sees sent_at.
        send_automatic(automatic)
        AutomaticMail.objects.filter(pk=automatic.pk).update(
            sent_at=timezone.now(), status=AutoMailStatus.SENT, reason=""
        )
    return "sent"
