"""Background jobs of the tickets app. Each takes ids, re-fetches, and is idempotent."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from kefu.lib.jobs import job
from kefu.lib.mail import make_message


@job
def send_reply_to_customer(message_id: int) -> str:
    """E-mail an agent's public reply to the ticket's customer (once, even when retried)."""
    from kefu.tickets.models import Message

    with transaction.atomic():
        message = (
            Message.objects.select_for_update(of=("self",))
            .select_related("ticket__contact", "author_user")
            .get(pk=message_id)
        )
        if message.customer_notified_at is not None or message.is_internal:
            return "already sent"
        from kefu.tickets.outbound import deliver_by_channel

        if deliver_by_channel(message):
            Message.objects.filter(pk=message.pk).update(customer_notified_at=timezone.now())
            return "sent by the ticket's channel"
        contact = message.ticket.contact
        if not contact.email:
            Message.objects.filter(pk=message.pk).update(customer_notified_at=timezone.now())
            return "customer has no e-mail address"
        email = make_message(
            "ticket_reply",
            {"ticket": message.ticket, "message": message, "contact": contact},
            to=[contact.email],
            language=contact.language or None,
            message_id=f"<kefu-message-{message.pk}@kefu.local>",
        )
        # Sent inside the row lock: a second worker waits, then sees customer_notified_at.
        email.send()
        Message.objects.filter(pk=message.pk).update(customer_notified_at=timezone.now())
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
