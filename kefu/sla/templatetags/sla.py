"""``{% ticket_sla ticket %}``: the ticket page's SLA box (countdowns, results, acknowledge and
escalate), so the tickets app's templates show it without the tickets code importing sla."""

from __future__ import annotations

from django import template
from django.utils import timezone

from kefu.sla.actions.clock import target_label
from kefu.sla.forms import EscalateForm
from kefu.sla.models import TARGETS, TicketSLA
from kefu.tickets.access import can_work_ticket

register = template.Library()


@register.inclusion_tag("sla/_ticket_sla.html", takes_context=True)
def ticket_sla(context, ticket):
    user = context["request"].user
    sla = TicketSLA.objects.select_related("policy", "calendar").filter(ticket=ticket).first()
    now = timezone.now()
    rows = []
    if sla is not None:
        for name in TARGETS:
            due = sla.due_at(name)
            warned = name in sla.warned
            status = "breached" if sla.is_breached(name) or (due and due <= now) else ""
            rows.append(
                {
                    "label": target_label(name),
                    "due_at": due,
                    "achieved_at": sla.achieved_at(name),
                    "breached": sla.is_breached(name),
                    "paused": name in sla.remaining_minutes and sla.achieved_at(name) is None,
                    "status": status or ("warning" if warned else "ok"),
                }
            )
    may_work = can_work_ticket(user, ticket)
    return {
        "ticket": ticket,
        "sla": sla,
        "rows": rows,
        "may_work": may_work,
        "may_acknowledge": bool(
            sla
            and ticket.assignee_id == user.pk
            and sla.acknowledgement_at is None
            and (sla.acknowledgement_due_at or "acknowledgement" in sla.remaining_minutes)
        ),
        "escalate_form": EscalateForm() if may_work else None,
        "csrf_token": context.get("csrf_token"),
    }


@register.simple_tag
def first_response_due(ticket) -> object:
    """When the customer can expect the first reply (portal); ``None`` when no target runs."""
    sla = (
        TicketSLA.objects.filter(ticket=ticket)
        .only("first_response_due_at", "first_response_at")
        .first()
    )
    if sla is None or sla.first_response_at is not None:
        return None
    return sla.first_response_due_at
