"""Every change to a ticket's SLA state: the clock (started, paused, resumed, recomputed, met),
the tick's warnings, breaches, escalation levels and acknowledgement lapses, and the manual
"acknowledge" and "escalate" actions.

Ticket domain events reach the clock through ``kefu.sla.handlers``; the tick calls
``process_due_slas``. Every function here runs inside the caller's transaction (or opens one) and
locks the ``TicketSLA`` row it changes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.access import can_be_assigned
from kefu.accounts.models import Group, User
from kefu.lib import config_cache
from kefu.lib.errors import BusinessRuleError
from kefu.sla import events as sla_events
from kefu.sla.actions.announce import (
    announce,
    in_site_language,
    level_recipients,
    people_to_warn,
    refresh_ticket_pages,
    supervisor_ids,
    timeline_row,
    when,
)
from kefu.sla.deadlines import (
    WorkingCalendar,
    add_business_minutes,
    business_minutes_between,
)
from kefu.sla.models import (
    RESPONSE_TARGETS,
    TARGETS,
    BusinessCalendar,
    EscalationLevel,
    SLAPolicy,
    SLATarget,
    TicketSLA,
)
from kefu.tickets import events
from kefu.tickets.access import can_work_ticket
from kefu.tickets.actions import add_message, update_ticket
from kefu.tickets.models import (
    OPEN_STATES,
    PRIORITY_RANK,
    EventType,
    Priority,
    State,
    Ticket,
)

logger = logging.getLogger(__name__)

PAUSE_STATES = (State.PENDING_CUSTOMER, State.ON_HOLD)
STOPPED_STATES = (*PAUSE_STATES, State.RESOLVED, State.CLOSED)
TICK_BATCH = 200
RETRY_AFTER_FAILURE = timedelta(minutes=5)


def target_label(target: str) -> str:
    labels = {
        "first_response": _("first response"),
        "next_response": _("next response"),
        "resolution": _("resolution"),
        "acknowledgement": _("acknowledgement"),
    }
    return labels[target]


# --- calendars and policies as the clock sees them ---------------------------------------------

_calendar_cache: dict[tuple[int, datetime], WorkingCalendar] = {}


def working_calendar(calendar: BusinessCalendar) -> WorkingCalendar:
    """The calendar's pure description, cached until the row changes (date edits touch it)."""
    key = (calendar.pk, calendar.updated_at)
    found = _calendar_cache.get(key)
    if found is None:
        if len(_calendar_cache) > 64:
            _calendar_cache.clear()
        found = _calendar_cache[key] = calendar.working_calendar()
    return found


def _load_policies() -> dict[int, SLAPolicy]:
    policies = (
        SLAPolicy.objects.select_related("calendar")
        .prefetch_related(
            "organizations", "ticket_types", "groups", "targets__calendar", "escalation_levels"
        )
        .order_by("position", "pk")
    )
    return {policy.pk: policy for policy in policies}


def _policies() -> dict[int, SLAPolicy]:
    """Every policy with its conditions, targets and levels (a per-process snapshot)."""
    return config_cache.snapshot("sla.policies", _load_policies)


def active_policies() -> list[SLAPolicy]:
    return [policy for policy in _policies().values() if policy.is_active]


def policy_for(ticket: Ticket) -> SLAPolicy | None:
    return next((p for p in active_policies() if p.matches(ticket)), None)


@dataclass
class Clock:
    """A locked ``TicketSLA`` with the policy target and calendar that govern it."""

    sla: TicketSLA
    target: SLATarget | None
    calendar: WorkingCalendar | None

    def minutes(self, name: str) -> int | None:
        return self.target.minutes(name) if self.target else None

    def _working_calendar(self) -> WorkingCalendar:
        if self.calendar is None:
            raise RuntimeError("this SLA clock has no calendar")
        return self.calendar

    def add(self, start: datetime, minutes: float) -> datetime:
        return add_business_minutes(start, minutes, self._working_calendar())

    def between(self, a: datetime, b: datetime) -> float:
        return business_minutes_between(a, b, self._working_calendar())


def _target_and_calendar(
    policy: SLAPolicy | None, priority: str
) -> tuple[SLATarget | None, BusinessCalendar | None]:
    if policy is None:
        return None, None
    target = policy.target_for(priority)
    calendar = (target.calendar if target and target.calendar_id else None) or policy.calendar
    return target, calendar


