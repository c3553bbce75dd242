"""Outgoing webhook HTTP: the SSRF guard, the signature, and one POST to a pinned address.

A webhook URL is written by an administrator, but its host name resolves at delivery time: it
could point at the database, the cloud metadata service or a router. ``resolve_public`` refuses
private, loopback, link-local, multicast, reserved and unspecified addresses unless the host is
listed in ``KEFU_WEBHOOK_ALLOWED_HOSTS``. The connection then goes to the exact address that was
checked (the ``Host`` header and TLS server name carry the host name), so a DNS answer that
changes between the check and the connect (DNS rebinding) cannot redirect it. Redirects are not
followed.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

SIGNATURE_HEADER = "X-Kefu-Signature"
TIMESTAMP_HEADER = "X-Kefu-Timestamp"
TIMEOUT_SECONDS = 10
MAX_EXCERPT = 1000


class WebhookRefused(Exception):
    """The target is not allowed (bad URL or a non-public address); retrying cannot help."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str


@dataclass(frozen=True)
class Response:
    status: int
    excerpt: str


def _is_allowed_host(host: str) -> bool:
    allowed = {h.strip().lower().rstrip(".") for h in settings.WEBHOOK_ALLOWED_HOSTS if h.strip()}
    return host.lower().rstrip(".") in allowed


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


def parse_url(url: str) -> tuple[str, str, int, str]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookRefused(
            _("A webhook URL must start with http:// or https:// and name a host.")
        )
    if parts.username or parts.password:
        raise WebhookRefused(_("Put credentials in the secret, not in the URL."))
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise WebhookRefused(_("The URL's port is not valid.")) from None
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return parts.scheme, parts.hostname, port, path


def resolve_public(url: str) -> Target:
    """Resolve the URL's host and return an address it is safe to connect to, or refuse."""
    scheme, host, port, path = parse_url(url)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as error:
        raise ConnectionError(
            _("Cannot resolve %(host)s: %(error)s") % {"host": host, "error": error}
        ) from error
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise ConnectionError(_("Cannot resolve %(host)s.") % {"host": host})
    if not _is_allowed_host(host):
        # Every address must be public: a name with one public and one private answer could be
        # connected to the private one by another client library.
        blocked = [a for a in addresses if not _is_public(a)]
        if blocked:
            raise WebhookRefused(
                _(
                    "%(host)s resolves to the non-public address %(address)s; an administrator "
                    "must allow this host in KEFU_WEBHOOK_ALLOWED_HOSTS."
                )
                % {"host": host, "address": blocked[0]}
            )
    return Target(scheme=scheme, host=host, port=port, path=path, address=addresses[0])


def check_url(url: str) -> None:
    """Validate a URL when it is saved: refuse a non-public target; an unresolvable name is
    accepted (the delivery log will show why it failed)."""
    try:
        resolve_public(url)
    except ConnectionError:
        pass


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>`` of HMAC-SHA256 over ``"<timestamp>.<body>"`` with the webhook's secret."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to a fixed address, verifying the certificate for the host name."""

    def __init__(self, address: str, host: str, port: int, **kwargs):
        super().__init__(host, port, context=ssl.create_default_context(), **kwargs)
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, address: str, host: str, port: int, **kwargs):
        super().__init__(host, port, **kwargs)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


def post(url: str, body: bytes, *, secret: str, headers: dict[str, str]) -> Response:
    """POST ``body`` to ``url`` signed with ``secret``; raises ``WebhookRefused`` for a refused
    target and ``OSError``/``http.client.HTTPException`` for network failures."""
    target = resolve_public(url)
    timestamp = str(int(time.time()))
    all_headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Kefu-Webhook/1",
        TIMESTAMP_HEADER: timestamp,
        **headers,
    }
    if secret:
        all_headers[SIGNATURE_HEADER] = sign(secret, timestamp, body)
    connection_class = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(target.address, target.host, target.port, timeout=TIMEOUT_SECONDS)
    try:
        connection.request("POST", target.path, body=body, headers=all_headers)
        response = connection.getresponse()
        excerpt = response.read(MAX_EXCERPT).decode("utf-8", "replace")
        return Response(status=response.status, excerpt=excerpt)
    finally:
        connection.close()
