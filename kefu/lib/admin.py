"""The Django admin at ``/admin/`` is a window onto the rows, never a way to change them.

Every write goes through an app's actions, which enforce the business rules (staff never become
customers, the last administrator keeps the role, deactivation hands tickets over) and record the
audit log; a ``ModelAdmin`` that saves rows itself would skip both. So every registered admin
derives from ``ReadOnlyModelAdmin`` (inlines from ``ReadOnlyInline``); the registry test in
``kefu/lib/tests/test_admin.py`` fails on any admin that could add, change or delete.
"""

from django.contrib import admin
from django.contrib.auth.models import Group as AuthGroup


class ReadOnlyModelAdmin(admin.ModelAdmin):
    """Lists and detail pages to read; the console pages and the API change things."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


# Kefu's roles decide every permission; Django's own permission groups mean nothing here, and an
# editable page for them would only suggest otherwise.
if admin.site.is_registered(AuthGroup):
    admin.site.unregister(AuthGroup)
