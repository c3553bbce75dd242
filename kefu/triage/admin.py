"""Django admin views of the triage tables (read-mostly; the triage page is the real interface)."""

from django.contrib import admin

from kefu.triage.models import ModelVersion, TicketPrediction, TriageConfig


@admin.register(TriageConfig)
class TriageConfigAdmin(admin.ModelAdmin):
    list_display = ("pk", "is_enabled", "min_examples_per_class", "active_version")


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ("version", "status", "trained_at", "ticket_count", "duration_seconds")
    readonly_fields = ("metrics", "file_path", "error")


@admin.register(TicketPrediction)
class TicketPredictionAdmin(admin.ModelAdmin):
    list_display = ("ticket", "field", "value_label", "confidence", "outcome", "overridden_at")
    list_filter = ("field", "outcome")
    raw_id_fields = ("ticket",)
