"""Outgoing e-mail: built from template files with stable Message-IDs for threading
(``make_message``), and sent once per stored row however often its job runs (``send_once``)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import make_msgid
from django.db import models, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

logger = logging.getLogger(__name__)


def new_message_id(domain: str | None = None) -> str:
    return make_msgid(domain=domain or "kefu.local")


def make_message(
    template: str,
    context: dict,
    *,
    to: list[str],
    language: str | None = None,
    message_id: str | None = None,
    in_reply_to: str | None = None,
    references: list[str] | None = None,
    reply_to: list[str] | None = None,
) -> EmailMultiAlternatives:
    """Render ``templates/emails/<template>.{subject.txt,txt,html}`` into a message.

    ``message_id`` should be stored by the caller before sending, so a retried job sends the
    same message (receivers de-duplicate by Message-ID).
    """
    context = {"site_name": settings.SITE_NAME, "site_url": settings.SITE_URL, **context}
    with translation.override(language or settings.LANGUAGE_CODE):
        subject = " ".join(render_to_string(f"emails/{template}.subject.txt", context).split())
        text = render_to_string(f"emails/{template}.txt", context)
        html = render_to_string(f"emails/{template}.html", context)
    headers = {"Message-ID": message_id or new_message_id()}
    if in_reply_to:
        headers["In-Reply-To"] = in_reply_to
    if references:
        headers["References"] = " ".join(references)
    headers["Auto-Submitted"] = "auto-generated" if template.startswith("account_") else "no"
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=to,
        headers=headers,
        reply_to=reply_to,
    )
    message.attach_alternative(html, "text/html")
    return message


def describe_send_error(error: BaseException) -> tuple[str, bool]:
    """A readable reason for a failed send, and whether retrying cannot help (an SMTP 5xx:
    refused recipient, sender or login)."""
    import smtplib

    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _text in error.recipients.values()]
        details = "; ".join(
            f"{address}: {code} {_decode(text)}"
            for address, (code, text) in error.recipients.items()
        )
        return details or str(error), bool(codes) and all(code >= 500 for code in codes)
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{error.smtp_code} {_decode(error.smtp_error)}", error.smtp_code >= 500
    return f"{type(error).__name__}: {error}", False


def _decode(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


@dataclass(frozen=True)
class MailRecord:
    """Where a model keeps the state of the one e-mail each of its rows stands for.

    ``unsent`` narrows the rows that are mail at all (an internal note is not); ``status_field``
    (optional) holds ``pending`` / ``sent`` / ``failed``; ``error_field`` (optional) the reason a
    person reads when a send failed.
    """

    model: type[models.Model]
    message_id_field: str = "message_id"
    sent_at_field: str = "sent_at"
    error_field: str | None = None
    status_field: str | None = None
    unsent: dict[str, Any] = field(default_factory=dict)
    select_related: tuple[str, ...] = ()


@dataclass(frozen=True)
class Skip:
    """What a send function returns when it decided not to send: ``outcome`` is the job's result,
    ``error`` (when given) is stored on the row for a person to read. The row stays unsent."""

    outcome: str
    error: str = ""


PENDING, SENT, FAILED = "pending", "sent", "failed"


def send_once(
    record: MailRecord,
    pk: int,
    *,
    message_id: Callable[[Any], str],
    send: Callable[[Any], str | Skip],
) -> str:
    """Send the e-mail row ``pk`` stands for, once however often its job runs.

    1. The Message-ID is fixed and committed before the first attempt (``message_id(row)``), so
       every attempt sends the very same message.
    2. Under a row lock (the claim) the row is re-read; when ``sent_at`` is set it is done.
       ``send(row)`` sends it and returns the job's outcome (or a ``Skip``); ``sent_at`` is
       stamped in the same transaction. A second worker waits for the lock, then sees it sent.
    3. A failed send stores its reason. A temporary failure (SMTP 4xx, connection refused or
       dropped) raises, so the job retries with backoff; a permanent one (SMTP 5xx: refused
       recipient, sender or login) marks the row failed and stops.

    A worker killed after the SMTP server accepted the DATA but before ``sent_at`` committed:
    the transaction rolls back, the reaper runs the job again and the mail goes out a second
    time under the same Message-ID. The guarantee is at-least-once with a stable Message-ID,
    which receivers (and Kefu's own threading) de-duplicate; no SMTP exchange can make it
    strictly exactly-once (docs/jobs.md).
    """
    try:
        return _claim_and_send(record, pk, message_id, send)
    except Exception as error:
        reason, permanent = describe_send_error(error)
        changes: dict[str, Any] = {}
        if record.error_field:
            changes[record.error_field] = reason
        if record.status_field:
            changes[record.status_field] = FAILED if permanent else PENDING
        if changes:
            record.model._default_manager.filter(
                pk=pk, **{f"{record.sent_at_field}__isnull": True}
            ).update(**changes)
        if permanent:
            logger.warning("%s %s failed permanently: %s", record.model.__name__, pk, reason)
            return f"failed permanently: {reason}"
        raise


def _claim_and_send(
    record: MailRecord,
    pk: int,
    message_id: Callable[[Any], str],
    send: Callable[[Any], str | Skip],
) -> str:
    rows = record.model._default_manager.filter(pk=pk, **record.unsent)
    unsent = rows.filter(**{f"{record.sent_at_field}__isnull": True}).first()
    if unsent is not None and not getattr(unsent, record.message_id_field):
        # Committed before the first attempt: every retry sends under the same Message-ID.
        rows.filter(**{record.message_id_field: ""}).update(
            **{record.message_id_field: message_id(unsent)}
        )
    with transaction.atomic():
        row = rows.select_for_update(of=("self",)).select_related(*record.select_related).first()
        if row is None:
            return "nothing to send"
        if getattr(row, record.sent_at_field) is not None:
            return "already sent"
        if record.status_field and getattr(row, record.status_field) != PENDING:
            return f"not sent: {getattr(row, record.status_field)}"
        outcome = send(row)
        if isinstance(outcome, Skip):
            if outcome.error and record.error_field:
                rows.update(**{record.error_field: outcome.error})
            return outcome.outcome
        done: dict[str, Any] = {record.sent_at_field: timezone.now()}
        if record.error_field:
            done[record.error_field] = ""
        if record.status_field:
            done[record.status_field] = SENT
        rows.update(**done)
    return outcome
