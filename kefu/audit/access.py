"""Who reads the audit log and erases personal data: administrators only.

The audit app sits below accounts (every app, accounts too, records into it), so it asks the user
object what it is rather than importing the user model."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404


def require_admin_page(user) -> None:
    """Customers and anonymous users get a 404 like for any console page; staff a 403."""
    if not user.is_authenticated or not user.is_active or not user.is_staff_member:
        raise Http404("No such page")
    if not user.is_admin:
        raise PermissionDenied("Only administrators see the audit log.")


def can_read_audit(user) -> bool:
    return user.is_authenticated and user.is_active and user.is_admin
