"""Background jobs of automation: notification e-mails and webhook deliveries. Each takes an
id, re-fetches, and is idempotent."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from kefu.lib.jobs import job
from kefu.lib.mail import describe_send_error, make_message, new_message_id


@job
def send_automation_mail(mail_id: int) -> str:
    """Send one trigger/time-rule e-mail, once. The Message-ID is committed before the first
    attempt and ``sent_at`` stamped under the row lock, so a retry finds it sent."""
    from kefu.automation.models import AutomationMail, MailStatus

    try:
        return _send(mail_id)
    except Exception as error:
        reason, permanent = describe_send_error(error)
        AutomationMail.objects.filter(pk=mail_id, sent_at__isnull=True).update(
            error=reason, status=MailStatus.FAILED if permanent else MailStatus.PENDING
        )
        if permanent:
            return f"failed permanently: {reason}"
        raise


def _send(mail_id: int) -> str:
    from kefu.automation.models import AutomationMail, MailStatus

    AutomationMail.objects.filter(pk=mail_id, message_id="").update(message_id=new_message_id())
    with transaction.atomic():
        mail = (
            AutomationMail.objects.select_for_update(of=("self",))
            .select_related("ticket")
            .filter(pk=mail_id)
            .first()
        )
        if mail is None or mail.sent_at is not None:
            return "already sent"
        if mail.status != MailStatus.PENDING:
            return f"not sent: {mail.status}"
        email = make_message(
            "automation_notice",
            {"ticket": mail.ticket, "subject": mail.subject, "body": mail.body},
            to=[mail.to_address],
            language=mail.language or None,
            message_id=mail.message_id,
        )
        email.extra_headers["Auto-Submitted"] = "auto-generated"
        # Sent inside the row lock: a second worker waits, then sees sent_at.
        email.send()
        AutomationMail.objects.filter(pk=mail.pk).update(
            sent_at=timezone.now(), status=MailStatus.SENT, error=""
        )
    return "sent"


@job
def deliver_webhook(delivery_id: int) -> str:
    """Deliver one outgoing webhook call; raises (and is retried with backoff) while worth it."""
    from kefu.automation.actions.webhooks import attempt_delivery

    return attempt_delivery(delivery_id)
