"""Django admin views of the triage tables (read only; the triage page is the real interface)."""

from django.contrib import admin

from kefu.lib.admin import ReadOnlyModelAdmin
from kefu.triage.models import ModelVersion, TicketPrediction, TriageConfig


@admin.register(TriageConfig)
class TriageConfigAdmin(ReadOnlyModelAdmin):
    list_display = ("pk", "is_enabled", "min_examples_per_class", "active_version")


@admin.register(ModelVersion)
class ModelVersionAdmin(ReadOnlyModelAdmin):
    list_display = ("version", "status", "trained_at", "ticket_count", "duration_seconds")
    readonly_fields = ("metrics", "file_path", "error")


@admin.register(TicketPrediction)
class TicketPredictionAdmin(ReadOnlyModelAdmin):
    list_display = ("ticket", "field", "value_label", "confidence", "outcome", "overridden_at")
    list_filter = ("field", "outcome")
    raw_id_fields = ("ticket",)
