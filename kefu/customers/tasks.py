"""Background jobs of the customers app. Each takes ids, re-fetches, and is idempotent."""

from __future__ import annotations

from kefu.lib.jobs import job


@job
def run_import(run_id: int) -> str:
    """Run a confirmed spreadsheet import (``actions.execute_import``); a second run of the same
    job finds the import no longer queued and does nothing."""
    from kefu.customers.actions import execute_import

    run = execute_import(run_id)
    return "already ran" if run is None else run.status
