"""``/tickets``: create, list, read and change tickets."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Header, Query, Router, Schema

from kefu.accounts.models import Group, User
from kefu.api.attachments import decode_attachments
from kefu.api.auth import current_user
from kefu.api.idempotency import IDEMPOTENCY_HELP, run_idempotent
from kefu.api.pagination import keyset_page, search_page
from kefu.api.schemas import (
    ERRORS,
    CustomerIn,
    TicketCreateIn,
    TicketOut,
    TicketPage,
    TicketUpdateIn,
    dump,
    ticket_data,
)
from kefu.customers.actions import find_or_create_contact, normalise_identifiers
from kefu.customers.models import Contact
from kefu.tickets.access import get_ticket_for_user
from kefu.tickets.actions import create_ticket, update_ticket
from kefu.tickets.models import Channel, Priority, State, Ticket

router = Router(tags=["tickets"])

DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100


class TicketFilters(Schema):
    state: State | None = None
    priority: Priority | None = None
    group: int | None = Field(None, description="A group id.")
    assignee: str | None = Field(
        None, description="A user id, `me`, or `none` for unassigned tickets."
    )
    customer: int | None = Field(None, description="A customer (contact) id.")
    q: str | None = Field(
        None,
        max_length=500,
        description=(
            'Search words, `"a phrase"`, `-word`, `state:` `priority:` `customer:` `group:` '
            "`assignee:` filters and `#number` (see docs/search.md). With words, items are "
            "ranked by relevance, then newest; the cursor then pages through the ranked list, "
            "which holds the 1,000 newest matching tickets."
        ),
    )
    limit: int = Field(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
    cursor: str | None = Field(None, description="The next_cursor of the previous page.")


@router.post(
    "", response={201: TicketOut, **ERRORS}, url_name="create_ticket", summary="Open a ticket"
)
def open_ticket(
    request: HttpRequest,
    payload: TicketCreateIn,
    idempotency_key: str | None = Header(
        None, alias="Idempotency-Key", description=IDEMPOTENCY_HELP
    ),
):
    user = current_user(request)

    def action() -> tuple[int, dict]:
        ticket = _create_ticket(user, payload)
        return 201, dump(TicketOut, ticket_data(ticket, user))

    return run_idempotent(request, user, idempotency_key, action)


@router.get(
    "",
    response={200: TicketPage, **ERRORS},
    url_name="list_tickets",
    summary="List tickets, newest first",
)
def list_tickets(request: HttpRequest, filters: Query[TicketFilters]):
    user = current_user(request)
    tickets = _filtered(ticket_queryset(user), filters, user)
    if filters.q:
        page, next_cursor = search_page(user, tickets, filters.q, filters.limit, filters.cursor)
    else:
        page, next_cursor = keyset_page(tickets, limit=filters.limit, cursor=filters.cursor)
    return {"items": [ticket_data(ticket, user) for ticket in page], "next_cursor": next_cursor}


@router.get(
    "/{int:ticket_id}",
    response={200: TicketOut, **ERRORS},
    url_name="get_ticket",
    summary="Read a ticket",
)
def read_ticket(request: HttpRequest, ticket_id: int):
    user = current_user(request)
    return ticket_data(get_ticket_for_user(user, ticket_id), user)


@router.patch(
    "/{int:ticket_id}",
    response={200: TicketOut, **ERRORS},
    url_name="update_ticket",
    summary="Change a ticket",
)
def change_ticket(request: HttpRequest, ticket_id: int, payload: TicketUpdateIn):
    user = current_user(request)
    ticket = get_ticket_for_user(user, ticket_id, write=True)
    ticket = update_ticket(user, ticket, reason=payload.reason, **_changes(payload))
    return ticket_data(ticket, user)


# --- helpers --------------------------------------------------------------------------------


def ticket_queryset(user: User) -> QuerySet[Ticket]:
    """Visible tickets with everything a list item shows, in a fixed number of queries."""
    tickets = Ticket.objects.visible_to(user).select_related(
        "group", "assignee", "type", "contact", "organization", "sla__policy", "sla__calendar"
    )
    return tickets.prefetch_related("tags") if user.is_staff_member else tickets


def _filtered(tickets: QuerySet[Ticket], filters: TicketFilters, user: User) -> QuerySet[Ticket]:
    if filters.state:
        tickets = tickets.filter(state=filters.state)
    if filters.priority:
        tickets = tickets.filter(priority=filters.priority)
    if filters.group is not None:
        tickets = tickets.filter(group_id=filters.group)
    if filters.customer is not None:
        tickets = tickets.filter(contact_id=filters.customer)
    if filters.assignee == "none":
        tickets = tickets.filter(assignee__isnull=True)
    elif filters.assignee == "me":
        tickets = tickets.filter(assignee=user)
    elif filters.assignee is not None:
        if not filters.assignee.isdigit():
            raise ValidationError({"assignee": _("Give a user id, me, or none.")})
        tickets = tickets.filter(assignee_id=int(filters.assignee))
    return tickets


def _create_ticket(user: User, payload: TicketCreateIn) -> Ticket:
    if payload.tags and not user.is_staff_member:
        raise ValidationError({"tags": _("Only staff can tag tickets.")})
    # One transaction: a contact created for this ticket disappears again if the ticket fails.
    with transaction.atomic():
        return create_ticket(
            user,
            subject=payload.subject,
            body=payload.body,
            contact=_customer_contact(user, payload.customer),
            channel=payload.channel or Channel.API,
            priority=payload.priority,
            type_key=payload.type,
            group=_group(payload.group) if payload.group is not None else None,
            tags=payload.tags,
            attachments=decode_attachments(payload.attachments),
        )


def _customer_contact(user: User, customer: CustomerIn | None) -> Contact | None:
    """The contact a new ticket is for; ``None`` lets a customer's ticket default to their own."""
    if user.is_customer:
        if customer is not None and not _is_own_contact(user, customer):
            raise PermissionDenied(
                _("Customers open tickets only for themselves; leave out customer.")
            )
        return None
    if customer is None:
        raise ValidationError(
            {"customer": _("Name the customer this ticket is for (e-mail, phone or WeChat id).")}
        )
    try:
        return find_or_create_contact(
            user,
            name=customer.name or "",
            email=customer.email,
            phone=customer.phone,
            wechat_id=customer.wechat_id,
        )
    except ValidationError as error:
        raise ValidationError(
            {f"customer.{name}": messages for name, messages in error.message_dict.items()}
        ) from None


