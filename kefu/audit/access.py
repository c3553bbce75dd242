"""Who reads the audit log and erases personal data: administrators only."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404

from kefu.accounts.models import User


def require_admin_page(user: User) -> None:
    """Customers and anonymous users get a 404 like for any console page; staff a 403."""
    if not user.is_authenticated or not user.is_active or not user.is_staff_member:
        raise Http404("No such page")
    if not user.is_admin:
        raise PermissionDenied("Only administrators see the audit log.")


def can_read_audit(user: User) -> bool:
    return user.is_authenticated and user.is_active and user.is_admin
