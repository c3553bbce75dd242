"""The job worker and tick loops, run as threads by ``kefu run`` or alone by ``kefu worker`` and
``kefu tick`` (split deployments with Redis).

Each loop owns its database connections (Django's are per thread) and survives an unexpected
error, such as the database restarting, by logging it and carrying on.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time

from django.db import close_old_connections, connections
from django_tasks_db.management.commands.db_worker import Worker

from kefu.lib.tick import run_tick_once

logger = logging.getLogger(__name__)

WORKER_POLL_SECONDS = 1.0
WORKER_RESTART_SECONDS = 5.0


def make_worker() -> Worker:
    """A django-tasks-db worker polling every queue."""
    worker_id = f"kefu-{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(4)}"
    return Worker(
        queue_names=["*"],
        excluded_queue_names=[],
        interval=WORKER_POLL_SECONDS,
        batch=False,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id=worker_id[-64:],
    )


def run_worker(worker: Worker) -> None:
    """Run ``worker`` until ``worker.running`` is cleared."""
    while worker.running:
        try:
            worker.run()
        except Exception:
            logger.exception("job worker failed; restarting in %s s", WORKER_RESTART_SECONDS)
            _sleep_while_running(worker, WORKER_RESTART_SECONDS)
        finally:
            connections.close_all()


def _sleep_while_running(worker: Worker, seconds: float) -> None:
    for _ in range(int(seconds * 10)):
        if not worker.running:
            return
        time.sleep(0.1)


def tick_pass() -> dict[str, int]:
    """Run every registered tick function once; returns what each handled (-1: it failed)."""
    try:
        results = run_tick_once()
    except Exception:  # the loop must outlive a database hiccup
        logger.exception("tick pass failed")
        return {}
    if any(results.values()):
        logger.info("tick: %s", ", ".join(f"{name}={count}" for name, count in results.items()))
    return results


def run_tick_loop(stop: threading.Event, interval: float) -> None:
    """Run tick passes every ``interval`` seconds until ``stop`` is set."""
    try:
        while not stop.is_set():
            # Drop connections the database closed meanwhile (restart, idle timeout).
            close_old_connections()
            tick_pass()
            close_old_connections()
            stop.wait(interval)
    finally:
        connections.close_all()
