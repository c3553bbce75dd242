"""Who sees and changes learned triage: staff read its status, administrators change and train it.

Predictions of a ticket are read through ``get_ticket_for_user`` (the ticket's own access rule),
and only by staff: customers never see what the model thought of their ticket.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from kefu.accounts.access import is_active_admin, require_admin_page, require_staff
from kefu.accounts.models import User


def require_triage_reader(user: User) -> None:
    """The API's status and predictions: staff only (403)."""
    require_staff(user, _("Only staff see the triage model."))


def require_triage_admin(user: User) -> None:
    """The triage page and its changes: administrators; other staff 403, everyone else 404."""
    require_admin_page(user, _("Only administrators manage the triage model."))


def can_manage_triage(user: User) -> bool:
    return is_active_admin(user)
