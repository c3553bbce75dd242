"""Django admin (administrators only, see ``User.is_staff``) for users, groups and API tokens.

Users are created with ``kefu user create`` or, for customers, by inviting them from the console,
so passwords never pass through this form; the admin edits roles, memberships and activation.
"""

from django.contrib import admin

from kefu.accounts.models import ApiToken, Group, Membership, User


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    list_display = ["email", "name", "role", "language", "is_active", "last_login"]
    list_filter = ["role", "is_active"]
    search_fields = ["email", "name"]
    fields = [
        "email",
        "name",
        "role",
        "language",
        "time_zone",
        "is_active",
        "last_login",
        "date_joined",
    ]
    readonly_fields = ["email", "last_login", "date_joined"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # deactivate instead: tickets and the timeline keep pointing at the user


@admin.register(Group)
class GroupAdmin(admin.ModelAdmin):
    list_display = ["name", "email", "is_default", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name"]
    fields = ["name", "description", "email", "is_default", "is_active"]
    inlines = [MembershipInline]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["prefix", "user", "name", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["user__email", "name", "prefix"]
    readonly_fields = ["user", "name", "prefix", "created_at", "last_used_at"]
    exclude = ["token_hash"]

    def has_add_permission(self, request):
        return False  # a token is shown once, by `kefu token create`
