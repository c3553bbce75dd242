"""OAuth2 for mailboxes, the protocol side: providers, the authorisation-code flow with PKCE,
token requests, and the SASL XOAUTH2 string IMAP and SMTP log in with.

No database writes here: ``kefu.intake.oauth`` holds the actions that store tokens. HTTP goes
through the standard library (``urllib``), so no client library is needed.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import secrets
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from django.utils.translation import gettext as _

TIMEOUT_SECONDS = 30
# The identity scopes: the token response then names the account that consented (id_token).
IDENTITY_SCOPES = "openid email"
MICROSOFT_SCOPES = (
    "https://outlook.office.com/IMAP.AccessAsUser.All "
    "https://outlook.office.com/SMTP.Send offline_access"
)
GOOGLE_SCOPES = "https://mail.google.com/"
MICROSOFT_LOGIN = "https://login.microsoftonline.com"
GOOGLE_AUTHORIZE_URL = "https://accounts.google.com/o/oauth2/v2/auth"
GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token"  # noqa: S105 - an address, not a secret


class OAuthError(Exception):
    """A refused or failed token request, worded for the administrator.

    ``error`` is the OAuth2 error code; ``is_transient`` when the provider could not be reached
    or answered 5xx/429 — trying again later may work, and the connection is not given up.
    """

    def __init__(self, error: str, description: str = "", *, is_transient: bool = False):
        super().__init__(f"{error}: {description}" if description else error)
        self.error = error
        self.description = description
        self.is_transient = is_transient

    @property
    def needs_reconnect(self) -> bool:
        """Only an administrator can mend this: the grant was revoked or expired
        (``invalid_grant``), or the app's secret expired or the app was disabled
        (``invalid_client``, ``unauthorized_client``: enter a new secret, then connect)."""
        return self.error in ("invalid_grant", "invalid_client", "unauthorized_client")


@dataclass(frozen=True)
class Endpoints:
    authorize_url: str
    token_url: str
    scopes: str
    # Extra query parameters of the authorisation request.
    extra: tuple[tuple[str, str], ...] = ()


def endpoints(mailbox) -> Endpoints:
    if mailbox.authentication == "microsoft":
        tenant = urllib.parse.quote(mailbox.oauth_tenant.strip() or "organizations", safe="")
        base = f"{MICROSOFT_LOGIN}/{tenant}/oauth2/v2.0"
        return Endpoints(
            f"{base}/authorize", f"{base}/token", f"{MICROSOFT_SCOPES} {IDENTITY_SCOPES}"
        )
    if mailbox.authentication == "google":
        # Offline access and a forced consent screen: Google returns a refresh token only then.
        return Endpoints(
            GOOGLE_AUTHORIZE_URL,
            GOOGLE_TOKEN_URL,
            f"{GOOGLE_SCOPES} {IDENTITY_SCOPES}",
            (("access_type", "offline"), ("prompt", "consent")),
        )
    return Endpoints(
        mailbox.oauth_authorize_url,
        mailbox.oauth_token_url,
        " ".join(mailbox.oauth_scopes.split()) or IDENTITY_SCOPES,
    )


def endpoint_problem(url: str) -> str:
    """Why ``url`` cannot be an OAuth2 endpoint (``""`` when it can): HTTPS, or plain HTTP to
    this machine only — the client secret and tokens must not cross a network in clear."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return ""
    if parts.scheme == "http" and _is_loopback(parts.hostname or ""):
        return ""
    return _("Use an https:// address (plain http:// only to this machine).")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def pkce_pair() -> tuple[str, str]:
    """A PKCE code verifier and its S256 challenge (RFC 7636)."""
    verifier = secrets.token_urlsafe(64)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorization_url(mailbox, *, state: str, code_challenge: str, redirect_uri: str) -> str:
    found = endpoints(mailbox)
    query = [
        ("client_id", mailbox.oauth_client_id),
        ("response_type", "code"),
        ("redirect_uri", redirect_uri),
        ("scope", found.scopes),
        ("state", state),
        ("code_challenge", code_challenge),
        ("code_challenge_method", "S256"),
        *found.extra,
    ]
    if mailbox.imap_user and "@" in mailbox.imap_user:
        query.append(("login_hint", mailbox.imap_user))
    separator = "&" if "?" in found.authorize_url else "?"
    return found.authorize_url + separator + urllib.parse.urlencode(query)


