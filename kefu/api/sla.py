"""SLA over the API: escalate and acknowledge tickets; business calendars (with their dates and
imports), SLA policies (with targets) and escalation levels — staff read, administrators write."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema

from kefu.accounts.access import require_admin, require_staff
from kefu.accounts.models import Group, User
from kefu.api.auth import current_user
from kefu.api.schemas import ERRORS, Ref, StrictSchema, TicketOut, ref, ticket_data
from kefu.customers.models import Tier
from kefu.sla import actions
from kefu.sla.access import (
    get_calendar_date_for_user,
    get_calendar_for_user,
    get_level_for_user,
    get_policy_for_user,
)
from kefu.sla.checks import years_to_check
from kefu.sla.models import (
    TARGETS,
    BusinessCalendar,
    CalendarDate,
    CalendarDateKind,
    CalendarKind,
    EscalationLevel,
    SLAPolicy,
)
from kefu.tickets.access import get_ticket_for_user
from kefu.tickets.models import Channel, Priority, Ticket

router = Router(tags=["sla"])

NO_CONTENT = {204: None, **ERRORS}


# --- tickets --------------------------------------------------------------------------------


class EscalateIn(StrictSchema):
    group: int | None = Field(None, description="A group id; default: the escalation group.")
    assignee: int | None = Field(None, description="A staff user id.")
    reason: str = Field(max_length=2000)


@router.post(
    "/tickets/{int:ticket_id}/escalate",
    response={200: TicketOut, **ERRORS},
    url_name="escalate_ticket",
    summary="Escalate a ticket to a group or person",
)
def escalate(request: HttpRequest, ticket_id: int, payload: EscalateIn):
    user = current_user(request)
    ticket = get_ticket_for_user(user, ticket_id, write=True)
    group = _by_id(Group.objects.filter(is_active=True), payload.group, "group")
    assignee = _by_id(User.objects.staff(), payload.assignee, "assignee")
    ticket = actions.escalate_ticket(
        user, ticket, reason=payload.reason, group=group, assignee=assignee
    )
    return _fresh_ticket(user, ticket.pk)


@router.post(
    "/tickets/{int:ticket_id}/acknowledge",
    response={200: TicketOut, **ERRORS},
    url_name="acknowledge_ticket",
    summary="Acknowledge an assigned ticket (the assignee only)",
)
def acknowledge(request: HttpRequest, ticket_id: int):
    user = current_user(request)
    ticket = get_ticket_for_user(user, ticket_id, write=True)
    actions.acknowledge_ticket(user, ticket)
    return _fresh_ticket(user, ticket.pk)


def _fresh_ticket(user: User, pk: int) -> Any:
    ticket = Ticket.objects.select_related(
        "group", "assignee", "type", "contact", "organization", "sla__policy", "sla__calendar"
    ).get(pk=pk)
    return ticket_data(ticket, user)


def _by_id(queryset, pk: int | None, field: str):
    if pk is None:
        return None
    found = queryset.filter(pk=pk).first()
    if found is None:
        raise ValidationError({field: _("No such %(field)s: %(id)s") % {"field": field, "id": pk}})
    return found


# --- calendars ------------------------------------------------------------------------------


class CalendarDateOut(Schema):
    id: int
    date: date
    kind: str
    name: str


class CalendarOut(Schema):
    id: int
    name: str
    kind: str
    country_code: str
    time_zone: str
    working_hours: dict[str, list[list[str]]]
    is_active: bool
    missing_years: list[int] = Field(
        description="Years (this one, and the next from October) without official holiday data."
    )
    dates: list[CalendarDateOut]


class CalendarList(Schema):
    items: list[CalendarOut]


class CalendarIn(StrictSchema):
    name: str | None = None
    kind: CalendarKind | None = None
    country_code: str | None = None
    time_zone: str | None = None
    working_hours: dict[str, list[list[str]]] | None = Field(
        None,
        description='{"mon": [["09:00", "12:00"], ["13:30", "18:00"]], …}; "24:00" ends a day.',
    )
    is_active: bool | None = None


class CalendarDateIn(StrictSchema):
    date: date
    kind: CalendarDateKind
    name: str = ""


class CalendarImportIn(StrictSchema):
    content: str = Field(description="CSV (date,kind,name) or iCalendar text.", max_length=524288)


class CalendarImportOut(Schema):
    imported: int


def calendar_data(calendar: BusinessCalendar) -> dict[str, Any]:
    return {
        "id": calendar.pk,
        "name": calendar.name,
        "kind": calendar.kind,
        "country_code": calendar.country_code,
        "time_zone": calendar.time_zone,
        "working_hours": calendar.hours_by_day(),
        "is_active": calendar.is_active,
        "missing_years": calendar.missing_years(years_to_check()),
        "dates": [
            {"id": d.pk, "date": d.date, "kind": d.kind, "name": d.name}
            for d in calendar.dates.all()
        ],
    }


@router.get("/sla/calendars", response={200: CalendarList, **ERRORS}, url_name="list_calendars")
def list_calendars(request: HttpRequest):
    require_staff(current_user(request))
    calendars = BusinessCalendar.objects.prefetch_related("dates")
    return {"items": [calendar_data(c) for c in calendars]}


@router.post("/sla/calendars", response={201: CalendarOut, **ERRORS}, url_name="create_calendar")
def create_calendar(request: HttpRequest, payload: CalendarIn):
    user = current_user(request)
    require_admin(user, _("Only administrators change calendars and SLA policies."))
    fields = payload.model_dump(exclude_unset=True)
    if "name" not in fields:
        raise ValidationError({"name": _("The calendar needs a name.")})
    return 201, calendar_data(actions.save_calendar(user, **fields))


@router.get(
    "/sla/calendars/{int:calendar_id}",
    response={200: CalendarOut, **ERRORS},
    url_name="get_calendar",
)
def read_calendar(request: HttpRequest, calendar_id: int):
    return calendar_data(get_calendar_for_user(current_user(request), calendar_id))


@router.patch(
    "/sla/calendars/{int:calendar_id}",
    response={200: CalendarOut, **ERRORS},
    url_name="update_calendar",
)
def change_calendar(request: HttpRequest, calendar_id: int, payload: CalendarIn):
    user = current_user(request)
    calendar = get_calendar_for_user(user, calendar_id, write=True)
    return calendar_data(
        actions.save_calendar(user, calendar, **payload.model_dump(exclude_unset=True))
    )


@router.post(
    "/sla/calendars/{int:calendar_id}/dates",
    response={201: CalendarDateOut, **ERRORS},
    url_name="add_calendar_date",
)
def add_calendar_date(request: HttpRequest, calendar_id: int, payload: CalendarDateIn):
    user = current_user(request)
    calendar = get_calendar_for_user(user, calendar_id, write=True)
    entry: CalendarDate = actions.set_calendar_date(
        user, calendar, date=payload.date, kind=payload.kind, name=payload.name
    )
    return 201, {"id": entry.pk, "date": entry.date, "kind": entry.kind, "name": entry.name}


@router.delete(
    "/sla/calendars/{int:calendar_id}/dates/{int:date_id}",
    response=NO_CONTENT,
    url_name="remove_calendar_date",
)
def remove_calendar_date(request: HttpRequest, calendar_id: int, date_id: int):
    user = current_user(request)
    calendar = get_calendar_for_user(user, calendar_id, write=True)
    actions.remove_calendar_date(user, get_calendar_date_for_user(user, calendar, date_id))
    return 204, None


@router.post(
    "/sla/calendars/{int:calendar_id}/import",
    response={200: CalendarImportOut, **ERRORS},
    url_name="import_calendar_dates",
    summary="Import holidays and extra working days from CSV or iCalendar text",
)
def import_dates(request: HttpRequest, calendar_id: int, payload: CalendarImportIn):
    user = current_user(request)
    calendar = get_calendar_for_user(user, calendar_id, write=True)
    imported = actions.import_calendar_dates(user, calendar, payload.content.encode())
    return {"imported": len(imported)}


# --- policies -------------------------------------------------------------------------------


class TargetData(Schema):
    first_response: int | None = Field(None, ge=1, description="Business minutes.")
    next_response: int | None = Field(None, ge=1)
    resolution: int | None = Field(None, ge=1)
    acknowledgement: int | None = Field(None, ge=1)
    calendar: int | None = Field(None, description="A calendar id; null: the policy's.")


class EscalationLevelOut(Schema):
    id: int
    level: int
    minutes: int
    notify_assignee: bool
    notify_supervisors: bool
    notify_users: list[Ref]
    reassign_to_escalation_group: bool
    raise_priority: bool
    add_internal_note: bool


class PolicyOut(Schema):
    id: int
    name: str
    position: int
    is_active: bool
    calendar: Ref
    priorities: list[str]
    channels: list[str]
    tiers: list[str] = Field(description="Organisation tiers; empty: any customer.")
    organizations: list[Ref]
    ticket_types: list[Ref]
    groups: list[Ref]
    warning_percent: int
    acknowledgement_lapses_to_escalate: int
    targets: dict[str, TargetData]
    escalation_levels: list[EscalationLevelOut]


class PolicyList(Schema):
    items: list[PolicyOut]


class PolicyIn(StrictSchema):
    name: str | None = None
    position: int | None = Field(None, ge=0)
    is_active: bool | None = None
    calendar: int | None = None
    priorities: list[Priority] | None = None
    channels: list[Channel] | None = None
    tiers: list[Tier] | None = None
    organizations: list[int] | None = None
    ticket_types: list[int] | None = None
    groups: list[int] | None = None
    warning_percent: int | None = Field(None, ge=1, le=99)
    acknowledgement_lapses_to_escalate: int | None = Field(None, ge=0)
    targets: dict[Priority, TargetData] | None = None


class EscalationLevelIn(StrictSchema):
    level: int | None = Field(None, ge=1)
    minutes: int | None = Field(None, description="Relative to the breach; negative: before.")
    notify_assignee: bool | None = None
    notify_supervisors: bool | None = None
    notify_users: list[int] | None = None
    reassign_to_escalation_group: bool | None = None
    raise_priority: bool | None = None
    add_internal_note: bool | None = None


def level_data(level: EscalationLevel) -> dict[str, Any]:
    return {
        "id": level.pk,
        "level": level.level,
        "minutes": level.minutes,
        "notify_assignee": level.notify_assignee,
        "notify_supervisors": level.notify_supervisors,
        "notify_users": [ref(u) for u in level.notify_users.all()],
        "reassign_to_escalation_group": level.reassign_to_escalation_group,
        "raise_priority": level.raise_priority,
        "add_internal_note": level.add_internal_note,
    }


def policy_data(policy: SLAPolicy) -> dict[str, Any]:
    return {
        "id": policy.pk,
        "name": policy.name,
        "position": policy.position,
        "is_active": policy.is_active,
        "calendar": ref(policy.calendar),
        "priorities": list(policy.priorities or []),
        "channels": list(policy.channels or []),
        "tiers": list(policy.tiers or []),
        "organizations": [ref(o) for o in policy.organizations.all()],
        "ticket_types": [ref(t) for t in policy.ticket_types.all()],
        "groups": [ref(g) for g in policy.groups.all()],
        "warning_percent": policy.warning_percent,
        "acknowledgement_lapses_to_escalate": policy.acknowledgement_lapses_to_escalate,
        "targets": {
            target.priority: {
                **{name: target.minutes(name) for name in TARGETS},
                "calendar": target.calendar_id,
            }
            for target in policy.targets.all()
        },
        "escalation_levels": [level_data(level) for level in policy.escalation_levels.all()],
    }


def _policies():
    return SLAPolicy.objects.select_related("calendar").prefetch_related(
        "organizations",
        "ticket_types",
        "groups",
        "targets",
        "escalation_levels__notify_users",
    )


def _policy_fields(payload: PolicyIn) -> tuple[dict[str, Any], dict[str, dict[str, Any]] | None]:
    fields = payload.model_dump(exclude_unset=True)
    targets = fields.pop("targets", None)
    if "calendar" in fields:
        fields["calendar"] = _by_id(BusinessCalendar.objects.all(), fields["calendar"], "calendar")
        if fields["calendar"] is None:
            raise ValidationError({"calendar": _("Every policy names a calendar.")})
    for name in ("priorities", "channels", "tiers"):
        if name in fields:
            fields[name] = [str(value) for value in fields[name] or []]
    if targets is not None:
        for values in targets.values():
            values["calendar"] = _by_id(
                BusinessCalendar.objects.all(), values.get("calendar"), "calendar"
            )
        targets = {str(priority): values for priority, values in targets.items()}
    return fields, targets


@router.get("/sla/policies", response={200: PolicyList, **ERRORS}, url_name="list_policies")
def list_policies(request: HttpRequest):
    require_staff(current_user(request))
    return {"items": [policy_data(p) for p in _policies()]}


@router.post("/sla/policies", response={201: PolicyOut, **ERRORS}, url_name="create_policy")
def create_policy(request: HttpRequest, payload: PolicyIn):
    user = current_user(request)
    require_admin(user, _("Only administrators change calendars and SLA policies."))
    fields, targets = _policy_fields(payload)
    for name in ("name", "calendar"):
        if name not in fields:
            raise ValidationError({name: _("This field is required.")})
    policy = actions.save_policy(user, targets=targets, **fields)
    return 201, policy_data(_policies().get(pk=policy.pk))


@router.get(
    "/sla/policies/{int:policy_id}", response={200: PolicyOut, **ERRORS}, url_name="get_policy"
)
def read_policy(request: HttpRequest, policy_id: int):
    policy = get_policy_for_user(current_user(request), policy_id)
    return policy_data(_policies().get(pk=policy.pk))


@router.patch(
    "/sla/policies/{int:policy_id}",
    response={200: PolicyOut, **ERRORS},
    url_name="update_policy",
)
def change_policy(request: HttpRequest, policy_id: int, payload: PolicyIn):
    user = current_user(request)
    policy = get_policy_for_user(user, policy_id, write=True)
    fields, targets = _policy_fields(payload)
    actions.save_policy(user, policy, targets=targets, **fields)
    return policy_data(_policies().get(pk=policy.pk))


@router.post(
    "/sla/policies/{int:policy_id}/levels",
    response={201: EscalationLevelOut, **ERRORS},
    url_name="add_escalation_level",
)
def add_level(request: HttpRequest, policy_id: int, payload: EscalationLevelIn):
    user = current_user(request)
    policy = get_policy_for_user(user, policy_id, write=True)
    fields = payload.model_dump(exclude_unset=True)
    for name in ("level", "minutes"):
        if fields.get(name) is None:
            raise ValidationError({name: _("This field is required.")})
    level = actions.save_escalation_level(
        user, policy, notify_users=_users(fields.pop("notify_users", None)), **fields
    )
    return 201, level_data(level)


@router.patch(
    "/sla/policies/{int:policy_id}/levels/{int:level_id}",
    response={200: EscalationLevelOut, **ERRORS},
    url_name="update_escalation_level",
)
def change_level(request: HttpRequest, policy_id: int, level_id: int, payload: EscalationLevelIn):
    user = current_user(request)
    policy = get_policy_for_user(user, policy_id, write=True)
    level = get_level_for_user(user, policy, level_id)
    fields = payload.model_dump(exclude_unset=True)
    level = actions.save_escalation_level(
        user, policy, level, notify_users=_users(fields.pop("notify_users", None)), **fields
    )
    return level_data(level)


@router.delete(
    "/sla/policies/{int:policy_id}/levels/{int:level_id}",
    response=NO_CONTENT,
    url_name="remove_escalation_level",
)
def remove_level(request: HttpRequest, policy_id: int, level_id: int):
    user = current_user(request)
    policy = get_policy_for_user(user, policy_id, write=True)
    actions.remove_escalation_level(user, get_level_for_user(user, policy, level_id))
    return 204, None


def _users(ids: list[int] | None) -> list[User] | None:
    if ids is None:
        return None
    users = list(User.objects.staff().filter(pk__in=ids))
    if len(users) != len(set(ids)):
        raise ValidationError({"notify_users": _("Only active staff can be notified.")})
    return users
