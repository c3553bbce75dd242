"""Every write of the triage app: settings, training runs, applying predictions, overrides.

No scikit-learn here: ``run_training`` and ``predict_and_apply`` import ``kefu.triage.engine``
inside the function, and only jobs, the tick and the ``kefu triage train`` command call them.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.access import require_admin
from kefu.accounts.models import User
from kefu.audit.actions import changes_since, record, snapshot
from kefu.lib import config_cache
from kefu.lib.errors import BusinessRuleError
from kefu.tickets.actions import default_group, update_ticket
from kefu.tickets.models import DONE_STATES, EventType, Priority, Ticket, TicketEvent
from kefu.triage.labels import current_label, display_names, resolve
from kefu.triage.models import (
    FIELDS,
    ModelVersion,
    Outcome,
    TicketPrediction,
    TriageConfig,
    VersionStatus,
)
from kefu.triage.status import not_installed_message, scikit_learn_installed

logger = logging.getLogger(__name__)

CONFIG_FIELDS = (
    "is_enabled",
    "min_examples_per_class",
    "training_hour",
    *(f"{name}_{suffix}" for name in FIELDS for suffix in ("enabled", "threshold")),
)


def _require_admin(actor: User | None) -> None:
    require_admin(actor, _("Only administrators change triage settings."))


def _require_scikit_learn() -> None:
    if not scikit_learn_installed():
        raise BusinessRuleError(not_installed_message())


def model_path(version: int):
    return settings.DATA_DIR / "triage" / f"model-{version}.joblib"


def next_training_time(hour: int, now: datetime | None = None) -> datetime:
    """The next ``hour`` o'clock (local time) after ``now``."""
    local = timezone.localtime(now or timezone.now())
    candidate = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    if candidate <= local:
        candidate += timedelta(days=1)
    return candidate


# --- settings -------------------------------------------------------------------------------


