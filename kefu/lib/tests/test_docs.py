"""The docs lists generated from the registries match the committed docs."""

from __future__ import annotations

import pytest

from kefu.lib.docs import GENERATE_COMMAND, generated_docs, is_test_code, stale_docs, summary
from kefu.lib.jobs import registered_jobs
from kefu.lib.tick import tick_functions
from kefu.tickets.events import registered_handlers


def test_the_committed_docs_match_the_registries():
    assert stale_docs() == [], f"the generated docs are out of date; run `{GENERATE_COMMAND}`"


def test_every_job_tick_function_and_handler_is_listed():
    text = "".join(generated for _committed, generated in generated_docs().values())
    for name in registered_jobs():
        assert f"`{name}`" in text
    for name, function in tick_functions().items():
        assert is_test_code(function.__module__) or f"`{name}`" in text
    for handlers in registered_handlers().values():
        for handler in handlers:
            assert is_test_code(handler) or f"`{handler.removeprefix('kefu.')}`" in text


def test_every_job_and_tick_function_says_what_it_does():
    for function in [*registered_jobs().values(), *tick_functions().values()]:
        assert is_test_code(function.__module__) or summary(function)


def test_jobs_declared_by_tests_are_left_out():
    from kefu.lib.tests import test_jobs

    assert test_jobs.always_fails  # a job declared in a test module
    assert not any(".tests." in f".{name}." for name in registered_jobs())


def test_a_function_without_a_docstring_cannot_be_documented():
    def undocumented() -> int:
        return 0

    with pytest.raises(ValueError, match="has no docstring"):
        summary(undocumented)


def test_a_changed_registry_makes_the_docs_stale(monkeypatch):
    from kefu.lib import tick
    from kefu.lib.jobs import reap_stale_jobs

    monkeypatch.setitem(tick._tick_functions, "reap_again", reap_stale_jobs)
    assert stale_docs() == ["docs/jobs.md"]


def test_a_changed_description_makes_the_docs_stale(monkeypatch):
    from kefu.lib.jobs import reap_stale_jobs

    monkeypatch.setattr(reap_stale_jobs, "__doc__", "Something else entirely.")
    assert stale_docs() == ["docs/jobs.md"]


def test_the_summary_is_the_first_sentence():
    def documented() -> None:
        """Send one ``x.y`` mail, once. Retried with
        backoff.

        Details."""

    assert summary(documented) == "Send one ``x.y`` mail, once."
