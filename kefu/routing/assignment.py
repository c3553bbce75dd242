"""Choosing an agent inside a group: the strategies, who is skipped and why.

``choose_agent`` must run inside the caller's transaction: it locks the group's ``GroupRouting``
row (``SELECT … FOR UPDATE``) before it reads open counts or the rotation pointer and keeps the
lock until the caller's commit, so concurrent assignments in one group are serialised and each sees
the previous one's result. On SQLite the write transaction (``IMMEDIATE``) serialises them anyway.

Fairness for agents coming back (from away, off shift, or below capacity again):

- round robin keeps a pointer (the last assigned user id) and continues after it in user-id
  order; an agent who was away simply takes their turn again when the pointer reaches them.
- weighted uses smooth weighted round robin (the nginx algorithm); only eligible agents gain
  weight, so nothing accumulates while someone is away.
- load and skills pick the fewest open tickets (ties: the agent assigned longest ago), but one
  agent gets at most ``max_in_a_row`` consecutive tickets of the group while someone else is
  eligible — a returning agent with no tickets catches up over several rounds instead of taking
  a whole burst.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kefu.accounts.access import assignable_agents
from kefu.accounts.models import Group, Role, User
from kefu.lib import config_cache
from kefu.routing.models import AgentProfile, Availability, GroupRouting, Strategy
from kefu.sla.deadlines import WorkingCalendar, is_working_time, parse_working_hours
from kefu.tickets.models import OPEN_STATES, Ticket

EPOCH = datetime(1970, 1, 1, tzinfo=ZoneInfo("UTC"))


@dataclass
class Candidate:
    user: User
    profile: AgentProfile
    open_count: int
    skip: str = ""
    score: int = 0
    matched_skills: list[str] = field(default_factory=list)


@dataclass
class Decision:
    user: User | None
    strategy: str
    explanation: str
    candidates: list[Candidate] = field(default_factory=list)


def in_site_language(render) -> str:
    """Reasons are stored text, written in the site's language like a note a person would add."""
    with translation.override(settings.LANGUAGE_CODE):
        return render()


def profile_for(user: User) -> AgentProfile:
    found = AgentProfile.objects.filter(user=user).first()
    return found or AgentProfile(user=user)


def is_on_shift(profile: AgentProfile, now: datetime) -> bool:
    if not profile.shift_hours:
        return True
    try:
        zone = profile.time_zone or settings.TIME_ZONE
        ZoneInfo(zone)
        calendar = WorkingCalendar(time_zone=zone, hours=parse_working_hours(profile.shift_hours))
    except (ValueError, ZoneInfoNotFoundError):
        return True  # a broken shift definition must not make an agent unreachable
    return is_working_time(now, calendar)


def skip_reason(profile: AgentProfile, open_count: int, now: datetime) -> str:
    if profile.is_away(now):
        if profile.away_until:
            return _("away until %(when)s") % {
                "when": timezone.localtime(profile.away_until).strftime("%Y-%m-%d %H:%M")
            }
        return _("away")
    if profile.availability == Availability.OFF_SHIFT:
        return _("off shift")
    if not is_on_shift(profile, now):
        return _("outside shift hours")
    if profile.capacity and open_count >= profile.capacity:
        return _("at capacity (%(open)s/%(capacity)s open)") % {
            "open": open_count,
            "capacity": profile.capacity,
        }
    return ""


# A group's running rotation state; saving only these leaves configuration snapshots valid.
ROTATION_FIELDS = [
    "last_assigned_user",
    "streak",
    "weights_state",
    "assigned_count",
    "last_assigned_at",
]


def lock_group_routing(group: Group) -> GroupRouting:
    """The group's routing row, created if missing, locked until the caller's transaction ends."""
    if not GroupRouting.objects.filter(group=group).exists():
        try:
            with transaction.atomic():
                GroupRouting.objects.create(group=group)
        except IntegrityError:
            pass  # a concurrent creator won; lock theirs
    return GroupRouting.objects.select_for_update().get(group=group)


def group_strategies() -> dict[int, str]:
    """Group id → configured strategy, for the groups that have a routing row (a snapshot)."""
    return config_cache.snapshot(
        "routing.strategies",
        lambda: dict(GroupRouting.objects.values_list("group_id", "strategy")),
    )


