"""Django admin (administrators only) for organisations and contacts."""

from django.contrib import admin

from kefu.customers.models import Asset, Contact, ImportRun, Organization, Product


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


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["model_number", "name", "category", "warranty_months", "is_active"]
    list_filter = ["is_active", "category"]
    search_fields = ["model_number", "name"]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Asset)
class AssetAdmin(admin.ModelAdmin):
    list_display = ["serial_number", "product", "organization", "contact", "warranty_ends_at"]
    list_filter = ["status", "is_active"]
    search_fields = ["serial_number"]
    raw_id_fields = ["product", "organization", "contact"]
    list_select_related = ["product", "organization", "contact"]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    list_display = ["filename", "kind", "status", "created_by", "created_at"]
    list_filter = ["kind", "status"]
    readonly_fields = [field.name for field in ImportRun._meta.fields]

    def has_add_permission(self, request):
        return False
