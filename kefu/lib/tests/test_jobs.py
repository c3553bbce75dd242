"""Retries and reaping that Kefu adds to django-tasks' database backend."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from kefu.lib.jobs import job, reap_stale_jobs, run_pending_jobs

calls: list[tuple[str, int]] = []


@job
def always_fails(label: str) -> None:
    calls.append((label, len(calls) + 1))
    raise RuntimeError(f"{label} cannot be done")


@job
def succeeds(label: str) -> str:
    calls.append((label, len(calls) + 1))
    return label


@pytest.fixture(autouse=True)
def fresh_calls():
    calls.clear()


def test_a_failed_job_is_queued_again_later_with_the_next_attempt_number(db, settings):
    settings.JOB_MAX_ATTEMPTS = 5
    with time_machine.travel("2026-03-02 09:00 +0800", tick=False):
        always_fails.enqueue("sync order 42")
        run_pending_jobs()
        now = timezone.now()

    retry, first = sorted(
        DBTaskResult.objects.all(), key=lambda row: "attempt" not in row.args_kwargs["kwargs"]
    )
    assert first.status == "FAILED"
    assert retry.status == "READY"
    assert retry.args_kwargs == {"args": ["sync order 42"], "kwargs": {"attempt": 2}}
    assert retry.run_after == now + timedelta(seconds=30)
    assert calls == [("sync order 42", 1)]


def test_it_stops_retrying_after_job_max_attempts(db, settings):
    settings.JOB_MAX_ATTEMPTS = 3
    with time_machine.travel("2026-03-02 09:00 +0800", tick=False) as traveller:
        always_fails.enqueue("x")
        for _ in range(5):
            run_pending_jobs()
            traveller.shift(timedelta(hours=2))  # past any backoff

    assert len(calls) == 3
    assert DBTaskResult.objects.count() == 3
    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {"FAILED"}
    attempts = sorted(
        row.args_kwargs["kwargs"].get("attempt", 1) for row in DBTaskResult.objects.all()
    )
    assert attempts == [1, 2, 3]


def test_a_retry_does_not_run_before_its_time(db):
    with time_machine.travel("2026-03-02 09:00 +0800", tick=False) as traveller:
        always_fails.enqueue("x")
        run_pending_jobs()
        traveller.shift(timedelta(seconds=29))
        assert run_pending_jobs() == 0
        traveller.shift(timedelta(seconds=2))
        assert run_pending_jobs() == 1
    assert len(calls) == 2


def test_the_reaper_requeues_a_stale_running_job_and_leaves_a_fresh_one(db, settings):
    stale = succeeds.enqueue("stale")
    fresh = succeeds.enqueue("fresh")
    now = timezone.now()
    long_ago = now - timedelta(seconds=settings.JOB_STALE_AFTER_SECONDS + 60)
    DBTaskResult.objects.filter(id=stale.id).update(status="RUNNING", started_at=long_ago)
    DBTaskResult.objects.filter(id=fresh.id).update(
        status="RUNNING", started_at=now - timedelta(seconds=10)
    )

    assert reap_stale_jobs() == 1

    stale_row = DBTaskResult.objects.get(id=stale.id)
    assert (stale_row.status, stale_row.started_at) == ("READY", None)
    assert DBTaskResult.objects.get(id=fresh.id).status == "RUNNING"
    assert run_pending_jobs() == 1
    assert calls == [("stale", 1)]
    assert DBTaskResult.objects.get(id=stale.id).status == "SUCCESSFUL"
