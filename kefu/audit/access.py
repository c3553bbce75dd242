"""Who reads the audit log and erases personal data: administrators only.

The audit app sits below accounts (every app, accounts too, records into it), so it asks the user
object what it is rather than importing the user model."""

from __future__ import annotations

from django.utils.translation import gettext as _

from kefu.lib import guards


def require_admin_page(user) -> None:
    """Customers get a 404 like for any console page; staff a 403."""
    guards.require_admin_page(user, _("Only administrators see the audit log."))
