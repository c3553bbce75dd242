"""What the SLA engine writes on a ticket's timeline and whom it tells: warnings, breaches and
escalations become domain events (``kefu.tickets.events``) that the notifications app delivers in
the app and by e-mail as each person chose; open ticket pages refresh live."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from django.conf import settings
from django.utils import timezone, translation
from django.utils.formats import date_format

from kefu.accounts.models import Group, Membership, Role, User
from kefu.realtime.publish import publish as publish_realtime
from kefu.realtime.publish import ticket_group_name
from kefu.sla.models import EscalationLevel
from kefu.tickets import events
from kefu.tickets.models import Ticket, TicketEvent


def timeline_row(
    ticket: Ticket, type_: str, *, actor: User | None = None, new_value: str = "", reason: str = ""
) -> TicketEvent:
    return TicketEvent.objects.create(
        ticket=ticket,
        actor=actor,
        type=type_,
        new_value=new_value,
        reason=reason,
        is_internal=True,
    )


def in_site_language(render) -> str:
    """Reasons are stored text: written in the site's language, like a note a person would add."""
    with translation.override(settings.LANGUAGE_CODE):
        return render()


def when(instant: datetime) -> str:
    return date_format(timezone.localtime(instant), "DATETIME_FORMAT")


def supervisor_ids(group: Group) -> list[int]:
    return list(
        Membership.objects.filter(
            group=group, user__role=Role.SUPERVISOR, user__is_active=True
        ).values_list("user_id", flat=True)
    )


def people_to_warn(ticket: Ticket) -> frozenset[int]:
    if ticket.assignee_id:
        return frozenset({ticket.assignee_id})
    return frozenset(supervisor_ids(ticket.group))


def level_recipients(ticket: Ticket, level: EscalationLevel) -> set[int]:
    recipients: set[int] = set()
    if level.notify_assignee and ticket.assignee_id:
        recipients.add(ticket.assignee_id)
    if level.notify_supervisors:
        recipients.update(supervisor_ids(ticket.group))
    recipients.update(level.notify_users.filter(is_active=True).values_list("pk", flat=True))
    return recipients


def refresh_ticket_pages(ticket: Ticket) -> None:
    """Open pages of the ticket reload their timeline (after commit)."""
    publish_realtime([ticket_group_name(ticket.pk)], {"kind": "sla", "ticket_id": ticket.pk})


def announce(event: events.SlaWarning | events.SlaBreached | events.TicketEscalated) -> None:
    """Tell the people concerned through the domain event (the notifications app stores, shows and
    e-mails it as each person chose) and refresh the ticket's open pages."""
    events.publish(event)
    refresh_ticket_pages(cast(Ticket, event.ticket))
