"""Notification e-mails, sent by the worker. Each job takes a notification id and is idempotent."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from kefu.lib.jobs import job
from kefu.lib.mail import make_message, new_message_id


@job
def send_notification_email(notification_id: int) -> str:
    """E-mail one notification to its recipient, once even when retried.

    The Message-ID is stored before sending and ``emailed_at`` after, inside a row lock: a second
    worker waits for the lock, then sees ``emailed_at`` and stops. A failed send raises, so the
    job is retried with backoff (``kefu.lib.jobs``).
    """
    from kefu.notifications.models import Notification

    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(of=("self",))
            .select_related(
                "recipient", "ticket__contact", "ticket__group", "actor", "message", "event"
            )
            .filter(pk=notification_id)
            .first()
        )
        if notification is None:
            return "notification gone"
        if notification.emailed_at is not None:
            return "already sent"
        recipient = notification.recipient
        if not (notification.is_by_email and recipient.is_active and recipient.email):
            return "not wanted"
        if not notification.email_message_id:
            notification.email_message_id = new_message_id()
            Notification.objects.filter(pk=notification.pk).update(
                email_message_id=notification.email_message_id
            )
        email = make_message(
            "notification",
            {
                "notification": notification,
                "ticket": notification.ticket,
                "recipient": recipient,
                "actor": notification.actor,
                "message": notification.message,
            },
            to=[recipient.email],
            language=recipient.language or None,
            message_id=notification.email_message_id,
        )
        # A machine's mail: out-of-office replies must not answer it.
        email.extra_headers["Auto-Submitted"] = "auto-generated"
        email.send()
        Notification.objects.filter(pk=notification.pk).update(emailed_at=timezone.now())
    return "sent"
