"""Notification e-mails, sent by the worker. Each job takes a notification id and is idempotent."""

from __future__ import annotations

from kefu.lib.jobs import job
from kefu.lib.mail import MailRecord, Skip, make_message, new_message_id, send_once


@job
def send_notification_email(notification_id: int) -> str:
    """E-mail one notification to its recipient, once even when retried (``send_once``)."""
    from kefu.notifications.models import Notification

    return send_once(
        MailRecord(
            Notification,
            message_id_field="email_message_id",
            sent_at_field="emailed_at",
            unsent={"is_by_email": True},
            select_related=(
                "recipient",
                "ticket__contact",
                "ticket__group",
                "actor",
                "message",
                "event",
            ),
        ),
        notification_id,
        message_id=lambda _notification: new_message_id(),
        send=_send_notification,
    )


def _send_notification(notification) -> str | Skip:
    recipient = notification.recipient
    if not (recipient.is_active and recipient.email):
        return Skip("not wanted")
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
    return "sent"
