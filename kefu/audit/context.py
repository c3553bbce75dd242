"""The client address of the request being served, for audit entries written deep in actions."""

from __future__ import annotations

import contextvars

from kefu.lib.client_address import client_ip

_current_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "kefu_audit_ip", default=None
)


def current_ip() -> str | None:
    return _current_ip.get()


class AuditContextMiddleware:
    """Remember the request's client address for ``kefu.audit.actions.record``."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _current_ip.set(client_ip(request) or None)
        try:
            return self.get_response(request)
        finally:
            _current_ip.reset(token)
