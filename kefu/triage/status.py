"""What the triage page and ``GET /api/v1/triage/status`` show: per field, whether the active
model predicts it (or why not), its hold-out accuracy, confusion matrix, class counts, the
threshold and how often agents overrode what the model set. Read-only; no scikit-learn."""

from __future__ import annotations

import functools
import importlib.util
from typing import Any

from django.db.models import Count, Q
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kefu.triage.labels import display_names
from kefu.triage.models import (
    FIELD_LABELS,
    FIELDS,
    ModelVersion,
    Outcome,
    TicketPrediction,
    TriageConfig,
    VersionStatus,
)


@functools.cache
def scikit_learn_installed() -> bool:
    """Whether the ``kefu[triage]`` extra is installed, found without importing scikit-learn
    (web processes never load it)."""
    return importlib.util.find_spec("sklearn") is not None


def not_installed_message() -> str:
    return _(
        "scikit-learn is not installed, so learned triage is off: new tickets are left to rules "
        "and defaults. Install it with: pip install 'kefu[triage]'"
    )


def override_counts() -> dict[str, dict[str, Any]]:
    rows = TicketPrediction.objects.values("field").annotate(
        total=Count("id"),
        applied=Count("id", filter=Q(outcome=Outcome.APPLIED)),
        overridden=Count("id", filter=Q(overridden_at__isnull=False)),
    )
    return {row["field"]: dict(row) for row in rows}


def why_not_trained(info: dict[str, Any] | None) -> str:
    if info is None:
        return _("No model has been trained yet.")
    if info.get("trained"):
        return ""
    if info.get("reason") == "no_history":
        return _("No resolved or closed ticket has a value for this field yet.")
    minimum = info.get("min_examples_per_class", 0)
    eligible = len(info.get("labels") or [])
    return ngettext(
        "Needs at least two values with %(min)s or more resolved tickets each; "
        "%(count)s value has that many.",
        "Needs at least two values with %(min)s or more resolved tickets each; "
        "%(count)s values have that many.",
        eligible,
    ) % {"min": minimum, "count": eligible}


def field_status(
    name: str, config: TriageConfig, info: dict[str, Any] | None, counts: dict[str, Any]
) -> dict[str, Any]:
    threshold = config.threshold(name)
    class_counts: dict[str, int] = (info or {}).get("class_counts", {})
    eligible = set((info or {}).get("labels") or [])
    labels = list(class_counts)
    names = {**(info or {}).get("names", {}), **display_names(name, labels)}
    model_labels = (info or {}).get("labels") or []
    coverage = None
    for row in (info or {}).get("coverage") or []:
        if row["threshold"] <= threshold + 1e-9:
            coverage = row
    applied = counts.get("applied", 0)
    overridden = counts.get("overridden", 0)
    return {
        "field": name,
        "label": str(FIELD_LABELS[name]),
        "enabled": config.field_enabled(name),
        "threshold": threshold,
        "trained": bool(info and info.get("trained")),
        "why_not_trained": why_not_trained(info),
        "accuracy": (info or {}).get("accuracy"),
        "baseline_accuracy": (info or {}).get("baseline_accuracy"),
        "test_size": (info or {}).get("test_size", 0),
        "coverage_at_threshold": coverage,
        "min_examples_per_class": (info or {}).get("min_examples_per_class"),
        "classes": [
            {
                "value": label,
                "name": names.get(label, label),
                "count": count,
                "eligible": label in eligible,
            }
            for label, count in class_counts.items()
        ],
        "confusion_labels": [names.get(label, label) for label in model_labels],
        "confusion": (info or {}).get("confusion") or [],
        "top_features": [
            {"name": names.get(label, label), "features": features}
            for label, features in ((info or {}).get("top_features") or {}).items()
        ],
        "predictions": counts.get("total", 0),
        "applied": applied,
        "overridden": overridden,
        "override_rate": round(overridden / applied, 4) if applied else None,
    }


def triage_status() -> dict[str, Any]:
    config = TriageConfig.load()
    active = config.active_version
    pending = (
        ModelVersion.objects.filter(status__in=(VersionStatus.QUEUED, VersionStatus.RUNNING))
        .order_by("version")
        .first()
    )
    counts = override_counts()
    metrics = active.metrics if active is not None else {}
    return {
        "config": config,
        "is_installed": scikit_learn_installed(),
        "not_installed_message": "" if scikit_learn_installed() else not_installed_message(),
        "active": active,
        "pending": pending,
        "last_failed": ModelVersion.objects.filter(status=VersionStatus.FAILED)
        .exclude(version__lt=active.version if active else 0)
        .first(),
        "fields": [
            field_status(name, config, metrics.get(name) if active else None, counts.get(name, {}))
            for name in FIELDS
        ],
        "versions": list(ModelVersion.objects.all()[:10]),
    }
