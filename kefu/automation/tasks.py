"""Background jobs of automation: notification e-mails and webhook deliveries. Each takes an
id, re-fetches, and is idempotent."""

from __future__ import annotations

from kefu.lib.jobs import job
from kefu.lib.mail import MailRecord, make_message, new_message_id, send_once


@job
def send_automation_mail(mail_id: int) -> str:
    """Send one trigger/time-rule e-mail, once (``send_once``)."""
    from kefu.automation.models import AutomationMail

    return send_once(
        MailRecord(
            AutomationMail, error_field="error", status_field="status", select_related=("ticket",)
        ),
        mail_id,
        message_id=lambda _mail: new_message_id(),
        send=_send_automation_mail,
    )


def _send_automation_mail(mail) -> str:
    email = make_message(
        "automation_notice",
        {"ticket": mail.ticket, "subject": mail.subject, "body": mail.body},
        to=[mail.to_address],
        language=mail.language or None,
        message_id=mail.message_id,
    )
    email.extra_headers["Auto-Submitted"] = "auto-generated"
    email.send()
    return "sent"


@job
def deliver_webhook(delivery_id: int) -> str:
    """Deliver one outgoing webhook call; raises (and is retried with backoff) while worth it."""
    from kefu.automation.actions.webhooks import attempt_delivery

    return attempt_delivery(delivery_id)
