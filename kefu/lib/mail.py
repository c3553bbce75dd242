"""Building outgoing e-mail from template files, with stable Message-IDs for threading."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import make_msgid
from django.template.loader import render_to_string
from django.utils import translation


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