@dataclass(frozen=True)
class Tokens:
    access_token: str
    expires_in: int
    refresh_token: str  # "" when the provider keeps the old one (Google does on refresh)
    account: str  # the consenting account from the id_token, "" when none came


def exchange_code(mailbox, *, code: str, code_verifier: str, redirect_uri: str) -> Tokens:
    return _token_request(
        mailbox,
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": code_verifier,
        },
    )


def refresh(mailbox, refresh_token: str) -> Tokens:
    return _token_request(mailbox, {"grant_type": "refresh_token", "refresh_token": refresh_token})


def _token_request(mailbox, fields: dict[str, str]) -> Tokens:
    url = endpoints(mailbox).token_url
    problem = endpoint_problem(url)
    if problem:
        raise OAuthError("invalid_request", f"{url}: {problem}")
    body = urllib.parse.urlencode(
        {
            **fields,
            "client_id": mailbox.oauth_client_id,
            "client_secret": mailbox.oauth_client_secret,
        }
    ).encode("ascii")
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
        url,
        data=body,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
        },
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            answer = json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as error:
        raise _refusal(error) from error
    except (OSError, ValueError) as error:
        raise OAuthError(
            "temporarily_unavailable",
            _("The token endpoint %(url)s cannot be reached: %(error)s")
            % {"url": url, "error": error},
            is_transient=True,
        ) from error
    if not isinstance(answer, dict) or not answer.get("access_token"):
        raise OAuthError("invalid_response", _("The token endpoint returned no access token."))
    try:
        expires_in = int(answer.get("expires_in") or 3600)
    except (TypeError, ValueError):
        expires_in = 3600
    return Tokens(
        access_token=str(answer["access_token"]),
        expires_in=max(expires_in, 0),
        refresh_token=str(answer.get("refresh_token") or ""),
        account=account_from_id_token(str(answer.get("id_token") or "")),
    )


def _refusal(error: urllib.error.HTTPError) -> OAuthError:
    try:
        answer = json.loads(error.read().decode("utf-8"))
    except (OSError, ValueError):
        answer = {}
    if not isinstance(answer, dict):
        answer = {}
    code = str(answer.get("error") or f"http_{error.code}")
    description = str(answer.get("error_description") or error.reason or "")
    return OAuthError(code, description[:500], is_transient=error.code >= 500 or error.code == 429)


def account_from_id_token(id_token: str) -> str:
    """The ``email`` (or Microsoft's ``preferred_username``) claim of an OpenID id_token.

    The signature is not checked: the token came straight from the provider's token endpoint
    over TLS, which OpenID Connect Core 3.1.3.7 accepts in place of it. It only labels the
    connection; XOAUTH2 itself is checked by the mail server.
    """
    try:
        payload = id_token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return ""
    if not isinstance(claims, dict):
        return ""
    return str(claims.get("email") or claims.get("preferred_username") or "")[:255]


def xoauth2(user: str, access_token: str) -> str:
    """The SASL XOAUTH2 initial response (before base64), as Google and Microsoft define it."""
    return f"user={user}\x01auth=Bearer {access_token}\x01\x01"


class XOAuth2Responder:
    """The SASL exchange for imaplib's ``authenticate`` (``imap``) and smtplib's ``auth``
    (``smtp``): the XOAUTH2 string first; an empty answer to the server's error challenge,
    which then fails the login. The server's error (a JSON status) is kept for the message."""

    def __init__(self, user: str, access_token: str):
        self.initial = xoauth2(user, access_token)
        self.sent = False
        self.server_error = ""

    def _next(self, challenge: bytes | None) -> str:
        if self.sent:
            self.server_error = (challenge or b"").decode("utf-8", "replace")
            return ""
        self.sent = True
        return self.initial

    def imap(self, challenge: bytes) -> bytes:
        return self._next(challenge).encode()

    def smtp(self, challenge: bytes | None = None) -> str:
        return self._next(challenge)
