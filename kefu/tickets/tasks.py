"""Background jobs of the tickets app. Each takes ids, re-fetches, and is idempotent."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.lib.jobs import job
from kefu.lib.mail import describe_send_error, make_message


@job
def send_reply_to_customer(message_id: int) -> str:
    """E-mail an agent's public reply to the ticket's customer (once, even when retried).

    A failed send is never dropped silently: the reason is stored on ``Message.delivery_error``
    (shown on the timeline with a retry button). A temporary failure raises, so the job is
    retried with backoff; a permanent one (an SMTP 5xx) stops here.
    """
    from kefu.tickets.models import Message

    try:
        outcome = _send_reply(message_id)
    except Exception as error:
        reason, permanent = describe_send_error(error)
        Message.objects.filter(pk=message_id, customer_notified_at__isnull=True).update(
            delivery_error=reason
        )
        if permanent:
            return f"failed permanently: {reason}"
        raise
    return outcome


def _send_reply(message_id: int) -> str:
    from kefu.tickets.models import Message

    with transaction.atomic():
        message = (
            Message.objects.select_for_update(of=("self",))
            .select_related("ticket__contact", "author_user")
            .get(pk=message_id)
        )
        if message.customer_notified_at is not None or message.is_internal:
            return "already sent"
        contact = message.ticket.contact
        if contact.email and contact.email_bounced_at is not None:
            reason = _(
                "Not sent: mail to %(address)s bounced permanently on %(when)s (%(reason)s)."
            ) % {
                "address": contact.email,
                "when": timezone.localtime(contact.email_bounced_at).strftime("%Y-%m-%d %H:%M"),
                "reason": contact.email_bounce_reason or "-",
            }
            Message.objects.filter(pk=message.pk).update(delivery_error=reason)
            return "address bounced"
        from kefu.tickets.outbound import deliver_by_channel

        if deliver_by_channel(message):
            Message.objects.filter(pk=message.pk).update(
                customer_notified_at=timezone.now(), delivery_error=""
            )
            return "sent by the ticket's channel"
        if not contact.email:
            Message.objects.filter(pk=message.pk).update(customer_notified_at=timezone.now())
            return "customer has no e-mail address"
        if not message.message_id:
            # Stored, so a customer's answer or a bounce quoting it finds this ticket.
            message.message_id = f"<kefu-message-{message.pk}@kefu.local>"
            Message.objects.filter(pk=message.pk).update(message_id=message.message_id)
        email = make_message(
            "ticket_reply",
            {"ticket": message.ticket, "message": message, "contact": contact},
            to=[contact.email],
            language=contact.language or None,
            message_id=message.message_id,
        )
        # Sent inside the row lock: a second worker waits, then sees customer_notified_at.
        email.send()
        Message.objects.filter(pk=message.pk).update(
            customer_notified_at=timezone.now(), delivery_error=""
        )
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
