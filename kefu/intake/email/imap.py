"""Fetching unseen mail over IMAP (imaplib): password login, or SASL XOAUTH2 for OAuth2 mailboxes."""

from __future__ import annotations

import imaplib
import re
import ssl
from collections.abc import Iterator
from contextlib import contextmanager

TIMEOUT_SECONDS = 30
MAX_MESSAGES_PER_FETCH = 50


class MailboxError(Exception):
    """A connection, login or folder problem, worded for the administrator."""


@contextmanager
def imap_session(mailbox) -> Iterator[imaplib.IMAP4]:
    """A logged-in IMAP connection with the mailbox's folder selected (read-write)."""
    try:
        if mailbox.imap_security == "ssl":
            client: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                mailbox.imap_host,
                mailbox.imap_port,
                ssl_context=ssl.create_default_context(),
                timeout=TIMEOUT_SECONDS,
            )
        else:
            client = imaplib.IMAP4(mailbox.imap_host, mailbox.imap_port, timeout=TIMEOUT_SECONDS)
            if mailbox.imap_security == "starttls":
                client.starttls(ssl_context=ssl.create_default_context())
    except (OSError, imaplib.IMAP4.error) as error:
        raise MailboxError(
            f"Cannot connect to IMAP server {mailbox.imap_host}:{mailbox.imap_port}: {error}"
        ) from error
    try:
        if mailbox.is_oauth:
            _authenticate_xoauth2(client, mailbox)
        else:
            try:
                client.login(mailbox.imap_user, mailbox.imap_password)
            except imaplib.IMAP4.error as error:
                raise MailboxError(
                    f"IMAP login as {mailbox.imap_user} refused: {_text(error)} "
                    "(many providers need an app password / authorisation code here)"
                ) from error
        status, data = client.select(_quote(mailbox.imap_folder))
        if status != "OK":
            raise MailboxError(
                f"IMAP folder {mailbox.imap_folder!r} cannot be opened: {_text(data)}"
            )
        yield client
    finally:
        try:
            client.logout()
        except (OSError, imaplib.IMAP4.error):
            pass


def _authenticate_xoauth2(client: imaplib.IMAP4, mailbox) -> None:
    """Log in with SASL XOAUTH2. A refused token is refreshed and tried once more: the stored
    one may have been revoked before its expiry, and refreshing tells "reconnect needed" apart
    from a token that merely went stale."""
    from kefu.intake.email.oauth import OAuthError, XOAuth2Responder
    from kefu.intake.oauth import access_token

    for attempt in (1, 2):
        try:
            token = access_token(mailbox, force_refresh=attempt == 2)
        except OAuthError as error:
            hint = "OAuth2 reconnect needed: " if error.needs_reconnect else ""
            raise MailboxError(f"IMAP login as {mailbox.imap_user}: {hint}{error}") from error
        responder = XOAuth2Responder(mailbox.imap_user, token)
        try:
            client.authenticate("XOAUTH2", responder.imap)
            return
        except imaplib.IMAP4.error as error:
            if attempt == 2:
                detail = f" ({responder.server_error})" if responder.server_error else ""
                raise MailboxError(
                    f"IMAP XOAUTH2 login as {mailbox.imap_user} refused: {_text(error)}{detail}"
                ) from error


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _text(value) -> str:
    if isinstance(value, list):
        value = b" ".join(v for v in value if isinstance(v, bytes))
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def unseen_uids(client: imaplib.IMAP4) -> list[str]:
    status, data = client.uid("SEARCH", "UNSEEN")
    if status != "OK":
        raise MailboxError(f"IMAP search failed: {_text(data)}")
    return (data[0] or b"").decode("ascii").split()[:MAX_MESSAGES_PER_FETCH]


def fetch_raw(client: imaplib.IMAP4, uid: str) -> bytes | None:
    """The message's raw bytes without setting \\Seen (BODY.PEEK)."""
    status, data = client.uid("FETCH", uid, "(BODY.PEEK[])")
    if status != "OK":
        raise MailboxError(f"IMAP fetch of {uid!r} failed: {_text(data)}")
    for item in data:
        if isinstance(item, tuple) and len(item) == 2 and re.search(rb"BODY\[\]", item[0]):
            return item[1]
    return None


def mark_seen(client: imaplib.IMAP4, uid: str) -> None:
    client.uid("STORE", uid, "+FLAGS", "(\\Seen)")
