"""Django admin (administrators only) for organisations and contacts."""

from django.contrib import admin

from kefu.customers.models import Contact, Organization


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "domain", "members_share_tickets", "is_active"]
    list_filter = ["members_share_tickets", "is_active"]
    search_fields = ["name", "domain"]

    def has_delete_permission(self, request, obj=None):
        return False  # deactivate instead; tickets keep their organisation


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["name", "email", "phone", "wechat_id", "organization", "is_active"]
    list_filter = ["is_active", "organization"]
    search_fields = ["name", "email", "phone", "wechat_id"]
    fields = [
        "name",
        "email",
        "phone",
        "wechat_id",
        "language",
        "organization",
        "user",
        "notes",
        "is_active",
    ]
    readonly_fields = ["user"]
    list_select_related = ["organization"]

    def has_delete_permission(self, request, obj=None):
        return False
