"""Every routing write: rules (save, reorder, delete), group strategies, agent profiles and
availability, the routing of new tickets, automatic assignment, and the away-return tick.

Routing a ticket runs inside the ticket action's transaction (from the ``TicketCreated`` /
``TicketChanged`` handlers) and changes the ticket only through ``update_ticket(None, …)``, so
each change is one timeline row whose ``reason`` says which rule or strategy decided and why.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.models import Group, User
from kefu.audit.actions import changes_since, record, snapshot
from kefu.lib import config_cache
from kefu.lib.errors import BusinessRuleError
from kefu.routing.access import (
    can_configure_group,
    can_edit_rules,
    can_manage_agent,
    can_set_availability,
)
from kefu.routing.assignment import Decision, choose_agent, group_strategies, in_site_language
from kefu.routing.conditions import (
    facts_for,
    rule_matches,
    validate_actions,
    validate_conditions,
)
from kefu.routing.models import (
    AgentProfile,
    AssignmentRule,
    Availability,
    GroupRouting,
    MatchMode,
    Strategy,
)
from kefu.sla.deadlines import parse_working_hours
from kefu.tickets.actions import add_message, update_ticket
from kefu.tickets.models import OPEN_STATES, Category, Complexity, Message, Ticket

logger = logging.getLogger(__name__)

RULE_FIELDS = ("name", "is_active", "match_mode", "conditions", "actions", "stop_processing")
PROFILE_FIELDS = ("capacity", "weight", "skills", "shift_hours", "time_zone")
APPLY_ERRORS = (ValidationError, BusinessRuleError, PermissionDenied)
MAX_SKILLS = 50

# Tickets whose routing is in progress in this thread: the TicketChanged events our own
# changes cause must not start a second routing pass for the same ticket.
_routing: contextvars.ContextVar[frozenset[int]] = contextvars.ContextVar(
    "kefu_routing", default=frozenset()
)


@contextlib.contextmanager
def _routing_ticket(pk: int) -> Iterator[None]:
    token = _routing.set(_routing.get() | {pk})
    try:
        yield
    finally:
        _routing.reset(token)


def is_routing(ticket: Ticket) -> bool:
    return ticket.pk in _routing.get()


# --- rules ----------------------------------------------------------------------------------


def _require_rule_editor(actor: User) -> None:
    if not can_edit_rules(actor):
        raise PermissionDenied(_("Only administrators and supervisors change assignment rules."))


@transaction.atomic
def save_rule(actor: User, rule: AssignmentRule | None = None, **fields: Any) -> AssignmentRule:
    """Create (``rule=None``) or change a rule; conditions and actions are validated fully."""
    _require_rule_editor(actor)
    unknown = set(fields) - set(RULE_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be changed.") for name in unknown})
    if rule is None:
        last = AssignmentRule.objects.order_by("-position").values_list("position", flat=True)
        rule = AssignmentRule(created_by=actor, position=(last.first() or 0) + 1)
    else:
        rule = AssignmentRule.objects.select_for_update().get(pk=rule.pk)
    is_new, before = rule.pk is None, snapshot(rule, RULE_FIELDS)
    if "name" in fields:
        rule.name = " ".join(str(fields["name"] or "").split())[:200]
    if not rule.name:
        raise ValidationError({"name": _("Give the rule a name.")})
    if "match_mode" in fields:
        if fields["match_mode"] not in MatchMode.values:
            raise ValidationError({"match_mode": _("Choose all or any.")})
        rule.match_mode = fields["match_mode"]
    for flag in ("is_active", "stop_processing"):
        if flag in fields:
            setattr(rule, flag, bool(fields[flag]))
    if "conditions" in fields:
        rule.conditions = validate_conditions(fields["conditions"])
    if "actions" in fields:
        rule.actions = validate_actions(fields["actions"])
    if not rule.actions:
        raise ValidationError({"actions": _("A rule needs at least one action.")})
    rule.save()
    action = "routing_rule.created" if is_new else "routing_rule.updated"
    record(actor, action, rule, changes_since(before, rule))
    return rule


@transaction.atomic
def delete_rule(actor: User, rule: AssignmentRule) -> None:
    _require_rule_editor(actor)
    AssignmentRule.objects.filter(pk=rule.pk).delete()
    _renumber(list(AssignmentRule.objects.order_by("position", "pk")))
    record(actor, "routing_rule.deleted", rule, {"name": rule.name})


def _renumber(rules: Sequence[AssignmentRule]) -> bool:
    """Number ``rules`` 1, 2, …; returns whether any rule moved."""
    moved = False
    for position, rule in enumerate(rules, start=1):
        if rule.position != position:
            AssignmentRule.objects.filter(pk=rule.pk).update(position=position)
            rule.position = position
            moved = True
    if moved:  # update() sends no signal: the rule order in the snapshots is stale
        config_cache.config_changed()
    return moved


def _record_order(actor: User, rules: Sequence[AssignmentRule]) -> None:
    record(actor, "routing_rule.reordered", None, {"order": [rule.name for rule in rules]})


@transaction.atomic
def move_rule(actor: User, rule: AssignmentRule, direction: str) -> None:
    """Swap the rule with its neighbour (``up`` or ``down``)."""
    _require_rule_editor(actor)
    rules = list(AssignmentRule.objects.select_for_update().order_by("position", "pk"))
    index = next(i for i, r in enumerate(rules) if r.pk == rule.pk)
    other = index - 1 if direction == "up" else index + 1
    if direction not in ("up", "down"):
        raise ValidationError({"direction": _("Move a rule up or down.")})
    if 0 <= other < len(rules):
        rules[index], rules[other] = rules[other], rules[index]
    if _renumber(rules):
        _record_order(actor, rules)


@transaction.atomic
def reorder_rules(actor: User, ids: Sequence[int]) -> list[AssignmentRule]:
    """Put the rules in the order of ``ids``, which must name every rule exactly once."""
    _require_rule_editor(actor)
    rules = {r.pk: r for r in AssignmentRule.objects.select_for_update()}
    if sorted(ids) != sorted(rules) or len(set(ids)) != len(ids):
        raise ValidationError({"ids": _("List every rule exactly once.")})
    ordered = [rules[pk] for pk in ids]
    if _renumber(ordered):
        _record_order(actor, ordered)
    return ordered


# --- routing a ticket -----------------------------------------------------------------------


def active_rules() -> list[AssignmentRule]:
    """The active assignment rules in order (a per-process snapshot; read-only)."""
    return config_cache.snapshot(
        "routing.rules",
        lambda: list(AssignmentRule.objects.filter(is_active=True).order_by("position", "pk")),
    )


def route_new_ticket(ticket: Ticket, message: Message | None) -> Ticket:
    """Run the active rules in order, send complex tickets to the escalation group, then assign
    within the group by its strategy. Called from the ``TicketCreated`` handler."""
    ticket = Ticket.objects.select_related(
        "group", "type", "contact", "organization", "asset__product", "category"
    ).get(pk=ticket.pk)
    with _routing_ticket(ticket.pk):
        body = message.body_text if message is not None else None
        facts = facts_for(ticket, body=body)
        now = timezone.now()
        for rule in active_rules():
            facts.ticket = ticket
            try:
                evidence = rule_matches(rule, facts)
            except Exception:  # a broken rule must never stop a ticket being created
                logger.exception("assignment rule %s failed", rule.pk)
                continue
            if evidence is None:
                continue
            AssignmentRule.objects.filter(pk=rule.pk).update(
                matched_count=F("matched_count") + 1, last_matched_at=now
            )
            ticket = _apply_rule(ticket, rule, evidence)
            if rule.stop_processing:
                break
        ticket = _send_complex_to_escalation_group(ticket)
        if ticket.assignee_id is None:
            ticket = assign_in_group(ticket)
    return ticket


def _rule_changes(ticket: Ticket, actions: dict) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for name, value in actions.items():
        if name == "group":
            changes["group"] = Group.objects.filter(pk=value).first()
        elif name == "assignee":
            changes["assignee"] = User.objects.filter(pk=value, is_active=True).first()
        elif name == "category":
            changes["category"] = Category.objects.filter(pk=value).first()
        elif name == "tags":
            current = list(ticket.tags.values_list("name", flat=True))
            changes["tags"] = current + [
                t for t in value if t.lower() not in {c.lower() for c in current}
            ]
        else:
            changes[name] = value
    if changes.get("group") is None:
        changes.pop("group", None)
    return changes


def _apply_rule(ticket: Ticket, rule: AssignmentRule, evidence: list[str]) -> Ticket:
    reason = in_site_language(
        lambda: (
            _("Rule '%(rule)s' matched: %(evidence)s")
            % {"rule": rule.name, "evidence": ", ".join(evidence)}
        )
    )
    changes = _rule_changes(ticket, rule.actions or {})
    try:
        with transaction.atomic():
            return update_ticket(None, ticket, reason=reason, **changes)
    except APPLY_ERRORS as error:
        text = "; ".join(getattr(error, "messages", None) or [str(error)])
        add_message(
            None,
            ticket,
            body=in_site_language(
                lambda: (
                    _("Rule '%(rule)s' matched but could not be applied: %(error)s")
                    % {"rule": rule.name, "error": text}
                )
            ),
            internal=True,
        )
        return Ticket.objects.get(pk=ticket.pk)


def _send_complex_to_escalation_group(ticket: Ticket) -> Ticket:
    if ticket.complexity != Complexity.COMPLEX or ticket.assignee_id:
        return ticket
    group = Group.objects.select_related("escalation_group").get(pk=ticket.group_id)
    target = group.escalation_group
    if target is None or not target.is_active or target.pk == group.pk:
        return ticket
    reason = in_site_language(
        lambda: (
            _("Complex ticket: %(group)s hands complex tickets to %(target)s.")
            % {"group": group, "target": target}
        )
    )
    try:
        with transaction.atomic():
            return update_ticket(None, ticket, group=target, reason=reason)
    except APPLY_ERRORS:
        logger.exception("moving complex ticket %s failed", ticket.pk)
        return ticket


def assign_in_group(ticket: Ticket, *, prefix: str = "") -> Ticket:
    """Assign an unassigned open ticket by its group's strategy, recording the decision."""
    if ticket.state not in OPEN_STATES or ticket.assignee_id:
        return ticket
    group = Group.objects.get(pk=ticket.group_id)
    decision = choose_agent(group, ticket)
    return _record_decision(ticket, decision, prefix=prefix)


