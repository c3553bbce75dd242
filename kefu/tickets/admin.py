"""Django admin (administrators only): ticket types and tags are configured here; tickets and
their timeline are read-only, because every change must go through the actions and be recorded.
"""

from django.contrib import admin

from kefu.tickets.models import Category, CustomField, Tag, Ticket, TicketEvent, TicketType


@admin.register(TicketType)
class TicketTypeAdmin(admin.ModelAdmin):
    list_display = ["key", "name", "position", "is_active"]
    list_editable = ["position", "is_active"]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "parent", "position", "is_active"]
    list_editable = ["position", "is_active"]
    list_filter = ["is_active", "parent"]
    search_fields = ["name"]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CustomField)
class CustomFieldAdmin(admin.ModelAdmin):
    """Read-only here: the console page (/tickets/custom-fields/) checks definitions."""

    list_display = ["label", "key", "kind", "is_required", "position", "is_active"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ["name"]


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Ticket)
class TicketAdmin(ReadOnlyAdmin):
    list_display = [
        "number",
        "subject",
        "state",
        "priority",
        "group",
        "assignee",
        "contact",
        "updated_at",
    ]
    list_filter = ["state", "priority", "channel", "group"]
    search_fields = ["=number", "subject", "contact__name", "contact__email"]
    list_select_related = ["group", "assignee", "contact"]


@admin.register(TicketEvent)
class TicketEventAdmin(ReadOnlyAdmin):
    list_display = ["ticket", "type", "actor", "field", "old_value", "new_value", "created_at"]
    list_filter = ["type", "field"]
    search_fields = ["=ticket__number"]
    list_select_related = ["ticket", "actor"]
