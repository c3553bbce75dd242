"""The "test connection" button: log in to IMAP and SMTP and say plainly what failed."""

from __future__ import annotations

import smtplib

from django.utils.translation import gettext as _

from kefu.intake.email.imap import MailboxError, imap_session
from kefu.intake.email.smtp import check_smtp


def check_connection(mailbox) -> list[str]:
    """Problems found, one sentence each; empty when IMAP and SMTP both work."""
    problems = []
    try:
        with imap_session(mailbox):
            pass
    except MailboxError as error:
        problems.append(_("IMAP: %(error)s") % {"error": error})
    try:
        check_smtp(mailbox)
    except smtplib.SMTPAuthenticationError as error:
        problems.append(
            _("SMTP login as %(user)s refused: %(error)s")
            % {"user": mailbox.smtp_login, "error": _smtp_text(error)}
        )
    except (OSError, smtplib.SMTPException) as error:
        problems.append(
            _("SMTP server %(host)s:%(port)s: %(error)s")
            % {"host": mailbox.smtp_host, "port": mailbox.smtp_port, "error": _smtp_text(error)}
        )
    return problems


def _smtp_text(error: Exception) -> str:
    message = getattr(error, "smtp_error", None)
    if isinstance(message, bytes):
        return message.decode("utf-8", "replace")
    return str(error) or type(error).__name__
