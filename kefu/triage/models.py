"""Learned triage: the settings, the trained model versions and one prediction per ticket field.

The model itself (idf weights and coefficients) lives in a file under the data directory
(``DATA_DIR/triage/model-<version>.joblib``), read only by the job worker; the database holds
what the web pages show: the metrics of each version and the predictions with their outcome.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kefu.tickets.models import Ticket

# The ticket fields the model predicts, in the order they are shown and applied.
FIELDS = ("group", "category", "priority", "complexity")
FIELD_LABELS = {
    "group": _("Group"),
    "category": _("Category"),
    "priority": _("Priority"),
    "complexity": _("Complexity"),
}


class TriageConfig(models.Model):
    """The one row of triage settings (``pk=1``), edited by administrators on the triage page."""

    is_enabled = models.BooleanField(
        _("predict new tickets"),
        default=True,
        help_text=_("Predict the fields of each new ticket in the background."),
    )
    min_examples_per_class = models.PositiveIntegerField(
        _("minimum examples per value"),
        default=20,
        help_text=_(
            "A value (e.g. a group) is learned only from at least this many resolved tickets; "
            "a field is predicted once two values have that many."
        ),
    )
    group_enabled = models.BooleanField(_("predict the group"), default=True)
    group_threshold = models.FloatField(_("group threshold"), default=0.7)
    category_enabled = models.BooleanField(_("predict the category"), default=True)
    category_threshold = models.FloatField(_("category threshold"), default=0.7)
    priority_enabled = models.BooleanField(_("predict the priority"), default=True)
    priority_threshold = models.FloatField(_("priority threshold"), default=0.8)
    complexity_enabled = models.BooleanField(_("predict the complexity"), default=True)
    complexity_threshold = models.FloatField(_("complexity threshold"), default=0.8)
    training_hour = models.PositiveSmallIntegerField(
        _("nightly training hour"),
        default=3,
        help_text=_("Local time (0–23) at which the model is retrained each night."),
    )
    # Claimed by the ``triage`` tick with a conditional UPDATE (one row, no index needed).
    next_training_at = models.DateTimeField(null=True, blank=True)
    # The version new tickets are predicted with; set when a training finishes.
    active_version = models.ForeignKey(
        "ModelVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("triage settings")
        verbose_name_plural = _("triage settings")

    def __str__(self) -> str:
        return "triage settings"

    @classmethod
    def load(cls) -> TriageConfig:
        config = cls.objects.select_related("active_version").filter(pk=1).first()
        if config is None:
            config, _created = cls.objects.get_or_create(pk=1)
        return config

    def threshold(self, field: str) -> float:
        return float(getattr(self, f"{field}_threshold"))

    def field_enabled(self, field: str) -> bool:
        return bool(getattr(self, f"{field}_enabled"))


class VersionStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Training")
    READY = "ready", _("Ready")
    FAILED = "failed", _("Failed")


class ModelVersion(models.Model):
    """One training run and, once ready, the model it produced."""

    version = models.PositiveIntegerField(_("version"), unique=True)
    status = models.CharField(
        _("status"), max_length=10, choices=VersionStatus.choices, default=VersionStatus.QUEUED
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    trained_at = models.DateTimeField(_("trained"), null=True, blank=True)
    duration_seconds = models.FloatField(null=True, blank=True)
    ticket_count = models.PositiveIntegerField(_("tickets"), default=0)
    # Per field: trained or why not, labels, class counts, hold-out accuracy, confusion matrix,
    # coverage by threshold and the top features per value (see kefu.triage.engine.train).
    metrics = models.JSONField(default=dict, blank=True)
    file_path = models.CharField(max_length=500, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-version"]
        verbose_name = _("triage model version")
        verbose_name_plural = _("triage model versions")

    def __str__(self) -> str:
        return f"triage model v{self.version} ({self.status})"


class Outcome(models.TextChoices):
    APPLIED = "applied", _("Applied")
    BELOW_THRESHOLD = "below_threshold", _("Confidence below the threshold")
    DECIDED = "decided", _("Already decided by a rule or a person")
    UNCHANGED = "unchanged", _("The ticket already had this value")
    DISABLED = "disabled", _("Prediction of this field is switched off")
    UNAVAILABLE = "unavailable", _("The predicted value is no longer available")
    TICKET_DONE = "ticket_done", _("The ticket was already resolved")


class TicketPrediction(models.Model):
    """What the model predicted for one field of one ticket, and what became of it."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="predictions")
    field = models.CharField(max_length=20)
    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.PROTECT, related_name="predictions"
    )
    value = models.CharField(max_length=100, help_text="The label: an id or a choice value.")
    value_label = models.CharField(max_length=255)
    confidence = models.FloatField()
    features = models.JSONField(default=list, blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    detail = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # A later change of an applied prediction by a person (an override).
    overridden_at = models.DateTimeField(null=True, blank=True)
    overridden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    override_value = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["ticket", "id"]
        constraints = [
            # One prediction per field: a retried job finds it and does nothing.
            models.UniqueConstraint(fields=["ticket", "field"], name="one_prediction_per_field")
        ]
        indexes = [models.Index(fields=["field", "outcome"], name="prediction_field_outcome")]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.field}={self.value} ({self.confidence:.2f})"

    @property
    def is_applied(self) -> bool:
        return self.outcome == Outcome.APPLIED
