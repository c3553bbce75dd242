"""Who sees and changes learned triage: staff read its status, administrators change and train it.

Predictions of a ticket are read through ``get_ticket_for_user`` (the ticket's own access rule),
and only by staff: customers never see what the model thought of their ticket.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _

from kefu.accounts.models import User


def _is_staff(user: User) -> bool:
    return user.is_authenticated and user.is_active and user.is_staff_member


def require_triage_reader(user: User) -> None:
    if not _is_staff(user):
        raise PermissionDenied(_("Only staff see the triage model."))


def require_triage_admin(user: User) -> None:
    """The triage page and its changes: administrators; other staff 403, everyone else 404."""
    if not _is_staff(user):
        raise Http404("No such page")
    if not user.is_admin:
        raise PermissionDenied(_("Only administrators manage the triage model."))


def can_manage_triage(user: User) -> bool:
    return _is_staff(user) and user.is_admin
