"""Writes to calendars, their dates, policies, targets and escalation levels (admins only)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.access import require_admin
from kefu.accounts.models import Group, User
from kefu.audit.actions import changes_for, record
from kefu.customers.models import Organization
from kefu.lib import config_cache
from kefu.lib.errors import BusinessRuleError
from kefu.sla.calendar_import import CalendarImportError, ImportedDate, parse_import
from kefu.sla.models import (
    TARGETS,
    BusinessCalendar,
    CalendarDate,
    EscalationLevel,
    SLAPolicy,
    SLATarget,
)
from kefu.tickets.models import Priority, TicketType

CALENDAR_FIELDS = ("name", "kind", "country_code", "time_zone", "working_hours", "is_active")
POLICY_FIELDS = (
    "name",
    "position",
    "is_active",
    "calendar",
    "priorities",
    "channels",
    "tiers",
    "warning_percent",
    "acknowledgement_lapses_to_escalate",
)
POLICY_RELATIONS = {"organizations": Organization, "ticket_types": TicketType, "groups": Group}
LEVEL_FIELDS = (
    "level",
    "minutes",
    "notify_assignee",
    "notify_supervisors",
    "reassign_to_escalation_group",
    "raise_priority",
    "add_internal_note",
)


def _require_admin(actor: User | None) -> None:
    require_admin(actor, _("Only administrators change calendars and SLA policies."))


def _full_clean(instance: Any, *, exclude: Iterable[str] = ()) -> None:
    instance.full_clean(exclude=list(exclude))


def _touch(calendar: BusinessCalendar) -> None:
    """Bump ``updated_at`` so cached working calendars are rebuilt."""
    BusinessCalendar.objects.filter(pk=calendar.pk).update(updated_at=timezone.now())
    config_cache.config_changed()


# --- calendars ------------------------------------------------------------------------------


@transaction.atomic
def save_calendar(
    actor: User | None, calendar: BusinessCalendar | None = None, **fields: Any
) -> BusinessCalendar:
    """Create (``calendar=None``) or change a calendar; unknown fields are refused."""
    _require_admin(actor)
    unknown = set(fields) - set(CALENDAR_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be changed.") for name in unknown})
    calendar = calendar or BusinessCalendar()
    changes = changes_for(calendar, fields)
    for name, value in fields.items():
        setattr(calendar, name, value)
    if isinstance(calendar.country_code, str):
        calendar.country_code = calendar.country_code.strip().upper()
    _full_clean(calendar)
    calendar.save()
    record(actor, "sla_calendar.saved", calendar, changes)
    return calendar


@transaction.atomic
def set_calendar_date(
    actor: User | None, calendar: BusinessCalendar, *, date, kind: str, name: str = ""
) -> CalendarDate:
    """Enter one holiday or extra working day (replacing what that date had)."""
    _require_admin(actor)
    entry = CalendarDate.objects.filter(calendar=calendar, date=date).first() or CalendarDate(
        calendar=calendar, date=date
    )
    entry.kind, entry.name = kind, (name or "").strip()[:120]
    _full_clean(entry, exclude=["calendar"])
    entry.save()
    _touch(calendar)
    record(
        actor, "sla_calendar.date_set", calendar, {"date": date, "kind": kind, "name": entry.name}
    )
    return entry


@transaction.atomic
def remove_calendar_date(actor: User | None, entry: CalendarDate) -> None:
    _require_admin(actor)
    calendar = entry.calendar
    record(actor, "sla_calendar.date_removed", calendar, {"date": entry.date, "kind": entry.kind})
    entry.delete()
    _touch(calendar)


@transaction.atomic
def import_calendar_dates(
    actor: User | None, calendar: BusinessCalendar, content: bytes, filename: str = ""
) -> list[CalendarDate]:
    """Import a CSV or iCalendar file of dates; all or nothing."""
    _require_admin(actor)
    try:
        found: list[ImportedDate] = parse_import(content, filename)
    except CalendarImportError as error:
        raise ValidationError({"file": str(error)}) from None
    return [
        set_calendar_date(actor, calendar, date=item.date, kind=item.kind, name=item.name)
        for item in found
    ]


# --- policies -------------------------------------------------------------------------------


@transaction.atomic
def save_policy(
    actor: User | None,
    policy: SLAPolicy | None = None,
    *,
    targets: Mapping[str, Mapping[str, Any]] | None = None,
    **fields: Any,
) -> SLAPolicy:
    """Create or change a policy: its fields, condition lists (``organizations``,
    ``ticket_types``, ``groups`` as id lists) and ``targets`` ({priority: {first_response: 120,
    …, calendar: BusinessCalendar|None}}); a priority left out of ``targets`` is unchanged."""
    _require_admin(actor)
    unknown = set(fields) - set(POLICY_FIELDS) - set(POLICY_RELATIONS)
    if unknown:
        raise ValidationError({name: _("This field cannot be changed.") for name in unknown})
    policy = policy or SLAPolicy()
    changes = changes_for(policy, fields)
    for name in POLICY_FIELDS:
        if name in fields:
            setattr(policy, name, fields[name])
    _full_clean(policy)
    policy.save()
    for name, model in POLICY_RELATIONS.items():
        if name in fields:
            ids = [int(pk) for pk in fields[name] or []]
            found = list(model.objects.filter(pk__in=ids))  # type: ignore[attr-defined]
            if len(found) != len(set(ids)):
                raise ValidationError({name: _("Some of the chosen entries do not exist.")})
            getattr(policy, name).set(found)
    for priority, values in (targets or {}).items():
        set_target(actor, policy, priority, **values)
    record(actor, "sla_policy.saved", policy, changes)
    return policy


@transaction.atomic
def set_target(actor: User | None, policy: SLAPolicy, priority: str, **values: Any) -> SLATarget:
    _require_admin(actor)
    if priority not in Priority.values:
        raise ValidationError({"targets": _("Unknown priority %(value)s.") % {"value": priority}})
    target = SLATarget.objects.filter(policy=policy, priority=priority).first() or SLATarget(
        policy=policy, priority=priority
    )
    for name in TARGETS:
        if name in values:
            minutes = values[name]
            if minutes is not None and (not isinstance(minutes, int) or minutes <= 0):
                raise ValidationError(
                    {name: _("Enter a whole number of minutes above zero, or leave it empty.")}
                )
            setattr(target, f"{name}_minutes", minutes)
    if "calendar" in values:
        target.calendar = values["calendar"]
    changes = changes_for(
        SLATarget.objects.filter(pk=target.pk).first(),
        {f"{name}_minutes": getattr(target, f"{name}_minutes") for name in TARGETS}
        | {"calendar": target.calendar},
    )
    target.save()
    if changes:
        record(actor, "sla_target.set", policy, {"priority": priority, **changes})
    return target


@transaction.atomic
def save_escalation_level(
    actor: User | None,
    policy: SLAPolicy,
    existing: EscalationLevel | None = None,
    *,
    notify_users: Iterable[User] | None = None,
    **fields: Any,
) -> EscalationLevel:
    """Create (``existing=None``) or change one of ``policy``'s escalation levels."""
    _require_admin(actor)
    unknown = set(fields) - set(LEVEL_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be changed.") for name in unknown})
    level = existing or EscalationLevel(policy=policy)
    changes = changes_for(level, fields)
    for name, value in fields.items():
        setattr(level, name, value)
    if not level.level or level.level < 1:
        raise ValidationError({"level": _("Levels are numbered from 1.")})
    clash = EscalationLevel.objects.filter(policy=policy, level=level.level).exclude(pk=level.pk)
    if clash.exists():
        raise ValidationError({"level": _("This policy already has that level.")})
    _full_clean(level, exclude=["policy"])
    level.save()
    if notify_users is not None:
        users = list(notify_users)
        if any(not user.is_staff_member or not user.is_active for user in users):
            raise ValidationError({"notify_users": _("Only active staff can be notified.")})
        level.notify_users.set(users)
        changes["notify_users"] = [None, users]
    record(actor, "sla_escalation.saved", policy, {"level": level.level, **changes})
    return level


@transaction.atomic
def remove_escalation_level(actor: User | None, level: EscalationLevel) -> None:
    _require_admin(actor)
    record(actor, "sla_escalation.removed", level.policy, {"level": level.level})
    level.delete()


@transaction.atomic
def deactivate_policy(actor: User | None, policy: SLAPolicy) -> SLAPolicy:
    """Policies in use are never deleted (tickets keep naming them); they stop matching."""
    _require_admin(actor)
    if not SLAPolicy.objects.filter(is_active=True).exclude(pk=policy.pk).exists():
        raise BusinessRuleError(_("Keep at least one active SLA policy."))
    policy.is_active = False
    policy.save(update_fields=["is_active", "updated_at"])
    record(actor, "sla_policy.deactivated", policy, {"is_active": [True, False]})
    return policy
