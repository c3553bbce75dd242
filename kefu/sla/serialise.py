"""The ``sla`` section of the ticket object (``kefu.tickets.serialise``): the targets' due and
achieved times, for the API and webhooks."""

from __future__ import annotations

from typing import Any

from kefu.sla.models import TARGETS, TicketSLA
from kefu.tickets.serialise import ref

RELATIONS = ("sla__policy", "sla__calendar")


def ticket_sla_data(ticket: Any) -> dict[str, Any] | None:
    """Expects ``sla``, ``sla__policy`` and ``sla__calendar`` selected (list endpoints)."""
    try:
        sla: TicketSLA = ticket.sla
    except TicketSLA.DoesNotExist:
        return None
    data: dict[str, Any] = {
        "policy": ref(sla.policy),
        "calendar": ref(sla.calendar),
        "breached": sla.breached_targets,
        "paused_minutes": sla.paused_minutes,
        "escalation_level": sla.escalation_level,
    }
    for name in TARGETS:
        data[f"{name}_due_at"] = sla.due_at(name)
        data[f"{name}_at"] = sla.achieved_at(name)
    return data