def _clock_for(sla: TicketSLA, ticket: Ticket, priority: str | None = None) -> Clock:
    """``priority``: the one the stored due times were computed for, when it just changed."""
    policy = sla.policy
    if policy is not None:
        policy = _policies().get(policy.pk, policy)
        sla.policy = policy
    target, _calendar = _target_and_calendar(policy, priority or ticket.priority)
    calendar = sla.calendar
    return Clock(sla=sla, target=target, calendar=working_calendar(calendar) if calendar else None)


def _lock(ticket: Ticket) -> TicketSLA | None:
    return (
        TicketSLA.objects.select_for_update(of=("self",))
        .select_related("calendar", "policy")
        .filter(ticket_id=ticket.pk)
        .first()
    )


# --- the clock ------------------------------------------------------------------------------


def _is_open(sla: TicketSLA, name: str) -> bool:
    """Running or stopped, but not yet met."""
    return sla.achieved_at(name) is None and (
        sla.due_at(name) is not None or name in sla.remaining_minutes
    )


def _start_target(clock: Clock, name: str, now: datetime, minutes: float | None = None) -> None:
    sla = clock.sla
    minutes = clock.minutes(name) if minutes is None else minutes
    setattr(sla, f"{name}_at", None)
    sla.remaining_minutes.pop(name, None)
    if name in sla.warned:
        sla.warned.remove(name)
    if minutes is None or clock.calendar is None:
        setattr(sla, f"{name}_due_at", None)
        return
    if sla.is_paused:
        setattr(sla, f"{name}_due_at", None)
        sla.remaining_minutes[name] = minutes
    else:
        setattr(sla, f"{name}_due_at", clock.add(now, minutes))


def _meet_target(sla: TicketSLA, name: str, now: datetime) -> None:
    if not _is_open(sla, name):
        return
    due = sla.due_at(name)
    late = (due is not None and now > due) or sla.remaining_minutes.get(name, 1) < 0
    setattr(sla, f"{name}_at", now)
    if late:
        setattr(sla, f"{name}_breached", True)


def _remaining(clock: Clock, name: str, now: datetime) -> float:
    sla = clock.sla
    if name in sla.remaining_minutes:
        return float(sla.remaining_minutes[name])
    due = sla.due_at(name)
    if due is None:
        raise RuntimeError(f"{name} is not running")
    return clock.between(now, due)


def _stop(clock: Clock, now: datetime) -> None:
    sla = clock.sla
    if sla.is_paused:
        return
    for name in TARGETS:
        if _is_open(sla, name) and sla.due_at(name) is not None:
            sla.remaining_minutes[name] = round(_remaining(clock, name, now), 3)
            setattr(sla, f"{name}_due_at", None)
    sla.paused_since = now


def _resume(clock: Clock, now: datetime, *, count_pause: bool) -> None:
    sla = clock.sla
    if not sla.is_paused:
        return
    if count_pause and clock.calendar is not None and sla.paused_since is not None:
        sla.paused_minutes += max(0, round(clock.between(sla.paused_since, now)))
    sla.paused_since = None
    for name, minutes in list(sla.remaining_minutes.items()):
        if sla.achieved_at(name) is None:
            setattr(sla, f"{name}_due_at", clock.add(now, minutes))
    sla.remaining_minutes = {}


def _schedule(clock: Clock) -> None:
    """Store ``next_due_at`` (nearest running deadline) and ``check_due_at`` (the tick's next
    look: a warning, a breach, an escalation level or an acknowledgement lapse)."""
    sla = clock.sla
    running = {
        name: due
        for name in TARGETS
        if sla.achieved_at(name) is None and (due := sla.due_at(name)) is not None
    }
    sla.next_due_at = min(running.values(), default=None)
    checks: list[datetime] = []
    policy = sla.policy
    for name, due in running.items():
        if name == "acknowledgement":
            checks.append(due)
            continue
        if sla.is_breached(name):
            continue
        checks.append(due)
        minutes = clock.minutes(name)
        if name not in sla.warned and policy is not None and minutes:
            checks.append(_warn_at(clock, due, minutes, policy.warning_percent))
    level = _next_level(sla)
    reference = _escalation_reference(sla)
    if level is not None and reference is not None:
        checks.append(clock.add(reference, level.minutes) if level.minutes else reference)
    sla.check_due_at = min(checks, default=None)


