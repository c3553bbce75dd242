"""Assignment strategies: fairness over 1,000 simulated assignments, skipping away, off-shift and
full agents, complexity escalation, SLA lapses, and the explanation on the timeline."""

from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from kefu.accounts.models import Access, Membership, Role, User
from kefu.routing.actions import save_agent_profile, save_group_routing, set_availability
from kefu.routing.assignment import choose_agent
from kefu.routing.models import AgentProfile, Availability, Strategy
from kefu.sla.actions import process_due_slas
from kefu.tickets.actions import update_ticket
from kefu.tickets.models import EventType, Message, State, Ticket

SHANGHAI = ZoneInfo("Asia/Shanghai")
ROUNDS = 1000


def simulate(group, ticket, rounds=ROUNDS, resolve=None):
    """Choose ``rounds`` times; with ``resolve`` each choice gets a real open ticket and a random
    earlier ticket is resolved with that probability (so load moves)."""
    chosen = []
    open_ids = []
    template = Ticket.objects.get(pk=ticket.pk)
    for n in range(rounds):
        with transaction.atomic():
            decision = choose_agent(group, ticket)
            chosen.append(decision.user)
            if resolve is not None and decision.user is not None:
                copy = Ticket.objects.create(
                    number=10_000_000 + n,
                    subject="load",
                    type=template.type,
                    contact=template.contact,
                    group=group,
                    assignee=decision.user,
                )
                open_ids.append(copy.pk)
                if open_ids and random.random() < resolve:  # noqa: S311 - simulation
                    done = open_ids.pop(random.randrange(len(open_ids)))  # noqa: S311
                    Ticket.objects.filter(pk=done).update(state=State.RESOLVED)
    return chosen


def test_round_robin_spreads_1000_assignments_within_one(cast, team, make_ticket):
    save_group_routing(cast.admin, cast.aftersales, strategy=Strategy.ROUND_ROBIN)
    ticket = make_ticket(group=cast.aftersales)
    counts = Counter(simulate(cast.aftersales, ticket))
    assert set(counts) == set(team)
    assert max(counts.values()) - min(counts.values()) <= 1


def test_round_robin_never_picks_an_away_agent_and_continues_when_they_return(
    cast, team, make_ticket
):
    save_group_routing(cast.admin, cast.aftersales, strategy=Strategy.ROUND_ROBIN)
    set_availability(cast.admin, team[1], Availability.AWAY)
    ticket = make_ticket(group=cast.aftersales)
    counts = Counter(simulate(cast.aftersales, ticket, rounds=300))
    assert team[1] not in counts
    assert abs(counts[team[0]] - counts[team[2]]) <= 1
    set_availability(cast.admin, team[1], Availability.AVAILABLE)
    burst = simulate(cast.aftersales, ticket, rounds=6)
    assert Counter(burst) == {team[0]: 2, team[1]: 2, team[2]: 2}  # not flooded


def test_load_never_exceeds_capacity_and_skips_away_agents(cast, team, make_ticket):
    save_group_routing(cast.admin, cast.aftersales, strategy=Strategy.LOAD)
    save_agent_profile(cast.admin, team[0], capacity=5)
    save_agent_profile(cast.admin, team[2], capacity=8)
    set_availability(cast.admin, team[1], Availability.AWAY)
    ticket = make_ticket(group=cast.aftersales)
    random.seed(5)
    chosen = simulate(cast.aftersales, ticket, resolve=0.9)
    assert team[1] not in chosen
    assert None in chosen  # sometimes everybody is full: nobody gets it
    for agent, capacity in ((team[0], 5), (team[2], 8)):
        assert Ticket.objects.open().filter(assignee=agent).count() <= capacity


def test_load_balances_by_open_tickets_and_a_returning_agent_is_not_flooded(
    cast, team, make_ticket
):
    save_group_routing(cast.admin, cast.aftersales, strategy=Strategy.LOAD, max_in_a_row=2)
    for agent in team[:2]:
        for _n in range(5):
            make_ticket(group=cast.aftersales, assignee=agent)
    returning = team[2]  # no open tickets at all
    ticket = make_ticket(group=cast.aftersales)
    ticket.refresh_from_db()
    chosen = [ticket.assignee, *simulate(cast.aftersales, ticket, rounds=8, resolve=0.0)]
    assert chosen.count(returning) == 6  # catches up, but never more than two in a row:
    assert chosen[:3] == [returning, returning, team[0]]
    assert all(len(set(chosen[i : i + 3])) > 1 for i in range(len(chosen) - 2))


