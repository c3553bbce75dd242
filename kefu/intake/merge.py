"""Participants follow a merged ticket to the survivor (a ``TicketMerged`` handler)."""

from __future__ import annotations

from typing import cast

from kefu.intake.models import TicketParticipant
from kefu.tickets import events
from kefu.tickets.models import Ticket


def on_ticket_merged(event: events.TicketMerged) -> None:
    """Move the merged ticket's participants to the survivor, each once; the merged ticket's
    customer joins them when the survivor belongs to someone else (same organisation)."""
    survivor, merged = cast(Ticket, event.ticket), cast(Ticket, event.merged)
    present = set(
        TicketParticipant.objects.filter(ticket=survivor).values_list("contact_id", flat=True)
    )
    present.add(survivor.contact_id)
    moving = TicketParticipant.objects.filter(ticket=merged)
    moving.exclude(contact_id__in=present).update(ticket=survivor)
    moving.delete()  # what is left was already on the survivor
    contact_id = merged.contact_id
    if contact_id not in present:
        TicketParticipant.objects.get_or_create(ticket=survivor, contact_id=contact_id)
