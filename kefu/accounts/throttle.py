"""Throttles for the forms anyone can post: login, password reset and portal sign-up.

Each counts per e-mail address and per client address (``kefu.lib.client_address.client_ip``)
in ``kefu.lib.counters``, which keeps counting in the process when Redis is down.

- Login: too many failures for one address, or four times as many from one client, lock both
  out for ``LOGIN_LOCKOUT_SECONDS``. The Django admin has no login of its own (``kefu/urls.py``
  sends it here).
- Requests that send an e-mail (password reset, sign-up): at most ``LOGIN_MAX_FAILURES`` per
  address and four times as many per client in ``LOGIN_LOCKOUT_SECONDS``.
"""

from __future__ import annotations

import hashlib

from django.conf import settings

from kefu.lib import counters

CLIENT_FACTOR = 4


def _keys(kind: str, email: str, ip: str) -> tuple[str, str]:
    digest = hashlib.sha256((email or "").strip().lower().encode()).hexdigest()[:32]
    return f"{kind}:email:{digest}", f"{kind}:ip:{ip}"


def _over_limit(kind: str, email: str, ip: str) -> bool:
    address_key, client_key = _keys(kind, email, ip)
    return (
        counters.current(address_key) >= settings.LOGIN_MAX_FAILURES
        or counters.current(client_key) >= settings.LOGIN_MAX_FAILURES * CLIENT_FACTOR
    )


def _count(kind: str, email: str, ip: str) -> None:
    for key in _keys(kind, email, ip):
        counters.increment(key, settings.LOGIN_LOCKOUT_SECONDS)


def is_locked_out(email: str, ip: str) -> bool:
    return _over_limit("login-fail", email, ip)


def record_failure(email: str, ip: str) -> None:
    _count("login-fail", email, ip)


def clear_failures(email: str, ip: str) -> None:
    """After a successful login: the address starts afresh, the client's count stays."""
    counters.reset(_keys("login-fail", email, ip)[0])


def allow_mail_request(kind: str, email: str, ip: str) -> bool:
    """Count a request that sends mail to ``email``; ``False`` when it is over the limit (then it
    is not counted, so a refused flood does not extend the lock-out)."""
    if _over_limit(kind, email, ip):
        return False
    _count(kind, email, ip)
    return True
