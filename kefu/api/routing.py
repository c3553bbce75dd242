"""Routing over the API: assignment rules (CRUD and order), each group's assignment strategy, and
agent profiles with availability. Staff read; administrators and supervisors change rules;
administrators and the group's/agent's supervisors change strategies and profiles; every agent
sets their own availability. Customers get 404."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema

from kefu.accounts.access import require_staff
from kefu.accounts.models import Group, User
from kefu.api.auth import current_user
from kefu.api.schemas import ERRORS, Ref, StrictSchema
from kefu.routing import actions
from kefu.routing.access import (
    get_agent_for_user,
    get_group_for_user,
    get_rule_for_user,
    require_rule_editor,
    staff_for_routing,
)
from kefu.routing.assignment import agent_overview
from kefu.routing.models import AgentProfile, AssignmentRule, Availability, MatchMode, Strategy
from kefu.tickets.models import OPEN_STATES, Ticket

router = Router(tags=["routing"])

NO_CONTENT = {204: None, **ERRORS}


# --- rules ----------------------------------------------------------------------------------


class ConditionIO(Schema):
    field: str = Field(
        description="text | subject | body | channel | mailbox | organization | tier | product | "
        "product_category | type | language | complexity | business_hours"
    )
    operator: str = Field(
        description="contains_any | contains_none | matches | not_matches (text fields); "
        "in | not_in (lists); inside | outside (business_hours)"
    )
    value: Any = Field(
        None,
        description="Keywords (list), a regular expression, a list of values (ids for mailbox, "
        "organization, product; zh/en for language), or a calendar id / null.",
    )


class RuleActionsIO(Schema):
    group: int | None = None
    priority: str | None = None
    type: str | None = Field(None, description="A ticket type key.")
    tags: list[str] | None = Field(None, description="Added to the ticket's tags.")
    complexity: str | None = None
    category: int | None = None
    assignee: int | None = Field(None, description="A staff user id.")


class RuleOut(Schema):
    id: int
    name: str
    position: int
    is_active: bool
    match_mode: MatchMode
    stop_processing: bool
    conditions: list[ConditionIO]
    actions: RuleActionsIO
    matched_count: int
    last_matched_at: datetime | None


class RuleList(Schema):
    items: list[RuleOut]


class RuleIn(StrictSchema):
    name: str | None = Field(None, max_length=200)
    is_active: bool | None = None
    match_mode: MatchMode | None = None
    stop_processing: bool | None = None
    conditions: list[dict[str, Any]] | None = Field(
        None, description='[{"field": "text", "operator": "contains_any", "value": ["黑屏"]}]'
    )
    actions: dict[str, Any] | None = Field(
        None, description='{"group": 2, "priority": "high", "tags": ["产品故障"]}'
    )


class ReorderIn(StrictSchema):
    ids: list[int] = Field(description="Every rule id, in the new order.")


def rule_data(rule: AssignmentRule) -> dict[str, Any]:
    return {
        "id": rule.pk,
        "name": rule.name,
        "position": rule.position,
        "is_active": rule.is_active,
        "match_mode": rule.match_mode,
        "stop_processing": rule.stop_processing,
        "conditions": rule.conditions,
        "actions": rule.actions,
        "matched_count": rule.matched_count,
        "last_matched_at": rule.last_matched_at,
    }


@router.get("/routing/rules", response={200: RuleList, **ERRORS}, url_name="list_routing_rules")
def list_rules(request: HttpRequest):
    require_staff(current_user(request))
    return {"items": [rule_data(r) for r in AssignmentRule.objects.order_by("position", "pk")]}


@router.post("/routing/rules", response={201: RuleOut, **ERRORS}, url_name="create_routing_rule")
def create_rule(request: HttpRequest, payload: RuleIn):
    user = current_user(request)
    require_rule_editor(user)
    return 201, rule_data(actions.save_rule(user, **payload.model_dump(exclude_unset=True)))


@router.post(
    "/routing/rules/reorder",
    response={200: RuleList, **ERRORS},
    url_name="reorder_routing_rules",
    summary="Put the rules in a new order",
)
def reorder(request: HttpRequest, payload: ReorderIn):
    user = current_user(request)
    require_rule_editor(user)
    return {"items": [rule_data(r) for r in actions.reorder_rules(user, payload.ids)]}


@router.get(
    "/routing/rules/{int:rule_id}", response={200: RuleOut, **ERRORS}, url_name="get_routing_rule"
)
def read_rule(request: HttpRequest, rule_id: int):
    return rule_data(get_rule_for_user(current_user(request), rule_id))


@router.patch(
    "/routing/rules/{int:rule_id}",
    response={200: RuleOut, **ERRORS},
    url_name="update_routing_rule",
)
def change_rule(request: HttpRequest, rule_id: int, payload: RuleIn):
    user = current_user(request)
    rule = get_rule_for_user(user, rule_id, write=True)
    return rule_data(actions.save_rule(user, rule, **payload.model_dump(exclude_unset=True)))


@router.delete("/routing/rules/{int:rule_id}", response=NO_CONTENT, url_name="delete_routing_rule")
def remove_rule(request: HttpRequest, rule_id: int):
    user = current_user(request)
    actions.delete_rule(user, get_rule_for_user(user, rule_id, write=True))
    return 204, None


# --- groups ---------------------------------------------------------------------------------


class GroupRoutingOut(Schema):
    group: Ref
    strategy: Strategy
    max_in_a_row: int
    last_assigned_user: Ref | None
    assigned_count: int
    last_assigned_at: datetime | None


class GroupRoutingList(Schema):
    items: list[GroupRoutingOut]


class GroupRoutingIn(StrictSchema):
    strategy: Strategy | None = None
    max_in_a_row: int | None = Field(None, ge=0, le=100)


def group_routing_data(group: Group) -> dict[str, Any]:
    routing = actions.routing_for(group)
    last = routing.last_assigned_user
    return {
        "group": {"id": group.pk, "name": group.name},
        "strategy": routing.strategy,
        "max_in_a_row": routing.max_in_a_row,
        "last_assigned_user": {"id": last.pk, "name": str(last)} if last else None,
        "assigned_count": routing.assigned_count,
        "last_assigned_at": routing.last_assigned_at,
    }


@router.get(
    "/routing/groups", response={200: GroupRoutingList, **ERRORS}, url_name="list_group_routing"
)
def list_groups(request: HttpRequest):
    require_staff(current_user(request))
    return {"items": [group_routing_data(g) for g in Group.objects.filter(is_active=True)]}


@router.get(
    "/routing/groups/{int:group_id}",
    response={200: GroupRoutingOut, **ERRORS},
    url_name="get_group_routing",
)
def read_group(request: HttpRequest, group_id: int):
    return group_routing_data(get_group_for_user(current_user(request), group_id))


@router.patch(
    "/routing/groups/{int:group_id}",
    response={200: GroupRoutingOut, **ERRORS},
    url_name="update_group_routing",
)
def change_group(request: HttpRequest, group_id: int, payload: GroupRoutingIn):
    user = current_user(request)
    group = get_group_for_user(user, group_id, write=True)
    actions.save_group_routing(user, group, **payload.model_dump(exclude_unset=True))
    return group_routing_data(group)


# --- agents ---------------------------------------------------------------------------------


class AgentOut(Schema):
    user: Ref
    availability: Availability
    away_until: datetime | None
    capacity: int
    weight: int
    skills: list[str]
    shift_hours: dict[str, list[list[str]]]
    time_zone: str
    open_tickets: int
    last_assigned_at: datetime | None


class AgentList(Schema):
    items: list[AgentOut]


class AgentIn(StrictSchema):
    capacity: int | None = Field(None, ge=0, le=10000, description="0: no limit.")
    weight: int | None = Field(None, ge=1, le=100)
    skills: list[str] | None = None
    shift_hours: dict[str, list[list[str]]] | None = Field(
        None, description='{"mon": [["09:00", "18:00"]], …}; {} for no shift limits.'
    )
    time_zone: str | None = None


class AvailabilityIn(StrictSchema):
    availability: Availability
    away_until: datetime | None = Field(None, description="Only when away: when to come back.")
    reassign_open_tickets: bool = Field(
        False, description="Hand the agent's open tickets to others by each group's strategy."
    )


class AvailabilityOut(AgentOut):
    reassigned: int


def agent_data(user: User, profile: AgentProfile | None = None, open_count: int | None = None):
    profile = profile or actions.profile_of(user)
    if open_count is None:
        open_count = Ticket.objects.filter(assignee=user, state__in=OPEN_STATES).count()
    return {
        "user": {"id": user.pk, "name": str(user)},
        "availability": profile.availability,
        "away_until": profile.away_until,
        "capacity": profile.capacity,
        "weight": profile.weight,
        "skills": profile.skills or [],
        "shift_hours": profile.shift_hours or {},
        "time_zone": profile.time_zone,
        "open_tickets": open_count,
        "last_assigned_at": profile.last_assigned_at,
    }


@router.get("/routing/agents", response={200: AgentList, **ERRORS}, url_name="list_agents")
def list_agents(request: HttpRequest):
    require_staff(current_user(request))
    rows = agent_overview(staff_for_routing())
    return {"items": [agent_data(row.user, row.profile, row.open_count) for row in rows]}


@router.get(
    "/routing/agents/{int:user_id}", response={200: AgentOut, **ERRORS}, url_name="get_agent"
)
def read_agent(request: HttpRequest, user_id: int):
    return agent_data(get_agent_for_user(current_user(request), user_id))


@router.patch(
    "/routing/agents/{int:user_id}", response={200: AgentOut, **ERRORS}, url_name="update_agent"
)
def change_agent(request: HttpRequest, user_id: int, payload: AgentIn):
    user = current_user(request)
    agent = get_agent_for_user(user, user_id, write=True)
    actions.save_agent_profile(user, agent, **payload.model_dump(exclude_unset=True))
    return agent_data(agent)


@router.post(
    "/routing/agents/{int:user_id}/availability",
    response={200: AvailabilityOut, **ERRORS},
    url_name="set_agent_availability",
    summary="Set an agent available, away (optionally until a time) or off shift",
)
def change_availability(request: HttpRequest, user_id: int, payload: AvailabilityIn):
    user = current_user(request)
    agent = get_agent_for_user(user, user_id)
    moved = actions.set_availability(
        user,
        agent,
        payload.availability,
        away_until=payload.away_until,
        reassign=payload.reassign_open_tickets,
    )
    return {**agent_data(agent), "reassigned": moved}