def _warn_at(clock: Clock, due: datetime, minutes: int, percent: int) -> datetime:
    return clock.add(due, -minutes * (100 - percent) / 100)


def _next_level(sla: TicketSLA) -> EscalationLevel | None:
    if sla.policy is None:
        return None
    levels = sorted(sla.policy.escalation_levels.all(), key=lambda level: level.level)
    return next((level for level in levels if level.level > sla.escalation_level), None)


def _escalation_reference(sla: TicketSLA) -> datetime | None:
    """The deadline escalation levels count from: the earliest unmet response/resolution one."""
    dues = [
        due
        for name in RESPONSE_TARGETS
        if sla.achieved_at(name) is None and (due := sla.due_at(name)) is not None
    ]
    return min(dues, default=None)


def _save(clock: Clock) -> None:
    _schedule(clock)
    clock.sla.save()


def start_clock(ticket: Ticket, now: datetime | None = None) -> TicketSLA:
    """Choose the ticket's policy and start its targets (on creation)."""
    now = now or timezone.now()
    policy = policy_for(ticket)
    target, calendar = _target_and_calendar(policy, ticket.priority)
    sla = TicketSLA(ticket=ticket, policy=policy, calendar=calendar)  # inserted by _save
    clock = _clock_for(sla, ticket)
    for name in ("first_response", "resolution"):
        _start_target(clock, name, now)
    if ticket.assignee_id:
        _start_target(clock, "acknowledgement", now)
    if ticket.state in STOPPED_STATES:
        _stop(clock, now)
    _save(clock)
    return sla


def _clock(ticket: Ticket, priority: str | None = None) -> Clock:
    sla = _lock(ticket)
    if sla is None:  # a ticket from before the SLA engine existed
        sla = start_clock(ticket)
    return _clock_for(sla, ticket, priority)


def record_message(ticket: Ticket, actor: User | None, message) -> None:
    """A public agent reply meets first/next response; a customer message starts next response.

    Internal notes and automatic (actor-less) messages change nothing.
    """
    if message.is_internal:
        return
    from_customer = message.author_contact_id is not None
    is_agent_reply = not from_customer and actor is not None and actor.is_staff_member
    if not (from_customer or is_agent_reply):
        return
    now = timezone.now()
    clock = _clock(ticket)
    sla = clock.sla
    if is_agent_reply:
        _meet_target(sla, "first_response", now)
        _meet_target(sla, "next_response", now)
        if actor is not None and ticket.assignee_id == actor.pk:
            _meet_target(sla, "acknowledgement", now)
    elif sla.first_response_at is not None and not _is_open(sla, "next_response"):
        _start_target(clock, "next_response", now)
    _save(clock)


def record_state_change(ticket: Ticket, old_state: str, new_state: str) -> None:
    now = timezone.now()
    clock = _clock(ticket)
    sla = clock.sla
    if new_state in (State.RESOLVED, State.CLOSED):
        if _is_open(sla, "resolution") and sla.resolution_due_at is not None:
            # Kept so that reopening resumes the clock where it stopped.
            remaining = round(_remaining(clock, "resolution", now), 3)
            _meet_target(sla, "resolution", now)
            _stop(clock, now)
            sla.remaining_minutes["resolution"] = remaining
        else:
            _meet_target(sla, "resolution", now)
            _stop(clock, now)
    elif new_state in PAUSE_STATES:
        _stop(clock, now)
    elif old_state in STOPPED_STATES:
        if old_state in (State.RESOLVED, State.CLOSED) and "resolution" in sla.remaining_minutes:
            sla.resolution_at = None
        _resume(clock, now, count_pause=old_state in PAUSE_STATES)
    _save(clock)


