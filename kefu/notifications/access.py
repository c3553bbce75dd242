"""Fetching notifications: a person only ever reaches their own (anything else is a 404)."""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext as _

from kefu.accounts.access import require_admin_page
from kefu.accounts.models import Group, User
from kefu.notifications.models import Notification


def get_notification_for_user(user: User, pk: int) -> Notification:
    try:
        return Notification.objects.inbox(user).select_related("ticket").get(pk=pk)
    except (Notification.DoesNotExist, ValueError, TypeError):
        raise Http404("No such notification") from None


def require_group_settings_page(user: User) -> None:
    """Group settings (the waiting threshold) are the administrators' business."""
    require_admin_page(user, _("Only administrators change group settings."))


def get_group_for_admin(user: User, pk: int) -> Group:
    require_group_settings_page(user)
    try:
        return Group.objects.get(pk=pk)
    except (Group.DoesNotExist, ValueError, TypeError):
        raise Http404("No such group") from None
