"""Fetching notifications: a person only ever reaches their own (anything else is a 404)."""

from __future__ import annotations

from django.http import Http404

from kefu.accounts.models import Group, User
from kefu.notifications.models import Notification


def get_notification_for_user(user: User, pk: int) -> Notification:
    try:
        return Notification.objects.inbox(user).select_related("ticket").get(pk=pk)
    except (Notification.DoesNotExist, ValueError, TypeError):
        raise Http404("No such notification") from None


def require_admin(user: User) -> None:
    """Group settings (the waiting threshold) are the administrators' business."""
    if not user.is_authenticated or not user.is_admin:
        raise Http404("No such page")


def get_group_for_admin(user: User, pk: int) -> Group:
    require_admin(user)
    try:
        return Group.objects.get(pk=pk)
    except (Group.DoesNotExist, ValueError, TypeError):
        raise Http404("No such group") from None