def _is_own_contact(user: User, customer: CustomerIn) -> bool:
    own = getattr(user, "contact", None)
    if own is None:
        return False
    try:
        email, phone, wechat_id = normalise_identifiers(
            customer.email, customer.phone, customer.wechat_id
        )
    except ValidationError:
        return not (customer.email or customer.phone or customer.wechat_id)
    given = {"email": email, "phone": phone, "wechat_id": wechat_id}
    return all(
        value is None or value.lower() == (getattr(own, name) or "").lower()
        for name, value in given.items()
    )


def _group(group_id: int) -> Group:
    group = Group.objects.filter(pk=group_id).first()
    if group is None:
        raise ValidationError({"group": _("There is no group with id %(id)s.") % {"id": group_id}})
    return group


def _assignee(user_id: int) -> User:
    assignee = User.objects.staff().filter(pk=user_id).first()
    if assignee is None:
        raise ValidationError(
            {"assignee": _("There is no active staff member with id %(id)s.") % {"id": user_id}}
        )
    return assignee


def _changes(payload: TicketUpdateIn) -> dict[str, Any]:
    """The fields the request sets, with ids turned into objects; only ``assignee`` may be null."""
    changes = payload.model_dump(exclude_unset=True, exclude={"reason"})
    for name, value in changes.items():
        if value is None and name != "assignee":
            raise ValidationError({name: _("This field cannot be null.")})
    if "group" in changes:
        changes["group"] = _group(changes["group"])
    if changes.get("assignee") is not None:
        changes["assignee"] = _assignee(changes["assignee"])
    return changes
