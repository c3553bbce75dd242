"""The tick registry: every registered function runs once per pass, whatever the others do."""

from __future__ import annotations

import logging

import pytest

from kefu.cli import main
from kefu.lib import tick
from kefu.lib.tick import register_tick, registered_ticks, run_tick_once


@pytest.fixture
def empty_registry(monkeypatch):
    monkeypatch.setattr(tick, "_tick_functions", {})


def test_it_runs_every_registered_function_and_survives_one_raising(empty_registry, caplog):
    calls = []

    def broken() -> int:
        calls.append("broken")
        raise RuntimeError("boom")

    register_tick("first", lambda: calls.append("first") or 2)
    register_tick("broken", broken)
    register_tick("last", lambda: calls.append("last") or 0)

    with caplog.at_level(logging.ERROR, logger="kefu.lib.tick"):
        assert run_tick_once() == {"first": 2, "broken": -1, "last": 0}
    assert calls == ["first", "broken", "last"]
    assert "tick function broken failed" in caplog.text


def test_registering_the_same_name_again_replaces_the_function(empty_registry):
    register_tick("sweep", lambda: 1)
    register_tick("sweep", lambda: 7)
    assert registered_ticks() == ["sweep"]
    assert run_tick_once() == {"sweep": 7}


def test_the_job_reaper_is_registered_at_start_up():
    assert "reap_stale_jobs" in registered_ticks()


def test_kefu_tick_once_prints_what_each_function_did(empty_registry, capsys):
    register_tick("sweep", lambda: 3)
    register_tick("broken", lambda: 1 // 0)
    assert main(["tick", "--once"]) == 0
    out = capsys.readouterr().out
    assert "sweep: 3" in out
    assert "broken: failed, see the log" in out
