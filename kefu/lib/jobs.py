"""Background jobs on django-tasks' database backend, with the retries and reaping it lacks.

Jobs are enqueued inside the transaction of the write that causes them, so a job exists exactly
when its cause was committed. The backend never retries and never reclaims a job whose worker
died; ``retrying`` re-enqueues a failed attempt with exponential backoff and ``reap_stale_jobs``
(run by ``kefu tick``) puts RUNNING rows whose worker vanished back in the queue. Every job must
therefore be idempotent: Kefu promises at-least-once execution with de-duplicated effects.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

logger = logging.getLogger(__name__)

# Every declared job by dotted name (``tickets.tasks.send_reply_to_customer``), for the docs.
_jobs: dict[str, Callable[..., Any]] = {}


def dotted_name(function: Callable[..., Any]) -> str:
    """``kefu.tickets.tasks.send_reply`` → ``tickets.tasks.send_reply``."""
    return f"{function.__module__.removeprefix('kefu.')}.{function.__qualname__}"


def backoff_seconds(attempt: int) -> int:
    return min(30 * 2 ** (attempt - 1), 3600)


def retrying(function: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a job body so that a failed attempt schedules the next one (up to the limit).

    The wrapped function takes an extra keyword ``attempt`` (1 for the first run).
    """

    @functools.wraps(function)
    def wrapper(*args: Any, attempt: int = 1, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except Exception:
            if attempt < settings.JOB_MAX_ATTEMPTS:
                task = wrapper.task  # type: ignore[attr-defined]
                run_after = timezone.now() + timedelta(seconds=backoff_seconds(attempt))
                task.using(run_after=run_after).enqueue(*args, attempt=attempt + 1, **kwargs)
                logger.warning(
                    "job %s attempt %s failed; retrying at %s",
                    function.__qualname__,
                    attempt,
                    run_after,
                    exc_info=True,
                )
            else:
                logger.error(
                    "job %s failed for good after %s attempts", function.__qualname__, attempt
                )
            raise

    return wrapper


def job(function: Callable[..., Any]):
    """Declare a retrying background job: ``@job def send_x(id): ...``; enqueue with ``.enqueue``."""
    from django_tasks import task

    _jobs[dotted_name(function)] = function
    wrapped = retrying(function)
    task_object = task(wrapped)
    wrapped.task = task_object  # type: ignore[attr-defined]
    return task_object


def registered_jobs() -> dict[str, Callable[..., Any]]:
    """Every job of the installed apps (importing each app's ``tasks`` module), by name; jobs
    declared by tests are left out."""
    from django.utils.module_loading import autodiscover_modules

    from kefu.lib.docs import is_test_code

    autodiscover_modules("tasks")
    return {
        name: function
        for name, function in sorted(_jobs.items())
        if not is_test_code(function.__module__)
    }


def reap_stale_jobs() -> int:
    """Put RUNNING jobs whose worker has been silent too long back in the queue."""
    from django_tasks_db.models import DBTaskResult

    cutoff = timezone.now() - timedelta(seconds=settings.JOB_STALE_AFTER_SECONDS)
    return DBTaskResult.objects.filter(status="RUNNING", started_at__lt=cutoff).update(
        status="READY", started_at=None
    )


def run_pending_jobs(max_jobs: int = 100) -> int:
    """Run queued jobs in this process until none is ready; for tests and ``kefu worker --once``."""
    from django.db import transaction
    from django_tasks_db.management.commands.db_worker import Worker
    from django_tasks_db.models import DBTaskResult

    # Not ``call_command("db_worker")``: its loop calls close_old_connections(), which closes the
    # connection inside an open transaction (a test case's) on PostgreSQL.
    worker = Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=max_jobs,
        worker_id="inline",
        excluded_queue_names=[],
    )
    ran = 0
    while ran < max_jobs:
        with transaction.atomic():
            result = DBTaskResult.objects.ready().get_locked()
            if result is None:
                break
            result.claim(worker.worker_id)
        worker.run_task(result)
        ran += 1
    return ran


def jobs_table() -> str:
    """The jobs section of docs/jobs.md."""
    from kefu.lib.docs import markdown_table, summary

    rows = [(f"`{name}`", summary(function)) for name, function in registered_jobs().items()]
    return markdown_table(("job", "what it does"), rows)