def _record_decision(ticket: Ticket, decision: Decision, *, prefix: str = "") -> Ticket:
    if decision.strategy == Strategy.NONE:
        return ticket
    text = f"{prefix} {decision.explanation}".strip()
    if decision.user is not None:
        return update_ticket(None, ticket, assignee=decision.user, reason=text)
    # Nobody to assign: the decision is still explained on the timeline, for the supervisor.
    add_message(None, ticket, body=text, internal=True)
    return ticket


def on_ticket_changed(ticket: Ticket, changes: dict, actor: User | None) -> None:
    """A ticket moved into a group without an assignee (by a rule, an escalation, a person), or
    the system (e.g. learned triage) marked it complex: route it again."""
    if is_routing(ticket) or ticket.state not in OPEN_STATES:
        return
    with _routing_ticket(ticket.pk):
        group_id = ticket.group_id
        if "complexity" in changes and actor is None:
            ticket = _send_complex_to_escalation_group(ticket)
        moved = "group" in changes or ticket.group_id != group_id
        if moved and ticket.assignee_id is None:
            assign_in_group(ticket)


def hand_over_lapsed_ticket(ticket: Ticket, lapsed: User, reason: str) -> None:
    """For the SLA: ``lapsed`` did not acknowledge in time, so the next eligible agent gets the
    ticket — the group's strategy (least open tickets if it has none), skipping the lapsed agent
    and anyone away, off shift or at capacity. With nobody eligible the SLA escalates."""
    configured = group_strategies().get(ticket.group_id, Strategy.NONE)
    strategy = configured if configured != Strategy.NONE else Strategy.LOAD
    decision = choose_agent(ticket.group, ticket, exclude=[lapsed], strategy=strategy)
    if decision.user is not None:
        why = f"{reason} {decision.explanation}".strip()
        update_ticket(None, ticket, assignee=decision.user, reason=why)


