"""The permission guards every app uses: one answer for the same case everywhere.

- Console pages: anyone who is not active staff (customers) gets 404, as for a page that does not
  exist; staff without the role get 403 with the reason. Anonymous visitors never reach these
  guards: ``login_required`` sends them to the login page first.
- Actions and the API: 403 with the reason (an API client needs to know why); ``None`` as the
  actor is the system or the command line, which may do anything.

Everything checks ``is_active``: a deactivated user's open session or token grants nothing. The
guards read the user's own properties (``is_staff_member``, ``is_admin``), so ``lib`` needs no app
and every app, ``audit`` included, may import them (docs/architecture.md, "Permission guards").
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _


def is_active_staff(user: Any) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.is_staff_member)


def is_active_admin(user: Any) -> bool:
    return is_active_staff(user) and bool(user.is_admin)


def require_staff(actor: Any, message: str | None = None) -> None:
    """Actions and API handlers: staff only (``None``, the system, passes)."""
    if actor is not None and not is_active_staff(actor):
        raise PermissionDenied(message or _("Only staff can do this."))


def require_admin(actor: Any, message: str | None = None) -> None:
    """Actions and API handlers: administrators only (``None``, the system, passes)."""
    if actor is not None and not is_active_admin(actor):
        raise PermissionDenied(message or _("Only administrators can do this."))


def require_staff_page(user: Any) -> None:
    """Console pages for staff: everyone else gets a 404."""
    if not is_active_staff(user):
        raise Http404("No such page")


def require_admin_page(user: Any, message: str | None = None) -> None:
    """Administration pages: non-staff get a 404, other staff a 403."""
    require_staff_page(user)
    if not user.is_admin:
        raise PermissionDenied(message or _("Only administrators manage users and groups."))
