"""Sending as a mailbox through its own SMTP account: password login, or SASL XOAUTH2."""

from __future__ import annotations

import smtplib

from django.core.mail.backends.smtp import EmailBackend

TIMEOUT_SECONDS = 30


class XOAuth2EmailBackend(EmailBackend):
    """Django's SMTP backend logging in with XOAUTH2 instead of a password.

    The access token is taken when the connection opens (a queued job may run long after it
    was created). A refused token is refreshed and tried once more. A mailbox that must be
    connected again fails with SMTP 535, which the send jobs record as a permanent failure with
    the reason (retried by a person after reconnecting); an unreachable token endpoint is an
    ``OSError``, retried with backoff.
    """

    def __init__(self, mailbox, **kwargs):
        # Empty, not None (None means the site's EMAIL_HOST_USER): no password login.
        super().__init__(username="", password="", **kwargs)
        self.mailbox = mailbox

    def open(self) -> bool | None:
        opened = super().open()  # connects (and STARTTLS)
        if not opened:
            return opened
        try:
            self._authenticate()
        except BaseException:
            self.close()
            raise
        return opened

    def _authenticate(self) -> None:
        from kefu.intake.email.oauth import OAuthError, XOAuth2Responder
        from kefu.intake.oauth import access_token

        connection = self.connection
        if connection is None:
            raise smtplib.SMTPServerDisconnected("the connection closed before logging in")
        connection.ehlo_or_helo_if_needed()
        login = self.mailbox.smtp_login
        for attempt in (1, 2):
            try:
                token = access_token(self.mailbox, force_refresh=attempt == 2)
            except OAuthError as error:
                if error.is_transient:
                    raise ConnectionError(str(error)) from error
                raise smtplib.SMTPAuthenticationError(535, str(error).encode()) from error
            try:
                connection.auth("XOAUTH2", XOAuth2Responder(login, token).smtp)
                return
            except smtplib.SMTPAuthenticationError:
                if attempt == 2:
                    raise


def smtp_connection(mailbox) -> EmailBackend:
    """A Django SMTP backend logged in as the mailbox (used whatever EMAIL_BACKEND says: the
    reply must leave through the account the customer wrote to)."""
    if mailbox.is_oauth:
        return XOAuth2EmailBackend(
            mailbox,
            host=mailbox.smtp_host,
            port=mailbox.smtp_port,
            use_tls=mailbox.smtp_security == "starttls",
            use_ssl=mailbox.smtp_security == "ssl",
            timeout=TIMEOUT_SECONDS,
            fail_silently=False,
        )
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
