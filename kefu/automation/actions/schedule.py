"""Time rules: due times written when a ticket enters a state, claimed and run by the tick.

``schedule_ticket`` runs inside the ticket action's transaction (creation, every state change):
rows of rules for the state the ticket left lose their due time, rows of rules for the state it
entered get ``entered_at + delay``. The tick (``process_due_time_rules``) reads only due rows
through the partial index on ``due_at`` and claims each with a conditional UPDATE, so its cost
follows the number of due rows, never the number of tickets, and two tick processes never run
the same row. A row fires once per stay in the state; re-entering the state schedules it again.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.automation.actions.engine import firing_scope, in_site_language, perform
from kefu.automation.models import ScheduleOutcome, TimeRule, TimeRuleSchedule
from kefu.automation.rules import Situation, conditions_hold
from kefu.lib import config_cache
from kefu.tickets.models import Ticket, TicketEvent

logger = logging.getLogger(__name__)

TICK_BATCH = 200


def active_time_rules() -> list[TimeRule]:
    """The active time rules (a per-process snapshot; read-only)."""
    return config_cache.snapshot(
        "automation.time_rules", lambda: list(TimeRule.objects.filter(is_active=True))
    )


def schedule_ticket(
    ticket: Ticket, state: str, entered_at: datetime | None = None, *, new: bool = False
) -> None:
    """Due times for the time rules of ``state``; ``new``: the ticket has no schedules yet."""
    entered_at = entered_at or timezone.now()
    if not new:
        TimeRuleSchedule.objects.filter(ticket=ticket, due_at__isnull=False).exclude(
            rule__state=state
        ).update(due_at=None)
    for rule in (r for r in active_time_rules() if r.state == state):
        TimeRuleSchedule.objects.update_or_create(
            rule=rule,
            ticket=ticket,
            defaults={
                "entered_at": entered_at,
                "due_at": entered_at + timedelta(hours=rule.delay_hours),
                "outcome": ScheduleOutcome.WAITING,
                "error": "",
            },
        )


def reschedule_rule(rule: TimeRule) -> int:
    """After a rule is saved: due times for the tickets now in its state (from when they
    entered it), none for the others. A stay the rule already acted on is not acted on again."""
    pending = TimeRuleSchedule.objects.filter(rule=rule, due_at__isnull=False)
    if not rule.is_active:
        pending.update(due_at=None)
        return 0
    pending.exclude(ticket__state=rule.state).update(due_at=None)
    entered = (
        TicketEvent.objects.filter(ticket=OuterRef("pk"), field="state", new_value=rule.state)
        .order_by("-created_at", "-pk")
        .values("created_at")[:1]
    )
    tickets = (
        Ticket.objects.filter(state=rule.state)
        .annotate(entered=Coalesce(Subquery(entered), F("created_at")))
        .values_list("pk", "entered")
    )
    existing = {row.ticket_id: row for row in TimeRuleSchedule.objects.filter(rule=rule)}
    delay = timedelta(hours=rule.delay_hours)
    new, changed = [], []
    for ticket_id, entered_at in tickets:
        row = existing.get(ticket_id)
        if row is None:
            new.append(
                TimeRuleSchedule(
                    rule=rule, ticket_id=ticket_id, entered_at=entered_at, due_at=entered_at + delay
                )
            )
        elif row.fired_at is None or row.fired_at < entered_at:
            row.entered_at, row.due_at = entered_at, entered_at + delay
            row.outcome, row.error = ScheduleOutcome.WAITING, ""
            changed.append(row)
    TimeRuleSchedule.objects.bulk_create(new, batch_size=500)
    TimeRuleSchedule.objects.bulk_update(
        changed, ["entered_at", "due_at", "outcome", "error"], batch_size=500
    )
    return len(new) + len(changed)


def process_due_time_rules(now: datetime | None = None, limit: int = TICK_BATCH) -> int:
    """Run the time rules due on tickets (rows claimed with a conditional UPDATE on ``due_at``)."""
    now = now or timezone.now()
    due = list(
        TimeRuleSchedule.objects.filter(due_at__lte=now)
        .order_by("due_at")
        .values_list("pk", "due_at")[:limit]
    )
    handled = 0
    for pk, due_at in due:
        try:
            with transaction.atomic():
                claimed = TimeRuleSchedule.objects.filter(pk=pk, due_at=due_at).update(
                    due_at=None, fired_at=now
                )
                if claimed:
                    _run(pk)
                    handled += 1
        except Exception as error:
            # Not retried: a rule that fails once (a deactivated group) would fail every tick.
            logger.exception("time rule schedule %s failed", pk)
            TimeRuleSchedule.objects.filter(pk=pk).update(
                due_at=None, fired_at=now, outcome=ScheduleOutcome.FAILED, error=str(error)[:2000]
            )
            TimeRule.objects.filter(schedules__pk=pk).update(last_error=str(error)[:2000])
    return handled


def _run(pk: int) -> None:
    schedule = TimeRuleSchedule.objects.select_related("rule", "ticket").get(pk=pk)
    rule, ticket = schedule.rule, schedule.ticket
    situation = Situation(ticket=ticket)
    if (
        not rule.is_active
        or ticket.state != rule.state
        or not conditions_hold(rule.conditions, situation)
    ):
        TimeRuleSchedule.objects.filter(pk=pk).update(outcome=ScheduleOutcome.SKIPPED)
        return
    reason = in_site_language(lambda: _("Time rule: %(name)s") % {"name": rule.name})
    # The same firing scope as triggers: the triggers this rule's changes set off are loop-safe.
    with firing_scope():
        perform(rule.actions, ticket, reason=reason, source=reason)
    TimeRuleSchedule.objects.filter(pk=pk).update(outcome=ScheduleOutcome.DONE)
    TimeRule.objects.filter(pk=rule.pk).update(
        fired_count=F("fired_count") + 1, last_fired_at=timezone.now()
    )
