"""Read-only admin views for support; configuration happens on the Automation pages."""

from django.contrib import admin

from kefu.automation.models import (
    AutomationMail,
    CannedResponse,
    Macro,
    TimeRule,
    TimeRuleSchedule,
    Trigger,
    Webhook,
    WebhookDelivery,
)
from kefu.lib.admin import ReadOnlyModelAdmin


@admin.register(Trigger)
class TriggerAdmin(ReadOnlyModelAdmin):
    list_display = ["name", "position", "is_active", "fired_count", "last_fired_at"]
    list_filter = ["is_active"]


@admin.register(TimeRule)
class TimeRuleAdmin(ReadOnlyModelAdmin):
    list_display = ["name", "state", "delay", "unit", "is_active", "fired_count"]
    list_filter = ["is_active", "state"]


@admin.register(TimeRuleSchedule)
class TimeRuleScheduleAdmin(ReadOnlyModelAdmin):
    list_display = ["rule", "ticket", "entered_at", "due_at", "fired_at", "outcome"]
    list_filter = ["outcome"]
    raw_id_fields = ["ticket"]


@admin.register(Macro)
class MacroAdmin(ReadOnlyModelAdmin):
    list_display = ["name", "visibility", "owner", "group", "is_active", "used_count"]


@admin.register(CannedResponse)
class CannedResponseAdmin(ReadOnlyModelAdmin):
    list_display = ["title", "visibility", "owner", "group", "is_active", "used_count"]
    search_fields = ["title", "body"]


@admin.register(Webhook)
class WebhookAdmin(ReadOnlyModelAdmin):
    list_display = ["name", "url", "is_active"]
    exclude = ["secret_encrypted"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyModelAdmin):
    list_display = ["webhook", "event", "status", "attempts", "last_status_code", "created_at"]
    list_filter = ["status", "event"]
    raw_id_fields = ["ticket"]


@admin.register(AutomationMail)
class AutomationMailAdmin(ReadOnlyModelAdmin):
    list_display = ["subject", "to_address", "status", "created_at", "sent_at"]
    list_filter = ["status"]
    raw_id_fields = ["ticket"]
