"""Background jobs of learned triage. Both import scikit-learn only when they run (in the worker)."""

from __future__ import annotations

from kefu.lib.jobs import job


@job
def predict_ticket(ticket_id: int) -> str:
    """Predict a new ticket's group, category, priority and complexity; apply the confident ones.

    Idempotent: a ticket with predictions already recorded is left alone.
    """
    from kefu.triage.actions import predict_and_apply

    return predict_and_apply(ticket_id)


@job
def train_model(version_id: int) -> str:
    """Train the queued model version (``kefu.triage.actions.request_training``)."""
    from kefu.triage.actions import run_training

    version = run_training(version_id)
    return f"v{version.version} {version.status}"
