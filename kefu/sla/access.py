"""Fetching SLA configuration: staff read it, administrators change it; customers never see it."""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext as _

from kefu.accounts.access import is_active_admin, require_admin_page, require_staff_page
from kefu.accounts.models import User
from kefu.sla.models import BusinessCalendar, CalendarDate, EscalationLevel, SLAPolicy


def _require(user: User, *, write: bool) -> None:
    if write:
        require_admin_page(user, _("Only administrators change calendars and SLA policies."))
    else:
        require_staff_page(user)


def can_configure_sla(user: User) -> bool:
    return is_active_admin(user)


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
