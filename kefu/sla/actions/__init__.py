"""Every SLA write: ``clock`` (ticket deadlines, the tick, acknowledge, escalate) and ``config``
(calendars, dates, policies, targets, escalation levels)."""

from kefu.sla.actions.clock import (
    acknowledge_ticket,
    escalate_ticket,
    policy_for,
    process_due_slas,
    start_clock,
    working_calendar,
)
from kefu.sla.actions.config import (
    deactivate_policy,
    import_calendar_dates,
    remove_calendar_date,
    remove_escalation_level,
    save_calendar,
    save_escalation_level,
    save_policy,
    set_calendar_date,
    set_target,
)

__all__ = [
    "acknowledge_ticket",
    "deactivate_policy",
    "escalate_ticket",
    "import_calendar_dates",
    "policy_for",
    "process_due_slas",
    "remove_calendar_date",
    "remove_escalation_level",
    "save_calendar",
    "save_escalation_level",
    "save_policy",
    "set_calendar_date",
    "set_target",
    "start_clock",
    "working_calendar",
]