def record_change(ticket: Ticket, changes: dict) -> None:
    """Priority, type, group or channel changes re-pick the policy and recompute the due times
    keeping the elapsed business time; a new assignee must acknowledge."""
    now = timezone.now()
    old_priority = changes["priority"][0] if "priority" in changes else None
    clock = _clock(ticket, old_priority)
    sla = clock.sla
    if {"priority", "type", "group"} & set(changes):
        clock = _recompute(clock, ticket, now)
    if "assignee" in changes:
        if ticket.assignee_id:
            _start_target(clock, "acknowledgement", now)
        else:
            sla.acknowledgement_due_at = None
            sla.remaining_minutes.pop("acknowledgement", None)
    _save(clock)


def _recompute(old: Clock, ticket: Ticket, now: datetime) -> Clock:
    sla = old.sla
    policy = policy_for(ticket)
    target, calendar = _target_and_calendar(policy, ticket.priority)
    elapsed: dict[str, float] = {}
    for name in TARGETS:
        old_minutes = old.minutes(name)
        if _is_open(sla, name) and old_minutes is not None and old.calendar is not None:
            elapsed[name] = old_minutes - _remaining(old, name, now)
    sla.policy, sla.calendar = policy, calendar
    new = _clock_for(sla, ticket)
    for name, spent in elapsed.items():
        minutes = new.minutes(name)
        if minutes is None:
            _start_target(new, name, now, minutes=None)
            continue
        was_warned = name in sla.warned
        _start_target(new, name, now, minutes=minutes - spent)
        if was_warned and policy and spent >= minutes * policy.warning_percent / 100:
            sla.warned.append(name)
    return new


# --- the tick -------------------------------------------------------------------------------


def due_rows(now: datetime, limit: int = TICK_BATCH):
    """``(pk, check_due_at)`` of the rows due by ``now``, earliest first: the tick's claim query
    (its plan is pinned by ``tests/test_tick_plan.py`` and measured by ``bench/sla_tick.py``)."""
    return (
        TicketSLA.objects.filter(check_due_at__lte=now)
        .order_by("check_due_at")
        .values_list("pk", "check_due_at")[:limit]
    )


def process_due_slas(now: datetime | None = None, limit: int = TICK_BATCH) -> int:
    """SLA warnings, breaches, escalation levels and acknowledgement lapses whose time has come.

    Returns how many ``TicketSLA`` rows (those whose ``check_due_at`` has come) it handled.

    Each row is claimed with a conditional UPDATE (``check_due_at`` still equal to what we read),
    so concurrent tick processes never handle a row twice. The query reads only the partial index
    on ``check_due_at``: its cost follows the number of due rows, not of open tickets.
    """
    now = now or timezone.now()
    due = list(due_rows(now, limit))
    handled = 0
    for pk, check_due_at in due:
        try:
            with transaction.atomic():
                claimed = TicketSLA.objects.filter(pk=pk, check_due_at=check_due_at).update(
                    check_due_at=None
                )
                if claimed:
                    _act_on_due(pk, now)
                    handled += 1
        except Exception:
            logger.exception("SLA tick failed for TicketSLA %s; retrying later", pk)
            TicketSLA.objects.filter(pk=pk, check_due_at=check_due_at).update(
                check_due_at=now + RETRY_AFTER_FAILURE
            )
    return handled


def _act_on_due(pk: int, now: datetime) -> None:
    ticket = Ticket.objects.select_related("group", "assignee").get(sla__pk=pk)
    clock = _clock(ticket)
    sla = clock.sla
    if ticket.state not in OPEN_STATES or sla.policy is None:
        _save(clock)
        return
    policy = sla.policy
    for name in RESPONSE_TARGETS:
        due = sla.due_at(name)
        minutes = clock.minutes(name)
        if due is None or sla.achieved_at(name) is not None or sla.is_breached(name):
            continue
        if due <= now:
            setattr(sla, f"{name}_breached", True)
            if name not in sla.warned:
                sla.warned.append(name)
            row = timeline_row(
                ticket,
                EventType.SLA_BREACHED,
                new_value=name,
                reason=in_site_language(
                    lambda n=name, d=due: (
                        _("The %(target)s target was due at %(due)s.")
                        % {"target": target_label(n), "due": when(d)}
                    )
                ),
            )
            announce(
                events.SlaBreached(
                    ticket=ticket,
                    actor=None,
                    target=name,
                    due_at=due,
                    timeline_event=row,
                    recipient_ids=people_to_warn(ticket),
                )
            )
        elif (
            name not in sla.warned
            and minutes
            and due
            and (_warn_at(clock, due, minutes, policy.warning_percent) <= now)
        ):
            sla.warned.append(name)
            row = timeline_row(
                ticket,
                EventType.SLA_WARNING,
                new_value=name,
                reason=in_site_language(
                    lambda n=name, d=due: (
                        _("%(percent)s %% of the %(target)s time has elapsed; due at %(due)s.")
                        % {
                            "percent": policy.warning_percent,
                            "target": target_label(n),
                            "due": when(d),
                        }
                    )
                ),
            )
            announce(
                events.SlaWarning(
                    ticket=ticket,
                    actor=None,
                    target=name,
                    due_at=due,
                    timeline_event=row,
                    recipient_ids=people_to_warn(ticket),
                )
            )
    _save(clock)
    _run_escalation_levels(ticket, now)
    _check_acknowledgement(ticket, now)


