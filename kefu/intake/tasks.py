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
    from kefu.intake.actions import ingest_email, record_fetch_result
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
    except (MailboxError, OSError) as error:
        logger.warning("fetching mailbox %s failed: %s", mailbox, error)
        record_fetch_result(mailbox, str(error))
        return f"failed: {error}"
    record_fetch_result(mailbox)
    return f"{ingested} messages"


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
