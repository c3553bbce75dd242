"""Sending as a mailbox through its own SMTP account."""

from __future__ import annotations

import smtplib

from django.core.mail.backends.smtp import EmailBackend

TIMEOUT_SECONDS = 30


def smtp_connection(mailbox) -> EmailBackend:
    """A Django SMTP backend logged in as the mailbox (used whatever EMAIL_BACKEND says: the
    reply must leave through the account the customer wrote to)."""
    return EmailBackend(
        host=mailbox.smtp_host,
        port=mailbox.smtp_port,
        username=mailbox.smtp_user or None,
        password=mailbox.smtp_password or None,
        use_tls=mailbox.smtp_security == "starttls",
        use_ssl=mailbox.smtp_security == "ssl",
        timeout=TIMEOUT_SECONDS,
        fail_silently=False,
    )


def check_smtp(mailbox) -> None:
    """Connect and log in; raises ``OSError``/``smtplib.SMTPException`` with the server's answer."""
    connection = smtp_connection(mailbox)
    try:
        connection.open()
    finally:
        try:
            connection.close()
        except (OSError, smtplib.SMTPException):
            pass
