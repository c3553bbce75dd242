"""Every write of a mailbox's OAuth2 connection: connecting, refreshing access tokens, and
"reconnect needed" when the provider refuses the refresh token (consent revoked).

The intake app's actions for OAuth2, apart from ``actions.py`` (ingest and mailbox settings).
The protocol itself (endpoints, HTTP, XOAUTH2) is in ``kefu.intake.email.oauth``.

The "Connect" step is a browser flow: ``start_connection`` remembers a nonce and the PKCE
verifier in the administrator's session and signs the ``state`` sent to the provider;
``read_state`` accepts the callback only in that same session, once, within ten minutes.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.models import User
from kefu.audit.actions import record
from kefu.intake.email import oauth as protocol
from kefu.intake.email.oauth import OAuthError
from kefu.intake.models import Mailbox, decrypt_secret, encrypt_secret
from kefu.lib.errors import BusinessRuleError

logger = logging.getLogger(__name__)

STATE_SALT = "kefu.intake.oauth.state"
STATE_MAX_AGE_SECONDS = 600
SESSION_KEY = "kefu_mailbox_oauth"
# An access token is used only while it has this much life left; below it is refreshed.
MINIMUM_LIFETIME = timedelta(seconds=60)
# The tick refreshes this long before expiry, and retries a failed refresh after the same time.
REFRESH_AHEAD = timedelta(minutes=5)


class NotConnected(OAuthError):
    """The mailbox has no usable OAuth2 connection: never connected, or reconnect needed."""


def redirect_uri() -> str:
    """The one redirect URI to register at the provider, for every mailbox."""
    return settings.SITE_URL + reverse("intake:oauth_callback")


def _require_admin(actor: User) -> None:
    if not actor.is_admin:
        raise PermissionDenied(_("Only administrators manage mailboxes."))


def start_connection(actor: User, mailbox: Mailbox, session) -> str:
    """The provider's authorisation URL to send the administrator to; remembers the attempt
    in their session (one pending attempt per session: a second Connect replaces the first)."""
    _require_admin(actor)
    if not mailbox.is_oauth:
        raise BusinessRuleError(_("This mailbox logs in with a password; choose OAuth2 first."))
    if not mailbox.oauth_client_id:
        raise BusinessRuleError(_("Enter the OAuth2 client id and save before connecting."))
    if not mailbox.oauth_client_secret_encrypted:
        raise BusinessRuleError(_("Enter the OAuth2 client secret and save before connecting."))
    verifier, challenge = protocol.pkce_pair()
    nonce = secrets.token_urlsafe(24)
    session[SESSION_KEY] = {"mailbox": mailbox.pk, "nonce": nonce, "verifier": verifier}
    state = signing.dumps({"mailbox": mailbox.pk, "nonce": nonce}, salt=STATE_SALT)
    return protocol.authorization_url(
        mailbox, state=state, code_challenge=challenge, redirect_uri=redirect_uri()
    )


def read_state(session, state: str) -> tuple[int, str]:
    """The mailbox id and PKCE verifier of the pending attempt ``state`` names; the attempt is
    used up. Raises ``BusinessRuleError`` for a forged, expired, replayed or foreign state."""
    pending = session.pop(SESSION_KEY, None)
    refused = BusinessRuleError(
        _(
            "This sign-in answer is not from the last Connect in this browser, or it expired; click Connect again."
        )
    )
    try:
        data = signing.loads(state, salt=STATE_SALT, max_age=STATE_MAX_AGE_SECONDS)
    except signing.BadSignature:
        raise refused from None
    if (
        not isinstance(pending, dict)
        or not isinstance(data, dict)
        or data.get("nonce") != pending.get("nonce")
        or data.get("mailbox") != pending.get("mailbox")
    ):
        raise refused
    return int(pending["mailbox"]), str(pending["verifier"])


def finish_connection(actor: User, mailbox: Mailbox, *, code: str, code_verifier: str) -> Mailbox:
    """Exchange the authorisation code and store the connection (refresh token encrypted)."""
    _require_admin(actor)
    if not mailbox.is_oauth:  # switched to a password while the administrator was away
        raise BusinessRuleError(_("This mailbox logs in with a password; choose OAuth2 first."))
    try:
        tokens = protocol.exchange_code(
            mailbox, code=code, code_verifier=code_verifier, redirect_uri=redirect_uri()
        )
    except OAuthError as error:
        raise BusinessRuleError(
            _("The provider refused the connection: %(error)s") % {"error": error}
        ) from error
    if not tokens.refresh_token:
        raise BusinessRuleError(
            _(
                "The provider returned no refresh token, so Kefu could not stay connected. "
                "Check that offline access is allowed for the app and connect again."
            )
        )
    now = timezone.now()
    expires_at = now + timedelta(seconds=tokens.expires_in)
    with transaction.atomic():
        Mailbox.objects.filter(pk=mailbox.pk).update(
            oauth_refresh_token_encrypted=encrypt_secret(tokens.refresh_token),
            oauth_access_token_encrypted=encrypt_secret(tokens.access_token),
            oauth_access_token_expires_at=expires_at,
            oauth_refresh_due_at=expires_at - REFRESH_AHEAD,
            oauth_account=tokens.account,
            oauth_connected_at=now,
            oauth_reconnect_needed_at=None,
            oauth_reconnect_notified_at=None,
            last_error="",
            next_fetch_at=now,
        )
        mailbox.refresh_from_db()
        record(
            actor,
            "mailbox.oauth_connected",
            mailbox,
            {"oauth_account": ["", tokens.account or mailbox.imap_user]},
        )
    return mailbox


def disconnect_mailbox_tokens(mailbox: Mailbox) -> None:
    """Forget the stored tokens (the provider settings changed: they belong to another app).

    Called by ``save_mailbox`` inside its transaction, on the instance it is about to save.
    """
    mailbox.oauth_refresh_token_encrypted = ""
    mailbox.oauth_access_token_encrypted = ""
    mailbox.oauth_access_token_expires_at = None
    mailbox.oauth_refresh_due_at = None
    mailbox.oauth_account = ""
    mailbox.oauth_connected_at = None
    mailbox.oauth_reconnect_needed_at = None
    mailbox.oauth_reconnect_notified_at = None


def access_token(mailbox: Mailbox, *, force_refresh: bool = False) -> str:
    """A usable access token for XOAUTH2: the stored one while it has a minute of life left,
    otherwise a refreshed one. Raises ``OAuthError`` (``NotConnected`` when an administrator
    must connect first)."""
    if mailbox.oauth_status != "connected":
        raise _not_connected(mailbox)
    expires_at = mailbox.oauth_access_token_expires_at
    stored = mailbox.oauth_access_token
    if (
        not force_refresh
        and stored
        and expires_at is not None
        and expires_at - timezone.now() > MINIMUM_LIFETIME
    ):
        return stored
    return refresh_access_token(mailbox)


def _not_connected(mailbox: Mailbox) -> NotConnected:
    if mailbox.oauth_reconnect_needed_at is not None:
        return NotConnected(
            "reconnect_needed",
            _(
                "The OAuth2 connection of %(mailbox)s was refused; an administrator must connect it again."
            )
            % {"mailbox": mailbox.name},
        )
    return NotConnected(
        "not_connected",
        _("%(mailbox)s is not connected yet: click Connect on the mailbox page.")
        % {"mailbox": mailbox.name},
    )


def refresh_access_token(mailbox: Mailbox) -> str:
    """Refresh now, store the new tokens, return the access token.

    Two processes may refresh at once (the fetch job and the tick's refresh): the first to
    store wins, the other uses its access token for its own session only. When the refresh
    token is refused, a concurrent refresh may have rotated it a moment earlier: only when the
    stored token is still the one refused is the mailbox marked "reconnect needed".

    Called inside a send job's transaction, the stored tokens commit or roll back with it; a
    rolled-back rotation leaves the previous refresh token, which Microsoft and Google keep
    valid, so the next refresh still works.
    """
    used = mailbox.oauth_refresh_token_encrypted
    try:
        tokens = protocol.refresh(mailbox, decrypt_secret(used))
    except OAuthError as error:
        if error.is_transient:
            raise
        current = Mailbox.objects.filter(pk=mailbox.pk).first()
        if (
            current is not None
            and current.oauth_refresh_token_encrypted != used
            and current.oauth_status == "connected"
        ):
            return access_token(current)
        if error.needs_reconnect:
            mark_reconnect_needed(mailbox, str(error))
        raise
    now = timezone.now()
    expires_at = now + timedelta(seconds=tokens.expires_in)
    values = {
        "oauth_access_token_encrypted": encrypt_secret(tokens.access_token),
        "oauth_access_token_expires_at": expires_at,
        "oauth_refresh_due_at": expires_at - REFRESH_AHEAD,
    }
    if tokens.refresh_token:  # rotated (Microsoft); Google keeps the old one
        values["oauth_refresh_token_encrypted"] = encrypt_secret(tokens.refresh_token)
    # Only while still connected with the token used: a reconnect meanwhile keeps its own.
    Mailbox.objects.filter(pk=mailbox.pk, oauth_refresh_token_encrypted=used).update(**values)
    for name, value in values.items():
        setattr(mailbox, name, value)
    return tokens.access_token


def mark_reconnect_needed(mailbox: Mailbox, reason: str) -> bool:
    """The provider refused the refresh token: stop using it, show "reconnect needed" and tell
    the administrators once. Returns whether this call made the change.

    Inside a caller's transaction that later rolls back (sending a reply holds one) the mark is
    lost too; the tick's refresh job, which runs outside any transaction, marks it again.
    """
    from kefu.intake.tasks import send_reconnect_notice

    now = timezone.now()
    message = _("OAuth2 reconnect needed: %(reason)s") % {"reason": reason}
    with transaction.atomic():
        changed = Mailbox.objects.filter(
            pk=mailbox.pk, oauth_reconnect_needed_at__isnull=True
        ).update(
            oauth_reconnect_needed_at=now,
            oauth_access_token_encrypted="",
            oauth_refresh_due_at=None,
            last_error=message,
        )
        if changed:
            send_reconnect_notice.enqueue(mailbox.pk)
    if changed:
        logger.warning("mailbox %s: %s", mailbox, message)
    mailbox.oauth_reconnect_needed_at = mailbox.oauth_reconnect_needed_at or now
    mailbox.oauth_access_token_encrypted = ""
    mailbox.oauth_refresh_due_at = None
    return bool(changed)


def claim_due_token_refreshes() -> int:
    """Tick: enqueue ``refresh_mailbox_token`` for mailboxes whose access token expires soon.

    The conditional UPDATE moves ``oauth_refresh_due_at`` forward first, so two tick processes
    never enqueue the same refresh, and a failed refresh is tried again ``REFRESH_AHEAD`` later.
    """
    from kefu.intake.tasks import refresh_mailbox_token

    now = timezone.now()
    due = Mailbox.objects.filter(is_active=True, oauth_refresh_due_at__lte=now)
    claimed = 0
    for pk, due_at in due.values_list("pk", "oauth_refresh_due_at")[:100]:
        with transaction.atomic():
            won = Mailbox.objects.filter(pk=pk, oauth_refresh_due_at=due_at).update(
                oauth_refresh_due_at=now + REFRESH_AHEAD
            )
            if won:
                refresh_mailbox_token.enqueue(pk)
                claimed += 1
    return claimed


def reconnect_warnings() -> list[str]:
    """``/readyz`` warnings: active mailboxes whose OAuth2 connection needs an administrator."""
    names = Mailbox.objects.filter(
        is_active=True, oauth_reconnect_needed_at__isnull=False
    ).values_list("name", flat=True)
    return [f"mailbox {name}: OAuth2 reconnect needed" for name in names]
