"""``/tickets/{id}/events``: a ticket's timeline, filtered for customers like its messages."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router

from kefu.api.auth import current_user
from kefu.api.schemas import ErrorOut, EventList, event_data
from kefu.tickets.access import get_ticket_for_user
from kefu.tickets.models import TicketEvent

router = Router(tags=["events"])


@router.get(
    "/{int:ticket_id}/events",
    response={200: EventList, 401: ErrorOut, 404: ErrorOut, 429: ErrorOut},
    url_name="list_events",
    summary="A ticket's timeline, oldest first",
)
def list_events(request: HttpRequest, ticket_id: int):
    user = current_user(request)
    ticket = get_ticket_for_user(user, ticket_id)
    events = TicketEvent.objects.visible_to(user).filter(ticket=ticket).select_related("actor")
    return {"items": [event_data(event) for event in events]}
