"""The client address of the request being served, for audit entries written deep in actions."""

from __future__ import annotations

import contextvars
import ipaddress

_current_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "kefu_audit_ip", default=None
)


def current_ip() -> str | None:
    return _current_ip.get()


def _client_ip(request) -> str | None:
    # REMOTE_ADDR only: an X-Forwarded-For header is whatever the client chose to send.
    raw = (request.META.get("REMOTE_ADDR") or "").strip()
    try:
        return str(ipaddress.ip_address(raw))
    except ValueError:
        return None


class AuditContextMiddleware:
    """Remember the request's client address for ``kefu.audit.actions.record``."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _current_ip.set(_client_ip(request))
        try:
            return self.get_response(request)
        finally:
            _current_ip.reset(token)
