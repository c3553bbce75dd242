"""Login throttling: too many failures for one address or one client locks it out for a while."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache


def _keys(email: str, ip: str) -> list[str]:
    digest = hashlib.sha256((email or "").strip().lower().encode()).hexdigest()[:32]
    return [f"login-fail:email:{digest}", f"login-fail:ip:{ip}"]


def is_locked_out(email: str, ip: str) -> bool:
    limits = {f"login-fail:ip:{ip}": settings.LOGIN_MAX_FAILURES * 4}
    for key in _keys(email, ip):
        if (cache.get(key) or 0) >= limits.get(key, settings.LOGIN_MAX_FAILURES):
            return True
    return False


def record_failure(email: str, ip: str) -> None:
    for key in _keys(email, ip):
        if cache.add(key, 1, settings.LOGIN_LOCKOUT_SECONDS):
            continue
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 1, settings.LOGIN_LOCKOUT_SECONDS)


def clear_failures(email: str, ip: str) -> None:
    cache.delete(_keys(email, ip)[0])