@transaction.atomic
def save_config(actor: User | None, **changes: Any) -> TriageConfig:
    _require_admin(actor)
    unknown = set(changes) - set(CONFIG_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be changed.") for name in unknown})
    config = TriageConfig.load()
    config = TriageConfig.objects.select_for_update().get(pk=config.pk)
    before = snapshot(config, changes)
    for name, value in changes.items():
        if name.endswith("_threshold") and not 0 < float(value) <= 1:
            raise ValidationError({name: _("A threshold is between 0 and 1.")})
        if name == "training_hour" and not 0 <= int(value) <= 23:
            raise ValidationError({name: _("The hour is between 0 and 23.")})
        if name == "min_examples_per_class" and int(value) < 2:
            raise ValidationError({name: _("At least 2 examples per value are needed.")})
        setattr(config, name, value)
    if "training_hour" in changes:
        config.next_training_at = next_training_time(config.training_hour)
    config.save()
    record(actor, "triage.settings_changed", config, changes_since(before, config))
    return config


# --- training -------------------------------------------------------------------------------


@transaction.atomic
def request_training(actor: User | None) -> ModelVersion:
    """Queue a training run for the worker; a run already queued or training is returned."""
    _require_admin(actor)
    _require_scikit_learn()
    # The settings row serialises concurrent requests ("Train now" clicked twice).
    TriageConfig.load()
    TriageConfig.objects.select_for_update().get(pk=1)
    pending = ModelVersion.objects.filter(
        status__in=(VersionStatus.QUEUED, VersionStatus.RUNNING)
    ).first()
    if pending is not None:
        return pending
    version = _new_version(actor)
    from kefu.triage.tasks import train_model

    train_model.enqueue(version.pk)
    return version


def _new_version(actor: User | None) -> ModelVersion:
    number = (ModelVersion.objects.aggregate(top=Max("version"))["top"] or 0) + 1
    return ModelVersion.objects.create(version=number, requested_by=actor)


def train_now(actor: User | None, progress=None) -> ModelVersion:
    """Train in this process (``kefu triage train``, the demo); returns the finished version."""
    _require_admin(actor)
    _require_scikit_learn()
    with transaction.atomic():
        TriageConfig.load()
        TriageConfig.objects.select_for_update().get(pk=1)
        version = _new_version(actor)
    return run_training(version.pk, progress=progress)


def run_training(version_id: int, progress=None) -> ModelVersion:
    """Train the queued ``version_id``; idempotent (a finished version is left alone).

    A version still marked as training when its job starts again lost its worker; it is
    trained again from the start.
    """
    version = ModelVersion.objects.get(pk=version_id)
    if version.status not in (VersionStatus.QUEUED, VersionStatus.RUNNING):
        return version
    config = TriageConfig.load()
    ModelVersion.objects.filter(pk=version.pk).update(
        status=VersionStatus.RUNNING, started_at=timezone.now()
    )
    try:
        from kefu.triage import engine

        overridden = set(
            TicketPrediction.objects.filter(overridden_at__isnull=False).values_list(
                "ticket_id", "field"
            )
        )
        result = engine.train(
            min_examples_per_class=config.min_examples_per_class,
            overridden=overridden,
            progress=progress,
        )
        for name, info in result.metrics.items():
            info["names"] = display_names(name, list(info["class_counts"]))
        path = model_path(version.version)
        if any(info["trained"] for info in result.metrics.values()):
            engine.save_model(result.model, path)
        else:
            path = None
    except Exception as error:
        logger.exception("training triage model v%s failed", version.version)
        ModelVersion.objects.filter(pk=version.pk).update(
            status=VersionStatus.FAILED, error=f"{type(error).__name__}: {error}"[:2000]
        )
        version.refresh_from_db()
        return version
    with transaction.atomic():
        ModelVersion.objects.filter(pk=version.pk).update(
            status=VersionStatus.READY,
            trained_at=timezone.now(),
            duration_seconds=round(result.seconds, 2),
            ticket_count=result.ticket_count,
            metrics=result.metrics,
            file_path=str(path) if path else "",
            error="",
        )
        # Even a version without any trained field becomes active: new tickets are then left
        # to rules and defaults, as the triage page explains.
        TriageConfig.objects.filter(pk=config.pk).update(active_version=version)
        config_cache.config_changed()
    version.refresh_from_db()
    return version


def enqueue_due_training() -> int:
    """Tick: queue the nightly training when ``next_training_at`` is due (claimed with a
    conditional UPDATE, so two tick processes never queue it twice)."""
    now = timezone.now()
    config = TriageConfig.load()
    following = next_training_time(config.training_hour, now)
    if config.next_training_at is None:
        TriageConfig.objects.filter(pk=config.pk, next_training_at__isnull=True).update(
            next_training_at=following
        )
        return 0
    claimed = TriageConfig.objects.filter(
        pk=config.pk, next_training_at=config.next_training_at, next_training_at__lte=now
    ).update(next_training_at=following)
    if not claimed or not config.is_enabled or not scikit_learn_installed():
        return 0
    last = config.active_version
    if last is not None and last.trained_at is not None:
        changed = Ticket.objects.filter(
            updated_at__gt=last.trained_at, state__in=DONE_STATES
        ).exists()
        if not changed:
            return 0  # nothing new to learn since the active model
    request_training(None)
    return 1


# --- predictions ----------------------------------------------------------------------------


def predict_and_apply(ticket_id: int) -> str:
    """Predict a new ticket's fields with the active model and apply the confident ones."""
    config = TriageConfig.load()
    version = config.active_version
    if not config.is_enabled or version is None or not version.file_path:
        return "no active model"
    if not scikit_learn_installed():
        return "scikit-learn is not installed"
    if TicketPrediction.objects.filter(ticket_id=ticket_id).exists():
        return "already predicted"
    ticket = Ticket.objects.filter(pk=ticket_id).first()
    if ticket is None:
        return "no such ticket"
    first = ticket.messages.order_by("created_at", "id").values_list("body_text", flat=True)
    if not Path(version.file_path).exists():
        # A restored database without its data directory: retrying cannot help; retrain.
        logger.error("triage model file %s is missing; run `kefu triage train`", version.file_path)
        return "model file missing"
    from kefu.triage import engine

    model = engine.load_model(version.file_path)
    predictions = engine.predict(model, ticket.subject, first.first() or "")
    return apply_predictions(ticket, version, predictions, config)


def field_decision(ticket: Ticket, field: str) -> str:
    """Why ``field`` of ``ticket`` counts as decided already (empty: the model may set it).

    Decided means: a change event for the field is on the timeline (a routing rule, a trigger,
    an agent, the SLA engine), or the creator chose a value other than the default (a group
    other than the default group, a priority other than medium, any category or complexity).
    For the group, also when a person has assigned the ticket: moving it would unassign them.
    """
    event = (
        TicketEvent.objects.filter(ticket=ticket, type=EventType.CHANGED, field=field)
        .select_related("actor")
        .order_by("-created_at", "-id")
        .first()
    )
    if event is not None:
        if event.reason:
            return _("set by %(who)s: %(reason)s") % {
                "who": event.actor or _("System"),
                "reason": _(event.reason),
            }
        return _("set by %(who)s") % {"who": event.actor or _("System")}
    if field == "group":
        if ticket.group_id != default_group().pk:
            return _("the creator chose the group")
        assigned = TicketEvent.objects.filter(
            ticket=ticket, type=EventType.CHANGED, field="assignee", actor__isnull=False
        ).exists()
        if assigned or (ticket.assignee_id and not _assigned_by_system(ticket)):
            return _("a person assigned the ticket")
        return ""
    if field == "priority":
        return _("the creator chose the priority") if ticket.priority != Priority.MEDIUM else ""
    if field == "category":
        return _("the creator chose the category") if ticket.category_id else ""
    return _("the creator chose the complexity") if ticket.complexity else ""


def _assigned_by_system(ticket: Ticket) -> bool:
    return TicketEvent.objects.filter(
        ticket=ticket, type=EventType.CHANGED, field="assignee", actor__isnull=True
    ).exists()


@transaction.atomic
def apply_predictions(
    ticket: Ticket, version: ModelVersion, predictions: dict[str, Any], config: TriageConfig
) -> str:
    """Record each field's prediction and apply it through ``update_ticket`` when allowed.

    ``predictions`` maps field → an object with ``label``, ``confidence`` and ``features``.
    Applied changes are made by the system (``actor=None``) with a reason naming the model
    version, the value, the confidence and the n-grams behind it.
    """
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if TicketPrediction.objects.filter(ticket=ticket).exists():
        return "already predicted"
    applied = []
    for field in FIELDS:
        prediction = predictions.get(field)
        if prediction is None:
            continue
        value, available = resolve(field, prediction.label)
        label_name = display_names(field, [prediction.label])[prediction.label]
        outcome, detail = _outcome(ticket, field, prediction, available, config)
        TicketPrediction.objects.create(
            ticket=ticket,
            field=field,
            model_version=version,
            value=prediction.label,
            value_label=label_name,
            confidence=round(prediction.confidence, 4),
            features=list(prediction.features),
            outcome=outcome,
            detail=detail,
        )
        if outcome != Outcome.APPLIED:
            continue
        reason = f"Triage model v{version.version}: {label_name} ({prediction.confidence:.2f})"
        if prediction.features:
            reason += " — " + ", ".join(prediction.features)
        ticket = update_ticket(None, ticket, reason=reason, **{field: value})
        applied.append(field)
    return "applied " + ", ".join(applied) if applied else "nothing applied"


def _outcome(
    ticket: Ticket, field: str, prediction: Any, available: bool, config: TriageConfig
) -> tuple[str, str]:
    threshold = config.threshold(field)
    if not config.field_enabled(field):
        return Outcome.DISABLED, ""
    if ticket.state in DONE_STATES:
        return Outcome.TICKET_DONE, ""
    if not available:
        return Outcome.UNAVAILABLE, ""
    agrees = current_label(ticket, field) == prediction.label
    decided = field_decision(ticket, field)
    if decided:
        # A rule or a person wins over the model, even when they agree.
        return Outcome.DECIDED, (
            _("%(why)s (the model agrees)") % {"why": decided}
        ) if agrees else decided
    if agrees:
        return Outcome.UNCHANGED, ""
    if prediction.confidence < threshold:
        return Outcome.BELOW_THRESHOLD, _("%(confidence)s is below the threshold %(threshold)s") % {
            "confidence": f"{prediction.confidence:.2f}",
            "threshold": f"{threshold:.2f}",
        }
    return Outcome.APPLIED, ""


def record_overrides(ticket: Ticket, actor: User | None, changes: dict[str, Any]) -> int:
    """A person changed fields the model had set: count those predictions as overridden.

    Called from the ``TicketChanged`` handler inside the changing action's transaction. The next
    training learns the ticket's current (corrected) value, with extra weight.
    """
    if actor is None or not actor.is_staff_member:
        return 0
    count = 0
    for field in FIELDS:
        if field not in changes:
            continue
        new = changes[field][1]
        count += TicketPrediction.objects.filter(
            ticket=ticket, field=field, outcome=Outcome.APPLIED, overridden_at__isnull=True
        ).update(
            overridden_at=timezone.now(),
            overridden_by=actor,
            override_value=str(new if new is not None else "")[:255],
        )
    return count