def _run_escalation_levels(ticket: Ticket, now: datetime) -> None:
    while True:
        clock = _clock(ticket)
        sla = clock.sla
        level = _next_level(sla)
        reference = _escalation_reference(sla)
        if level is None or reference is None:
            return
        at = clock.add(reference, level.minutes) if level.minutes else reference
        if at > now:
            return
        target = next(
            name
            for name in RESPONSE_TARGETS
            if sla.achieved_at(name) is None and sla.due_at(name) == reference
        )
        sla.escalation_level = level.level
        _save(clock)
        _apply_level(ticket, level, target, reference)


def _apply_level(ticket: Ticket, level: EscalationLevel, target: str, due: datetime) -> None:
    ticket = Ticket.objects.select_related("group__escalation_group", "assignee").get(pk=ticket.pk)
    overdue = due <= timezone.now()

    def reason_text() -> str:
        values = {"level": level.level, "target": target_label(target), "due": when(due)}
        if overdue:
            return (
                _("Escalation level %(level)s: the %(target)s target was due at %(due)s.") % values
            )
        return _("Escalation level %(level)s: the %(target)s target is due at %(due)s.") % values

    reason = in_site_language(reason_text)
    recipients = level_recipients(ticket, level)
    changes: dict = {}
    escalation_group = ticket.group.escalation_group
    if level.reassign_to_escalation_group and escalation_group and escalation_group.is_active:
        changes["group"] = escalation_group
    if level.raise_priority and ticket.priority != Priority.URGENT:
        changes["priority"] = _raised(ticket.priority)
    row = timeline_row(ticket, EventType.ESCALATED, new_value=str(level.level), reason=reason)
    if changes:
        ticket = update_ticket(None, ticket, reason=reason, **changes)
    if level.add_internal_note:
        add_message(None, ticket, body=reason, internal=True)
    recipients |= set(supervisor_ids(ticket.group)) if "group" in changes else set()
    announce(
        events.TicketEscalated(
            ticket=ticket,
            actor=None,
            level=level.level,
            timeline_event=row,
            recipient_ids=frozenset(recipients),
            to_group=changes.get("group"),
        )
    )


def _raised(priority: str) -> str:
    by_rank = {rank: name for name, rank in PRIORITY_RANK.items()}
    return str(by_rank[max(0, PRIORITY_RANK[Priority(priority)] - 1)])


def _check_acknowledgement(ticket: Ticket, now: datetime) -> None:
    clock = _clock(ticket)
    sla = clock.sla
    due = sla.acknowledgement_due_at
    if due is None or sla.acknowledgement_at is not None or due > now or not ticket.assignee_id:
        _save(clock)
        return
    ticket = Ticket.objects.select_related("group__escalation_group", "assignee").get(pk=ticket.pk)
    lapsed = ticket.assignee
    if lapsed is None:  # unassigned meanwhile: nothing lapsed
        _save(clock)
        return
    sla.acknowledgement_breached = True
    sla.acknowledgement_lapses += 1
    sla.acknowledgement_due_at = None
    lapses = sla.acknowledgement_lapses
    limit = sla.policy.acknowledgement_lapses_to_escalate if sla.policy else 0
    _save(clock)
    reason = in_site_language(
        lambda: (
            _("%(user)s did not acknowledge the ticket in time (due %(due)s).")
            % {"user": lapsed, "due": when(due)}
        )
    )
    timeline_row(ticket, EventType.SLA_BREACHED, new_value="acknowledgement", reason=reason)
    if not (limit and lapses >= limit):
        sla_events.publish(
            sla_events.AcknowledgementLapsed(ticket=ticket, lapsed=lapsed, reason=reason)
        )
        if Ticket.objects.filter(pk=ticket.pk).exclude(assignee=lapsed).exists():
            return  # handed over (routing's handler), or unassigned meanwhile
    escalation_group = ticket.group.escalation_group
    _escalate(
        None,
        ticket,
        group=escalation_group if escalation_group and escalation_group.is_active else None,
        assignee=None,
        reason=reason,
    )