# --- group strategies -----------------------------------------------------------------------


@transaction.atomic
def save_group_routing(
    actor: User, group: Group, *, strategy: str | None = None, max_in_a_row: int | None = None
) -> GroupRouting:
    if not can_configure_group(actor, group):
        raise PermissionDenied(_("Only administrators and the group's supervisors change this."))
    routing, _created = GroupRouting.objects.get_or_create(group=group)
    routing = GroupRouting.objects.select_for_update().get(pk=routing.pk)
    before = snapshot(routing, ("strategy", "max_in_a_row"))
    if strategy is not None:
        if strategy not in Strategy.values:
            raise ValidationError(
                {"strategy": _("Unknown strategy %(value)s.") % {"value": strategy}}
            )
        routing.strategy = strategy
    if max_in_a_row is not None:
        if not 0 <= int(max_in_a_row) <= 100:
            raise ValidationError({"max_in_a_row": _("Enter a number from 0 to 100.")})
        routing.max_in_a_row = int(max_in_a_row)
    routing.save()
    record(actor, "group_routing.updated", group, changes_since(before, routing))
    return routing


def routing_for(group: Group) -> GroupRouting:
    return GroupRouting.objects.filter(group=group).first() or GroupRouting(group=group)


# --- agent profiles and availability --------------------------------------------------------


