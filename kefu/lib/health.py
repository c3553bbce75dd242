"""Liveness and readiness probes, and the JSON-aware 404 handler."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse
from django.shortcuts import render

logger = logging.getLogger(__name__)

_warning_checks: dict[str, Callable[[], list[str]]] = {}


def register_warning_check(name: str, check: Callable[[], list[str]]) -> None:
    """Let a higher app add warnings to ``/readyz`` (lib must not import it); registered in
    ``AppConfig.ready()``. A warning never makes the instance unready."""
    _warning_checks[name] = check


def healthz(request):
    return JsonResponse({"status": "ok"})


def readyz(request):
    problems: list[str] = []
    warnings: list[str] = []
    try:
        connection = connections[DEFAULT_DB_ALIAS]
        connection.ensure_connection()
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if pending:
            problems.append(f"{len(pending)} database migrations not applied; run `kefu migrate`")
    except Exception as error:  # any failure to reach the database means "not ready"
        problems.append(f"database unreachable: {type(error).__name__}")
    problems.extend(_redis_problems())
    if not problems:
        for name, check in _warning_checks.items():
            try:
                warnings.extend(check())
            except Exception:  # a broken check is a warning, not an outage
                logger.exception("readiness warning check %s failed", name)
                warnings.append(f"{name}: check failed")
    status = 200 if not problems else 503
    return JsonResponse(
        {
            "status": "ok" if not problems else "unavailable",
            "problems": problems,
            "warnings": warnings,
        },
        status=status,
    )


def _redis_problems() -> list[str]:
    """Redis carries the shared throttle counters and live updates between processes; while it is
    down Kefu keeps serving (docs/administration.md, "Redis outages") but is not healthy."""
    if not settings.REDIS_URL:
        return []
    import redis

    client = redis.Redis.from_url(
        settings.REDIS_URL,
        socket_connect_timeout=settings.REDIS_TIMEOUT_SECONDS,
        socket_timeout=settings.REDIS_TIMEOUT_SECONDS,
    )
    try:
        client.ping()
    except (redis.RedisError, OSError) as error:
        return [f"redis unreachable: {type(error).__name__}"]
    finally:
        client.close()
    return []


def not_found(request, exception=None):
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found", "errors": []}, status=404)
    return render(request, "404.html", status=404)