# --- manual actions -------------------------------------------------------------------------


@transaction.atomic
def acknowledge_ticket(actor: User, ticket: Ticket) -> TicketSLA:
    """The assigned agent confirms they have taken the ticket."""
    if ticket.assignee_id != actor.pk:
        raise PermissionDenied(_("Only the assigned agent acknowledges a ticket."))
    clock = _clock(ticket)
    sla = clock.sla
    if sla.acknowledgement_at is not None:
        raise BusinessRuleError(_("You have already acknowledged this ticket."))
    now = timezone.now()
    if not _is_open(sla, "acknowledgement"):
        sla.remaining_minutes.pop("acknowledgement", None)
    sla.acknowledgement_at = now
    if sla.acknowledgement_due_at is not None and now > sla.acknowledgement_due_at:
        sla.acknowledgement_breached = True
    _save(clock)
    timeline_row(ticket, EventType.ACKNOWLEDGED, actor=actor)
    refresh_ticket_pages(ticket)
    return sla


@transaction.atomic
def escalate_ticket(
    actor: User,
    ticket: Ticket,
    *,
    reason: str,
    group: Group | None = None,
    assignee: User | None = None,
) -> Ticket:
    """Hand the ticket to a group and/or person, raising its visible escalation level.

    Without a group or person it goes to the group's escalation group. Staff who work the ticket
    may escalate it to any group: that is the point of escalating.
    """
    if not can_work_ticket(actor, ticket):
        raise PermissionDenied(_("You can read this ticket but not change it."))
    reason = " ".join((reason or "").split())
    if not reason:
        raise ValidationError({"reason": _("Say why you escalate this ticket.")})
    if group is None and assignee is None:
        ticket = Ticket.objects.select_related("group__escalation_group").get(pk=ticket.pk)
        group = ticket.group.escalation_group
        if group is None:
            raise ValidationError(
                {
                    "group": _("%(group)s has no escalation group; choose a group or a person.")
                    % {"group": ticket.group}
                }
            )
    if group is not None and not group.is_active:
        raise ValidationError(
            {"group": _("The group %(group)s is deactivated.") % {"group": group}}
        )
    if assignee is not None and not can_be_assigned(assignee, group or ticket.group):
        raise ValidationError(
            {
                "assignee": _("%(user)s cannot work tickets of %(group)s.")
                % {"user": assignee, "group": group or ticket.group}
            }
        )
    return _escalate(actor, ticket, group=group, assignee=assignee, reason=reason)


def _escalate(
    actor: User | None,
    ticket: Ticket,
    *,
    group: Group | None,
    assignee: User | None,
    reason: str,
) -> Ticket:
    clock = _clock(ticket)
    clock.sla.escalation_level += 1
    level = clock.sla.escalation_level
    _save(clock)
    row = timeline_row(
        ticket, EventType.ESCALATED, actor=actor, new_value=str(level), reason=reason
    )
    changes: dict = {}
    if group is not None and group.pk != ticket.group_id:
        changes["group"] = group
    if assignee is not None:
        changes["assignee"] = assignee
    # The system moves it: agents may escalate to groups they do not work in.
    if changes:
        ticket = update_ticket(None, ticket, reason=reason, **changes)
    recipients = set(supervisor_ids(ticket.group))
    if ticket.assignee_id:
        recipients.add(ticket.assignee_id)
    announce(
        events.TicketEscalated(
            ticket=ticket,
            actor=actor,
            level=level,
            timeline_event=row,
            recipient_ids=frozenset(recipients),
            to_group=changes.get("group"),
        )
    )
    return ticket