def test_weighted_gives_shares_by_weight(cast, team, make_ticket):
    save_group_routing(cast.admin, cast.aftersales, strategy=Strategy.WEIGHTED)
    for agent, weight in zip(team, (1, 2, 3), strict=True):
        save_agent_profile(cast.admin, agent, weight=weight)
    ticket = make_ticket(group=cast.aftersales)
    counts = Counter(simulate(cast.aftersales, ticket, rounds=600))
    assert counts == {team[0]: 100, team[1]: 200, team[2]: 300}


def test_skills_prefer_matching_agents_then_fall_back_to_load(cast, team, make_ticket):
    save_group_routing(cast.admin, cast.aftersales, strategy=Strategy.SKILLS)
    save_agent_profile(cast.admin, team[0], skills=["billing"])
    save_agent_profile(cast.admin, team[1], skills=["display", "zh"])
    save_agent_profile(cast.admin, team[2], skills=["zh"])
    ticket = make_ticket(
        group=cast.aftersales, subject="显示屏黑屏", body="开不了机", tags=["display"]
    )
    ticket.refresh_from_db()
    assert ticket.assignee == team[1]
    reason = ticket.events.get(field="assignee").reason
    assert "display, zh" in reason or "zh, display" in reason
    english = make_ticket(group=cast.aftersales, subject="Invoice", body="Wrong amount here")
    english.refresh_from_db()
    assert "nobody has a matching skill" in english.events.get(field="assignee").reason


def test_off_shift_agents_are_skipped(cast, team, make_ticket):
    save_group_routing(cast.admin, cast.aftersales, strategy=Strategy.ROUND_ROBIN)
    save_agent_profile(
        cast.admin, team[0], shift_hours={"mon": [["09:00", "18:00"]]}, time_zone="Asia/Shanghai"
    )
    set_availability(cast.admin, team[1], Availability.OFF_SHIFT)
    with time_machine.travel(datetime(2026, 11, 23, 20, 0, tzinfo=SHANGHAI), tick=False):
        ticket = make_ticket(group=cast.aftersales)
    ticket.refresh_from_db()
    assert ticket.assignee == team[2]
    reason = ticket.events.get(field="assignee").reason
    assert f"{team[0]} (outside shift hours)" in reason
    assert f"{team[1]} (off shift)" in reason


def test_the_assignment_reason_names_strategy_and_skipped_agents(cast, team, make_ticket):
    save_group_routing(cast.admin, cast.aftersales, strategy=Strategy.LOAD)
    save_agent_profile(cast.admin, team[0], capacity=1)
    make_ticket(group=cast.aftersales, assignee=team[0])
    set_availability(cast.admin, team[1], Availability.AWAY)
    ticket = make_ticket(group=cast.aftersales)
    event = ticket.events.get(type=EventType.CHANGED, field="assignee")
    assert event.new_value == str(team[2])
    assert "Least open tickets (load balancing) in 售后服务部" in event.reason
    assert f"{team[0]} (at capacity (1/1 open))" in event.reason
    assert f"{team[1]} (away)" in event.reason


def test_with_nobody_available_a_note_explains_it(cast, team, make_ticket):
    save_group_routing(cast.admin, cast.aftersales, strategy=Strategy.ROUND_ROBIN)
    for agent in team:
        set_availability(cast.admin, agent, Availability.AWAY)
    ticket = make_ticket(group=cast.aftersales)
    ticket.refresh_from_db()
    assert ticket.assignee is None
    note = Message.objects.get(ticket=ticket, is_internal=True)
    assert "no agent is available" in note.body_text


def test_groups_without_a_strategy_assign_nobody(cast, make_ticket):
    ticket = make_ticket()
    ticket.refresh_from_db()
    assert ticket.assignee is None
    assert not Message.objects.filter(ticket=ticket, is_internal=True).exists()


def test_a_group_change_to_a_group_with_a_strategy_assigns(cast, team, make_ticket, rule):
    save_group_routing(cast.admin, cast.aftersales, strategy=Strategy.ROUND_ROBIN)
    ticket = make_ticket()
    update_ticket(cast.supervisor, ticket, group=cast.aftersales)
    ticket.refresh_from_db()
    assert ticket.assignee == team[0]
    rule([], {"group": cast.aftersales.pk})
    routed = make_ticket()
    routed.refresh_from_db()
    assert routed.assignee == team[1]
    events = list(routed.events.filter(type=EventType.CHANGED).values_list("field", flat=True))
    assert events.count("assignee") == 1


