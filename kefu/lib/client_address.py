"""The address of the client behind a request, believing ``X-Forwarded-For`` only from proxies
listed in ``KEFU_TRUSTED_PROXIES``.

Throttles and the audit log key on this address. A header is whatever the sender chose to
write, so it counts only when the connection comes from a configured proxy, and then only the
hops that proxy (and further trusted proxies) appended: the address is the rightmost entry that
is not a trusted proxy itself.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _is_trusted_proxy(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return any(address in network for network in settings.TRUSTED_PROXIES)


def _parse(raw: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(raw.strip())
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str:
    """The client's IP address as text; ``""`` when the connection has none (a Unix socket)."""
    address = _parse(request.META.get("REMOTE_ADDR") or "")
    if address is None:
        return ""
    forwarded = (request.META.get("HTTP_X_FORWARDED_FOR") or "").split(",")
    for hop in reversed(forwarded):
        if not _is_trusted_proxy(address):
            break
        earlier = _parse(hop)
        if earlier is None:  # garbage before a trusted proxy: keep the last address we trust
            break
        address = earlier
    return str(address)