def ticket_labels(ticket: Ticket) -> dict[str, str]:
    """The ticket's skill labels, lower-cased → shown: tags, category, product category and
    model, language."""
    from kefu.routing.conditions import facts_for

    labels: list[str] = list(ticket.tags.values_list("name", flat=True))
    if ticket.category is not None:
        labels.append(ticket.category.name)
    facts = facts_for(ticket)
    if facts.product_category:
        labels.append(facts.product_category)
    if ticket.asset is not None:
        labels.append(ticket.asset.product.model_number)
    if facts.language:
        labels.append(facts.language)
    return {label.lower(): label for label in labels if label}


def gather_candidates(
    group: Group, *, exclude: list[int], now: datetime
) -> tuple[list[Candidate], list[Candidate]]:
    """(eligible, skipped) agents of the group in user-id order."""
    users = list(
        assignable_agents(group).filter(role=Role.AGENT).exclude(pk__in=exclude).order_by("pk")
    )
    profiles = {p.user_id: p for p in AgentProfile.objects.filter(user__in=users)}
    counts = dict(
        Ticket.objects.filter(assignee__in=users, state__in=OPEN_STATES)
        .values_list("assignee")
        .annotate(n=Count("pk"))
        .values_list("assignee", "n")
    )
    eligible: list[Candidate] = []
    skipped: list[Candidate] = []
    for user in users:
        profile = profiles.get(user.pk) or AgentProfile(user=user)
        candidate = Candidate(user=user, profile=profile, open_count=counts.get(user.pk, 0))
        candidate.skip = skip_reason(profile, candidate.open_count, now)
        (skipped if candidate.skip else eligible).append(candidate)
    return eligible, skipped


def _by_load(candidates: list[Candidate]) -> list[Candidate]:
    return sorted(
        candidates,
        key=lambda c: (c.open_count, c.profile.last_assigned_at or EPOCH, c.user.pk),
    )


def _limit_streak(ordered: list[Candidate], routing: GroupRouting) -> tuple[Candidate, str]:
    best = ordered[0]
    limit = routing.max_in_a_row
    if (
        limit
        and len(ordered) > 1
        and routing.last_assigned_user_id == best.user.pk
        and routing.streak >= limit
    ):
        return ordered[1], _(
            "%(user)s already had %(n)s in a row, so the next agent takes this one"
        ) % {"user": best.user, "n": routing.streak}
    return best, ""


def _round_robin(eligible: list[Candidate], routing: GroupRouting) -> tuple[Candidate, str]:
    pointer = routing.last_assigned_user_id or 0
    chosen = next((c for c in eligible if c.user.pk > pointer), eligible[0])
    return chosen, _("next in turn")


def _weighted(eligible: list[Candidate], routing: GroupRouting) -> tuple[Candidate, str]:
    state = {str(k): int(v) for k, v in (routing.weights_state or {}).items()}
    total = 0
    for candidate in eligible:
        weight = max(1, candidate.profile.weight or 1)
        total += weight
        state[str(candidate.user.pk)] = state.get(str(candidate.user.pk), 0) + weight
    chosen = max(eligible, key=lambda c: (state[str(c.user.pk)], -c.user.pk))
    state[str(chosen.user.pk)] -= total
    routing.weights_state = state
    return chosen, _("weight %(weight)s of %(total)s") % {
        "weight": max(1, chosen.profile.weight or 1),
        "total": total,
    }


def _skills(
    eligible: list[Candidate], routing: GroupRouting, ticket: Ticket
) -> tuple[Candidate, str]:
    labels = ticket_labels(ticket)
    for candidate in eligible:
        skills = {str(s).lower() for s in candidate.profile.skills or []}
        candidate.matched_skills = [labels[s] for s in labels if s in skills]
        candidate.score = len(candidate.matched_skills)
    best_score = max(c.score for c in eligible)
    if best_score == 0:
        chosen, note = _limit_streak(_by_load(eligible), routing)
        why = _("nobody has a matching skill (%(labels)s); fewest open tickets") % {
            "labels": ", ".join(labels.values()) or "—"
        }
        return chosen, "; ".join(filter(None, [why, note]))
    skilled = [c for c in eligible if c.score == best_score]
    chosen, note = _limit_streak(_by_load(skilled), routing)
    why = _("skills %(skills)s, open tickets: %(open)s") % {
        "skills": ", ".join(chosen.matched_skills) or "—",
        "open": chosen.open_count,
    }
    return chosen, "; ".join(filter(None, [why, note]))


