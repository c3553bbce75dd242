"""Django admin (administrators only), read only: the CRM changes on the console's customer pages."""

from django.contrib import admin

from kefu.customers.models import Asset, Contact, ImportRun, Organization, Product
from kefu.lib.admin import ReadOnlyModelAdmin


@admin.register(Organization)
class OrganizationAdmin(ReadOnlyModelAdmin):
    list_display = ["name", "domain", "members_share_tickets", "is_active"]
    list_filter = ["members_share_tickets", "is_active"]
    search_fields = ["name", "domain"]


@admin.register(Contact)
class ContactAdmin(ReadOnlyModelAdmin):
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


@admin.register(Product)
class ProductAdmin(ReadOnlyModelAdmin):
    list_display = ["model_number", "name", "category", "warranty_months", "is_active"]
    list_filter = ["is_active", "category"]
    search_fields = ["model_number", "name"]


@admin.register(Asset)
class AssetAdmin(ReadOnlyModelAdmin):
    list_display = ["serial_number", "product", "organization", "contact", "warranty_ends_at"]
    list_filter = ["status", "is_active"]
    search_fields = ["serial_number"]
    raw_id_fields = ["product", "organization", "contact"]
    list_select_related = ["product", "organization", "contact"]


@admin.register(ImportRun)
class ImportRunAdmin(ReadOnlyModelAdmin):
    list_display = ["filename", "kind", "status", "created_by", "created_at"]
    list_filter = ["kind", "status"]
    readonly_fields = [field.name for field in ImportRun._meta.fields]
