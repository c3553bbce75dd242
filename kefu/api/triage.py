"""Learned triage over the API: the model's status (staff), training (administrators) and what
the model predicted for one ticket (staff who may see the ticket)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema

from kefu.accounts.access import require_admin
from kefu.api.auth import current_user
from kefu.api.schemas import ERRORS
from kefu.tickets.access import get_ticket_for_user
from kefu.triage import actions
from kefu.triage.access import require_triage_reader
from kefu.triage.models import ModelVersion, Outcome, TicketPrediction
from kefu.triage.status import triage_status

router = Router(tags=["triage"])


class VersionOut(Schema):
    version: int
    status: str
    requested_at: datetime
    trained_at: datetime | None
    ticket_count: int
    duration_seconds: float | None


class ClassCountOut(Schema):
    value: str = Field(description="A group or category id, or a priority/complexity value.")
    name: str
    count: int
    eligible: bool = Field(description="Enough examples to be learned.")


class CoverageOut(Schema):
    threshold: float
    coverage: float
    accuracy: float | None


class FieldStatusOut(Schema):
    field: str
    enabled: bool
    threshold: float
    trained: bool
    why_not_trained: str
    accuracy: float | None = Field(description="On the held-out tickets.")
    baseline_accuracy: float | None = Field(description="Always guessing the most common value.")
    test_size: int
    coverage_at_threshold: CoverageOut | None
    classes: list[ClassCountOut]
    confusion_labels: list[str]
    confusion: list[list[int]] = Field(description="Rows: actual value; columns: predicted.")
    predictions: int
    applied: int
    overridden: int
    override_rate: float | None


class TriageStatusOut(Schema):
    enabled: bool
    scikit_learn_installed: bool = Field(
        description="The kefu[triage] extra is installed; without it nothing is trained or predicted."
    )
    notice: str = Field(description="Why triage is off when scikit-learn is missing, else empty.")
    min_examples_per_class: int
    next_training_at: datetime | None
    active_model: VersionOut | None
    pending_training: VersionOut | None
    fields: list[FieldStatusOut]


class PredictionOut(Schema):
    field: str
    value: str
    value_label: str
    confidence: float
    features: list[str]
    outcome: Outcome
    applied: bool
    detail: str
    model_version: int
    created_at: datetime
    overridden_at: datetime | None
    override_value: str


class PredictionList(Schema):
    items: list[PredictionOut]


def version_data(version: ModelVersion | None) -> dict[str, Any] | None:
    if version is None:
        return None
    return {
        "version": version.version,
        "status": version.status,
        "requested_at": version.requested_at,
        "trained_at": version.trained_at,
        "ticket_count": version.ticket_count,
        "duration_seconds": version.duration_seconds,
    }


@router.get(
    "/triage/status",
    response={200: TriageStatusOut, **ERRORS},
    url_name="triage_status",
    summary="The triage model: accuracy, class counts, thresholds and overrides per field",
)
def status(request: HttpRequest):
    require_triage_reader(current_user(request))
    data = triage_status()
    config = data["config"]
    return {
        "enabled": config.is_enabled,
        "scikit_learn_installed": data["is_installed"],
        "notice": data["not_installed_message"],
        "min_examples_per_class": config.min_examples_per_class,
        "next_training_at": config.next_training_at,
        "active_model": version_data(data["active"]),
        "pending_training": version_data(data["pending"]),
        "fields": data["fields"],
    }


@router.post(
    "/triage/train",
    response={202: VersionOut, **ERRORS},
    url_name="triage_train",
    summary="Queue a training run (administrators); a run already queued is returned",
)
def train(request: HttpRequest):
    user = current_user(request)
    require_admin(user, _("Only administrators train the triage model."))
    return 202, version_data(actions.request_training(user))


@router.get(
    "/tickets/{int:ticket_id}/predictions",
    response={200: PredictionList, **ERRORS},
    url_name="ticket_predictions",
    summary="What the triage model predicted for a ticket, and what became of it (staff)",
)
def predictions(request: HttpRequest, ticket_id: int):
    user = current_user(request)
    ticket = get_ticket_for_user(user, ticket_id)
    require_triage_reader(user)
    rows = TicketPrediction.objects.filter(ticket=ticket).select_related("model_version")
    return {
        "items": [
            {
                "field": row.field,
                "value": row.value,
                "value_label": row.value_label,
                "confidence": row.confidence,
                "features": row.features,
                "outcome": row.outcome,
                "applied": row.is_applied,
                "detail": row.detail,
                "model_version": row.model_version.version,
                "created_at": row.created_at,
                "overridden_at": row.overridden_at,
                "override_value": row.override_value,
            }
            for row in rows
        ]
    }
