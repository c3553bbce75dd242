"""Who reads the audit log and erases personal data: administrators only."""

from __future__ import annotations

from django.utils.translation import gettext as _

from kefu.accounts import access
from kefu.accounts.models import User


def require_admin_page(user: User) -> None:
    """Customers get a 404 like for any console page; staff a 403."""
    access.require_admin_page(user, _("Only administrators see the audit log."))


def can_read_audit(user: User) -> bool:
    return access.is_active_admin(user)
