"""Automatic retries of failed inbound mail: the tick claims each failed mail whose
``retry_due_at`` has come (``MAIL_RETRY_DELAYS`` apart), the ``retry_failed_mail`` job ingests it
again from its stored raw source, and after the last attempt the administrators are told
(``InboundMailAbandoned``)."""

from __future__ import annotations

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from kefu.intake import events as intake_events
from kefu.intake.actions import MAIL_RETRY_DELAYS, ingest_email
from kefu.intake.models import InboundEmail, Outcome


def claim_failed_mail_retries() -> int:
    """Tick: enqueue ``retry_failed_mail`` for every failed mail whose ``retry_due_at`` is due.

    The conditional UPDATE moves ``retry_due_at`` to the next attempt (or clears it after the
    last) before the job exists, so two tick processes never enqueue the same retry twice.
    """
    from kefu.intake.tasks import retry_failed_mail

    now = timezone.now()
    due = InboundEmail.objects.filter(retry_due_at__lte=now).order_by("retry_due_at")
    claimed = 0
    for pk, due_at, attempts in due.values_list("pk", "retry_due_at", "retry_attempts")[:100]:
        attempt = attempts + 1
        next_due = now + MAIL_RETRY_DELAYS[attempt] if attempt < len(MAIL_RETRY_DELAYS) else None
        with transaction.atomic():
            won = InboundEmail.objects.filter(pk=pk, retry_due_at=due_at).update(
                retry_due_at=next_due, retry_attempts=attempt
            )
            if won:
                retry_failed_mail.enqueue(pk, attempt)
                claimed += 1
    return claimed


def retry_failed_mail_once(inbound_id: int, retry_number: int) -> str:
    """One automatic retry of a failed mail (the system's act); after the last one fails, the
    administrators are told. Raises ``IngestDeferred`` on a transient failure (the job retries)."""
    inbound = InboundEmail.objects.filter(pk=inbound_id, outcome=Outcome.FAILED).first()
    if inbound is None:
        return "no longer failed"
    if not inbound.raw:
        return "raw message not kept"
    with inbound.raw.open("rb") as handle:
        raw = handle.read()
    result = ingest_email(raw, inbound.mailbox, replacing=inbound)
    if result.outcome != Outcome.FAILED:
        return f"ingested: {result.outcome}"
    if retry_number >= len(MAIL_RETRY_DELAYS):
        intake_events.publish(
            intake_events.InboundMailAbandoned(
                inbound=result.inbound,
                summary=f"{inbound.from_email}: {inbound.subject} — {result.inbound.reason}",
                link=reverse("intake:mailboxes"),
            )
        )
        return f"failed for good: {result.inbound.reason}"
    return f"failed again: {result.inbound.reason}"
