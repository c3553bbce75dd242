"""Django admin (administrators only), read only like every admin: ticket types, tags, categories
and custom fields change on the console's Administration pages, tickets through the workspace;
both go through the actions, which check and record every change.
"""

from django.contrib import admin

from kefu.lib.admin import ReadOnlyModelAdmin
from kefu.tickets.models import Category, CustomField, Tag, Ticket, TicketEvent, TicketType


@admin.register(TicketType)
class TicketTypeAdmin(ReadOnlyModelAdmin):
    list_display = ["key", "name", "position", "is_active"]


@admin.register(Category)
class CategoryAdmin(ReadOnlyModelAdmin):
    list_display = ["name", "parent", "position", "is_active"]
    list_filter = ["is_active", "parent"]
    search_fields = ["name"]


@admin.register(CustomField)
class CustomFieldAdmin(ReadOnlyModelAdmin):
    list_display = ["label", "key", "kind", "is_required", "position", "is_active"]


@admin.register(Tag)
class TagAdmin(ReadOnlyModelAdmin):
    search_fields = ["name"]


@admin.register(Ticket)
class TicketAdmin(ReadOnlyModelAdmin):
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
class TicketEventAdmin(ReadOnlyModelAdmin):
    list_display = ["ticket", "type", "actor", "field", "old_value", "new_value", "created_at"]
    list_filter = ["type", "field"]
    search_fields = ["=ticket__number"]
    list_select_related = ["ticket", "actor"]
