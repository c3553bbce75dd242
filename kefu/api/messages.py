"""``/tickets/{id}/messages``: the replies and internal notes of a ticket."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Header, Router

from kefu.api.attachments import decode_attachments
from kefu.api.auth import current_user
from kefu.api.idempotency import IDEMPOTENCY_HELP, run_idempotent
from kefu.api.schemas import ERRORS, MessageIn, MessageList, MessageOut, dump, message_data
from kefu.tickets.access import get_ticket_for_user, visible_messages
from kefu.tickets.actions import add_message
from kefu.tickets.models import Channel

router = Router(tags=["messages"])


@router.get(
    "/{int:ticket_id}/messages",
    response={200: MessageList, **ERRORS},
    url_name="list_messages",
    summary="List a ticket's messages (customers never see internal notes)",
)
def list_messages(request: HttpRequest, ticket_id: int):
    user = current_user(request)
    ticket = get_ticket_for_user(user, ticket_id)
    return {"items": [message_data(request, message) for message in visible_messages(user, ticket)]}


@router.post(
    "/{int:ticket_id}/messages",
    response={201: MessageOut, **ERRORS},
    url_name="add_message",
    summary="Reply, or add an internal note (staff only)",
)
def post_message(
    request: HttpRequest,
    ticket_id: int,
    payload: MessageIn,
    idempotency_key: str | None = Header(
        None, alias="Idempotency-Key", description=IDEMPOTENCY_HELP
    ),
):
    user = current_user(request)

    def action() -> tuple[int, dict]:
        ticket = get_ticket_for_user(user, ticket_id, write=True)
        message = add_message(
            user,
            ticket,
            body=payload.body,
            body_html=payload.body_html,
            internal=payload.internal,
            attachments=decode_attachments(payload.attachments),
            channel=Channel.API,
        )
        return 201, dump(MessageOut, message_data(request, message))

    return run_idempotent(request, user, idempotency_key, action)
