"""Expiring counters for throttles, in the shared cache, with a per-process fallback.

Login, sign-up, password-reset and API throttles count attempts here. With Redis configured
(``KEFU_REDIS_URL``) the counts are shared by every process. When Redis cannot be reached, the
counters fall back to this process's memory instead of failing the request: the limits still
hold, per process, so an outage can at most multiply them by the number of web processes, and
logins and the API keep working (decision and reasons in docs/administration.md, "Redis
outages"). After a failure the shared cache is left alone for ``RETRY_SHARED_AFTER_SECONDS``, so
an outage costs one failed connection attempt per process every few seconds, not one per request.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from django.core.cache import cache
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.locmem import LocMemCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

RETRY_SHARED_AFTER_SECONDS = 5.0

_local = LocMemCache("kefu-local-counters", {"OPTIONS": {"MAX_ENTRIES": 100_000}})
_state_lock = threading.Lock()
_shared_down_until = 0.0

T = TypeVar("T")


def _with_cache(operation: Callable[[BaseCache], T]) -> T:
    """Run ``operation`` on the shared cache, or on the local one while the shared one is down."""
    global _shared_down_until
    if time.monotonic() >= _shared_down_until:
        try:
            return operation(cache)
        except (RedisError, OSError) as error:
            with _state_lock:
                if time.monotonic() >= _shared_down_until:
                    logger.warning(
                        "shared cache unreachable (%s); throttles count in this process for "
                        "the next %s seconds",
                        type(error).__name__,
                        RETRY_SHARED_AFTER_SECONDS,
                    )
                _shared_down_until = time.monotonic() + RETRY_SHARED_AFTER_SECONDS
    return operation(_local)


def increment(key: str, window_seconds: int) -> int:
    """Add one to ``key`` and return the new count; a new count expires after the window."""

    def operation(backend: BaseCache) -> int:
        if backend.add(key, 1, window_seconds):
            return 1
        try:
            return backend.incr(key)
        except ValueError:  # expired between add() and incr()
            backend.set(key, 1, window_seconds)
            return 1

    return _with_cache(operation)


def current(key: str) -> int:
    return _with_cache(lambda backend: backend.get(key) or 0)


def reset(*keys: str) -> None:
    _with_cache(lambda backend: backend.delete_many(keys))
