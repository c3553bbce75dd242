"""Fetching SLA configuration: staff read it, administrators change it; customers never see it."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404

from kefu.accounts.models import User
from kefu.sla.models import BusinessCalendar, CalendarDate, EscalationLevel, SLAPolicy


def _require(user: User, *, write: bool) -> None:
    if not user.is_authenticated or not user.is_active or not user.is_staff_member:
        raise Http404("No such page")
    if write and not user.is_admin:
        raise PermissionDenied("Only administrators change calendars and SLA policies.")


def can_configure_sla(user: User) -> bool:
    return user.is_authenticated and user.is_active and user.is_admin


def get_calendar_for_user(user: User, pk: int, *, write: bool = False) -> BusinessCalendar:
    _require(user, write=write)
    try:
        return BusinessCalendar.objects.get(pk=pk)
    except (BusinessCalendar.DoesNotExist, ValueError, TypeError):
        raise Http404("No such calendar") from None


def get_calendar_date_for_user(user: User, calendar: BusinessCalendar, pk: int) -> CalendarDate:
    _require(user, write=True)
    try:
        return calendar.dates.get(pk=pk)
    except (CalendarDate.DoesNotExist, ValueError, TypeError):
        raise Http404("No such date") from None


def get_policy_for_user(user: User, pk: int, *, write: bool = False) -> SLAPolicy:
    _require(user, write=write)
    try:
        return SLAPolicy.objects.select_related("calendar").get(pk=pk)
    except (SLAPolicy.DoesNotExist, ValueError, TypeError):
        raise Http404("No such policy") from None


def get_level_for_user(user: User, policy: SLAPolicy, pk: int) -> EscalationLevel:
    _require(user, write=True)
    try:
        return policy.escalation_levels.get(pk=pk)
    except (EscalationLevel.DoesNotExist, ValueError, TypeError):
        raise Http404("No such escalation level") from None


def require_sla_reader(user: User) -> None:
    _require(user, write=False)


def require_sla_admin(user: User) -> None:
    _require(user, write=True)