def _locked_profile(user: User) -> AgentProfile:
    AgentProfile.objects.get_or_create(user=user)
    return AgentProfile.objects.select_for_update().get(user=user)


def _clean_skills(value: Any) -> list[str]:
    if isinstance(value, str):
        value = value.replace("，", ",").replace("\n", ",").split(",")
    if not isinstance(value, list):
        raise ValidationError({"skills": _("Skills must be a list of words.")})
    skills: list[str] = []
    for item in value:
        skill = " ".join(str(item).split())[:60]
        if skill and skill.lower() not in {s.lower() for s in skills}:
            skills.append(skill)
    if len(skills) > MAX_SKILLS:
        raise ValidationError({"skills": _("At most %(n)s skills.") % {"n": MAX_SKILLS}})
    return skills


@transaction.atomic
def save_agent_profile(actor: User, agent: User, **fields: Any) -> AgentProfile:
    """Capacity, weight, skills and shift hours of ``agent``."""
    if not can_manage_agent(actor, agent):
        raise PermissionDenied(_("Only administrators and the agent's supervisors change this."))
    unknown = set(fields) - set(PROFILE_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be changed.") for name in unknown})
    profile = _locked_profile(agent)
    before = snapshot(profile, PROFILE_FIELDS)
    if "capacity" in fields:
        capacity = fields["capacity"]
        if not isinstance(capacity, int) or not 0 <= capacity <= 10000:
            raise ValidationError({"capacity": _("Enter a number from 0 (no limit) to 10000.")})
        profile.capacity = capacity
    if "weight" in fields:
        weight = fields["weight"]
        if not isinstance(weight, int) or not 1 <= weight <= 100:
            raise ValidationError({"weight": _("Enter a weight from 1 to 100.")})
        profile.weight = weight
    if "skills" in fields:
        profile.skills = _clean_skills(fields["skills"])
    if "time_zone" in fields:
        zone = (fields["time_zone"] or "").strip()
        if zone:
            try:
                ZoneInfo(zone)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValidationError(
                    {"time_zone": _("%(value)s is not a known time zone.") % {"value": zone}}
                ) from None
        profile.time_zone = zone
    if "shift_hours" in fields:
        hours = fields["shift_hours"] or {}
        try:
            parsed = parse_working_hours(hours)
        except (ValueError, TypeError, AttributeError) as error:
            raise ValidationError({"shift_hours": str(error)}) from None
        if hours and not parsed:
            raise ValidationError({"shift_hours": _("Enter hours for at least one weekday.")})
        profile.shift_hours = hours
    profile.save()
    record(actor, "agent_profile.updated", agent, changes_since(before, profile))
    return profile


@transaction.atomic
def set_availability(
    actor: User,
    agent: User,
    availability: str,
    *,
    away_until: datetime | None = None,
    reassign: bool = False,
) -> int:
    """Set ``agent`` available, away (optionally until a time) or off shift; with ``reassign``
    hand their open tickets to others by each group's strategy. Returns how many moved."""
    if not can_set_availability(actor, agent):
        raise PermissionDenied(_("You may not change this agent's availability."))
    if availability not in Availability.values:
        raise ValidationError(
            {"availability": _("Unknown availability %(value)s.") % {"value": availability}}
        )
    if away_until is not None:
        if availability != Availability.AWAY:
            raise ValidationError({"away_until": _("Only an away agent has a return time.")})
        if away_until <= timezone.now():
            raise ValidationError({"away_until": _("The return time must be in the future.")})
    profile = _locked_profile(agent)
    profile.availability = availability
    profile.away_until = away_until
    profile.save()
    if reassign and availability != Availability.AVAILABLE:
        return reassign_open_tickets(actor, agent)
    return 0


def reassign_open_tickets(actor: User | None, agent: User) -> int:
    """Give each open ticket of ``agent`` to the next eligible agent of its group (the group's
    strategy, or least open tickets); with nobody eligible the ticket returns to the group queue."""
    moved = 0
    tickets = Ticket.objects.filter(assignee=agent, state__in=OPEN_STATES).select_related("group")
    for ticket in tickets.order_by("created_at", "pk"):
        routing = GroupRouting.objects.filter(group_id=ticket.group_id).first()
        strategy = (
            routing.strategy if routing and routing.strategy != Strategy.NONE else Strategy.LOAD
        )
        try:
            with transaction.atomic(), _routing_ticket(ticket.pk):
                decision = choose_agent(ticket.group, ticket, exclude=[agent], strategy=strategy)
                reason = in_site_language(
                    lambda d=decision: (
                        _("%(user)s is away. %(decision)s")
                        % {"user": agent, "decision": d.explanation}
                    )
                )
                update_ticket(actor, ticket, assignee=decision.user, reason=reason)
                moved += 1
        except APPLY_ERRORS:
            logger.info("ticket %s of away agent %s not reassigned", ticket.pk, agent.pk)
    return moved


def process_away_returns(now: datetime | None = None, limit: int = 200) -> int:
    """The tick: agents whose ``away_until`` has come are available again. Each row is claimed
    with a conditional UPDATE, so two tick processes never switch the same agent twice."""
    now = now or timezone.now()
    due = list(
        AgentProfile.objects.filter(away_until__lte=now, availability=Availability.AWAY)
        .order_by("away_until")
        .values_list("pk", "away_until")[:limit]
    )
    handled = 0
    for pk, until in due:
        handled += AgentProfile.objects.filter(
            pk=pk, away_until=until, availability=Availability.AWAY
        ).update(availability=Availability.AVAILABLE, away_until=None, updated_at=now)
    return handled


def profile_of(user: User) -> AgentProfile:
    return AgentProfile.objects.filter(user=user).first() or AgentProfile(user=user)
