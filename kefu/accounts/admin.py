"""Django admin (administrators only, see ``User.is_staff``): users, groups and API tokens, read
only. Roles, memberships, activation and groups change on the console's Administration pages,
whose actions keep the rules (the last administrator keeps the role, deactivation hands tickets
over) and write the audit log."""

from django.contrib import admin

from kefu.accounts.models import ApiToken, Group, Membership, User
from kefu.lib.admin import ReadOnlyInline, ReadOnlyModelAdmin


class MembershipInline(ReadOnlyInline):
    model = Membership


@admin.register(User)
class UserAdmin(ReadOnlyModelAdmin):
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


@admin.register(Group)
class GroupAdmin(ReadOnlyModelAdmin):
    list_display = ["name", "email", "is_default", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name"]
    fields = ["name", "description", "email", "is_default", "escalation_group", "is_active"]
    inlines = [MembershipInline]


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyModelAdmin):
    list_display = ["prefix", "user", "name", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["user__email", "name", "prefix"]
    exclude = ["token_hash"]