def test_complex_tickets_go_to_the_escalation_group(cast, make_ticket, rule):
    cast.cs.escalation_group = cast.tech
    cast.cs.save()
    save_group_routing(cast.admin, cast.tech, strategy=Strategy.ROUND_ROBIN)
    rule(
        [{"field": "text", "operator": "contains_any", "value": ["主板"]}],
        {"complexity": "complex"},
    )
    ticket = make_ticket(subject="主板烧坏")
    ticket.refresh_from_db()
    assert ticket.group == cast.tech
    assert ticket.assignee == cast.tech_agent
    moved = ticket.events.get(field="group")
    assert "Complex ticket" in moved.reason
    simple = make_ticket(subject="普通")
    simple.refresh_from_db()
    assert simple.group == cast.cs


def test_triage_marking_a_ticket_complex_moves_it(cast, make_ticket):
    cast.cs.escalation_group = cast.tech
    cast.cs.save()
    ticket = make_ticket()
    update_ticket(None, ticket, complexity="complex", reason="triage")
    ticket.refresh_from_db()
    assert ticket.group == cast.tech
    other = make_ticket()
    update_ticket(cast.agent, other, complexity="complex")
    other.refresh_from_db()
    assert other.group == cast.cs  # an agent's own judgement is not overridden


def test_an_unacknowledged_assignment_moves_by_the_strategy_skipping_away_agents(
    cast, team, make_ticket
):
    from kefu.sla.models import TicketSLA

    save_group_routing(cast.admin, cast.aftersales, strategy=Strategy.ROUND_ROBIN)
    set_availability(cast.admin, team[1], Availability.AWAY)
    start = datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)
    with time_machine.travel(start, tick=False):
        ticket = make_ticket(group=cast.aftersales, priority="high")
    ticket.refresh_from_db()
    first = ticket.assignee
    assert first == team[0]
    due = TicketSLA.objects.get(ticket=ticket).acknowledgement_due_at
    with time_machine.travel(due, tick=False):
        process_due_slas()
    ticket.refresh_from_db()
    assert ticket.assignee == team[2]
    reason = ticket.events.filter(field="assignee").last().reason
    assert "did not acknowledge" in reason
    assert "Round robin in 售后服务部 After-sales Service: assigned to 周婷 Zhou" in reason
    assert f"Skipped: {team[1]} (away)" in reason
    assert f"Excluded: {team[0]}" in reason


def test_going_away_hands_open_tickets_to_others_with_reasons(cast, team, make_ticket):
    save_group_routing(cast.admin, cast.aftersales, strategy=Strategy.LOAD)
    mine = [make_ticket(group=cast.aftersales, assignee=team[0]) for _n in range(4)]
    moved = set_availability(team[0], team[0], Availability.AWAY, reassign=True)
    assert moved == 4
    owners = Counter(Ticket.objects.get(pk=t.pk).assignee for t in mine)
    assert owners == {team[1]: 2, team[2]: 2}
    event = mine[0].events.filter(field="assignee").last()
    assert event.actor == team[0]
    assert event.reason.startswith(f"{team[0]} is away.")


def test_away_until_switches_back_on_the_tick(cast, team):
    from kefu.lib.tick import run_tick_once

    start = timezone.now()
    set_availability(cast.admin, team[0], Availability.AWAY, away_until=start + timedelta(hours=2))
    with time_machine.travel(start + timedelta(hours=1)):
        run_tick_once()
        assert AgentProfile.objects.get(user=team[0]).availability == Availability.AWAY
    with time_machine.travel(start + timedelta(hours=2, minutes=1)):
        results = run_tick_once()
    assert results["routing_away_returns"] == 1
    profile = AgentProfile.objects.get(user=team[0])
    assert (profile.availability, profile.away_until) == (Availability.AVAILABLE, None)


def test_away_until_must_be_in_the_future_and_only_for_away(cast, team):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        set_availability(
            cast.admin, team[0], Availability.AWAY, away_until=timezone.now() - timedelta(1)
        )
    with pytest.raises(ValidationError):
        set_availability(
            cast.admin, team[0], Availability.OFF_SHIFT, away_until=timezone.now() + timedelta(1)
        )


def test_agents_set_only_their_own_availability(cast, team):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        set_availability(team[0], team[1], Availability.AWAY)
    with pytest.raises(PermissionDenied):
        set_availability(cast.supervisor, team[1], Availability.AWAY)  # not their group
    set_availability(team[0], team[0], Availability.AWAY)
    newcomer = User.objects.create_user("n@kefu.example", "x", name="N", role=Role.AGENT)
    Membership.objects.create(user=newcomer, group=cast.cs, access=Access.FULL)
    set_availability(cast.supervisor, newcomer, Availability.AWAY)