def choose_agent(
    group: Group,
    ticket: Ticket,
    *,
    exclude: list[User] | tuple[User, ...] = (),
    strategy: str | None = None,
    now: datetime | None = None,
    commit: bool = True,
) -> Decision:
    """Pick the next agent of ``group`` for ``ticket`` under the group's strategy (or
    ``strategy``), skipping excluded, away, off-shift and full agents. With ``commit`` the
    rotation state moves on (the caller then assigns the ticket in the same transaction)."""
    now = now or timezone.now()
    if strategy is None:
        # Most groups assign nobody: decide that without creating or locking their row.
        if group_strategies().get(group.pk, Strategy.NONE) == Strategy.NONE:
            return Decision(None, Strategy.NONE, "")
    routing = lock_group_routing(group)
    strategy = strategy or routing.strategy
    if strategy == Strategy.NONE:
        return Decision(None, strategy, "")
    eligible, skipped = gather_candidates(group, exclude=[u.pk for u in exclude], now=now)
    label = Strategy(strategy).label
    skipped_text = "; ".join(f"{c.user} ({c.skip})" for c in skipped)

    def explain(chosen: Candidate | None, why: str) -> str:
        def render() -> str:
            parts = []
            if chosen is not None:
                parts.append(
                    _("%(strategy)s in %(group)s: assigned to %(user)s (%(why)s).")
                    % {"strategy": label, "group": group, "user": chosen.user, "why": why}
                )
            else:
                parts.append(
                    _("%(strategy)s in %(group)s: no agent is available.")
                    % {"strategy": label, "group": group}
                )
            if skipped_text:
                parts.append(_("Skipped: %(skipped)s.") % {"skipped": skipped_text})
            if exclude:
                parts.append(
                    _("Excluded: %(users)s.") % {"users": ", ".join(str(u) for u in exclude)}
                )
            return " ".join(parts)

        return in_site_language(render)

    if not eligible:
        return Decision(None, strategy, explain(None, ""), skipped)
    with translation.override(settings.LANGUAGE_CODE):
        if strategy == Strategy.ROUND_ROBIN:
            chosen, why = _round_robin(eligible, routing)
        elif strategy == Strategy.WEIGHTED:
            chosen, why = _weighted(eligible, routing)
        elif strategy == Strategy.SKILLS:
            chosen, why = _skills(eligible, routing, ticket)
        else:
            chosen, note = _limit_streak(_by_load(eligible), routing)
            why = _("fewest open tickets (%(open)s)") % {"open": chosen.open_count}
            if note:
                why = f"{why}; {note}"
    if commit:
        if routing.last_assigned_user_id == chosen.user.pk:
            routing.streak += 1
        else:
            routing.last_assigned_user_id, routing.streak = chosen.user.pk, 1
        routing.assigned_count += 1
        routing.last_assigned_at = now
        routing.save(update_fields=ROTATION_FIELDS)
        updated = AgentProfile.objects.filter(user=chosen.user).update(last_assigned_at=now)
        if not updated:
            AgentProfile.objects.get_or_create(user=chosen.user, defaults={"last_assigned_at": now})
    return Decision(chosen.user, strategy, explain(chosen, why), eligible + skipped)


def agent_overview(users) -> list[Candidate]:
    """Each staff user with their profile and open-ticket count (three queries), for the agents
    page and API; ``skip`` says why automatic assignment passes them over right now."""
    users = list(users.order_by("name", "pk"))
    profiles = {p.user_id: p for p in AgentProfile.objects.filter(user__in=users)}
    counts = dict(
        Ticket.objects.filter(assignee__in=users, state__in=OPEN_STATES)
        .values_list("assignee")
        .annotate(n=Count("pk"))
        .values_list("assignee", "n")
    )
    now = timezone.now()
    rows = []
    for user in users:
        profile = profiles.get(user.pk) or AgentProfile(user=user)
        row = Candidate(user=user, profile=profile, open_count=counts.get(user.pk, 0))
        row.skip = skip_reason(profile, row.open_count, now)
        rows.append(row)
    return rows
