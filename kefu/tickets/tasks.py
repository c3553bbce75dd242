"""Background jobs of the tickets app. Each takes ids, re-fetches, and is idempotent."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.lib.jobs import job
from kefu.lib.mail import MailRecord, Skip, make_message, send_once


@job
def send_reply_to_customer(message_id: int) -> str:
    """E-mail an agent's public reply to the ticket's customer, once (``send_once``).

    A failed send is never dropped silently: the reason is stored on ``Message.delivery_error``
    (shown on the timeline with a retry button). A temporary failure is retried with backoff; a
    permanent one (an SMTP 5xx) stops there.
    """
    from kefu.tickets.models import Message
    from kefu.tickets.outbound import message_id_for

    return send_once(
        MailRecord(
            Message,
            sent_at_field="customer_notified_at",
            error_field="delivery_error",
            unsent={"is_internal": False},
            select_related=("ticket__contact", "author_user"),
        ),
        message_id,
        message_id=message_id_for,
        send=_send_reply,
    )


def _send_reply(message) -> str | Skip:
    contact = message.ticket.contact
    if contact.email and contact.email_bounced_at is not None:
        reason = _(
            "Not sent: mail to %(address)s bounced permanently on %(when)s (%(reason)s)."
        ) % {
            "address": contact.email,
            "when": timezone.localtime(contact.email_bounced_at).strftime("%Y-%m-%d %H:%M"),
            "reason": contact.email_bounce_reason or "-",
        }
        return Skip("address bounced", error=reason)
    from kefu.tickets.outbound import deliver_by_channel

    if deliver_by_channel(message):
        return "sent by the ticket's channel"
    if not contact.email:
        return "customer has no e-mail address"
    email = make_message(
        "ticket_reply",
        {"ticket": message.ticket, "message": message, "contact": contact},
        to=[contact.email],
        language=contact.language or None,
        message_id=message.message_id,
    )
    email.send()
    return "sent"


@job
def reindex_tickets(batch_size: int = 500) -> str:
    """Rebuild the search documents, one batch per run; each run enqueues the next.

    Resumable and idempotent: the checkpoint lives in the database, and indexing a batch twice
    writes the same documents.
    """
    from kefu.tickets.search import reindex_next_batch

    with transaction.atomic():
        count = reindex_next_batch(batch_size)
        if count:
            reindex_tickets.enqueue(batch_size)
    return f"indexed {count}" if count else "done"
