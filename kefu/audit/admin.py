"""The audit log is read-only everywhere, the Django admin included."""

from django.contrib import admin

from kefu.audit.models import AuditEntry
from kefu.lib.admin import ReadOnlyModelAdmin


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyModelAdmin):
    list_display = ["created_at", "actor_repr", "action", "object_type", "object_repr", "ip"]
    list_filter = ["action", "object_type"]
    search_fields = ["actor_repr", "object_repr", "object_id"]
