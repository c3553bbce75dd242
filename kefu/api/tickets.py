"""``/tickets``: create, list, read and change tickets."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Header, Query, Router, Schema

from kefu.accounts.access import require_staff
from kefu.accounts.models import Group, User
from kefu.api.attachments import decode_attachments
from kefu.api.auth import current_user
from kefu.api.idempotency import IDEMPOTENCY_HELP, run_idempotent
from kefu.api.pagination import keyset_page, search_page
from kefu.api.schemas import (
    ERRORS,
    BulkIn,
    BulkOut,
    CustomerIn,
    LinkIn,
    LinkOut,
    MergeIn,
    SplitIn,
    TicketCreateIn,
    TicketOut,
    TicketPage,
    TicketUpdateIn,
    dump,
    ticket_data,
    ticket_ref,
)
from kefu.customers.actions import find_or_create_contact, normalise_identifiers
from kefu.customers.models import Asset, Contact
from kefu.tickets import serialise
from kefu.tickets.access import get_ticket_for_user, visible_messages
from kefu.tickets.actions import NewTicket, create_ticket, update_ticket
from kefu.tickets.bulk import bulk_update_tickets, take_next_ticket
from kefu.tickets.filters import UNASSIGNED, TicketCriteria, filter_tickets
from kefu.tickets.models import (
    Category,
    Channel,
    Complexity,
    Priority,
    State,
    Ticket,
    TicketLink,
    TicketType,
)
from kefu.tickets.relations import (
    ROLES,
    link_tickets,
    merge_ticket,
    split_ticket,
    unlink_tickets,
)

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
    channel: Channel | None = None
    type: str | None = Field(None, description="A ticket type key (GET /ticket-types).")
    customer: int | None = Field(None, description="A customer (contact) id.")
    category: int | None = Field(None, description="A category id (its sub-categories too).")
    complexity: Complexity | None = None
    asset: int | None = Field(None, description="An asset id.")
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
        return 201, dump(TicketOut, ticket_data(_fetch(user, ticket.pk, visible=False), user))

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


@router.post(
    "/take-next",
    response={200: TicketOut, 204: None, **ERRORS},
    url_name="take_next_ticket",
    summary="Assign yourself the oldest unassigned ticket of your groups (204: none waiting)",
)
def take_next(request: HttpRequest):
    user = current_user(request)
    ticket = take_next_ticket(user)
    if ticket is None:
        return 204, None
    return ticket_data(_fetch(user, ticket.pk), user)


@router.post(
    "/bulk",
    response={200: BulkOut, **ERRORS},
    url_name="bulk_update_tickets",
    summary="Change or merge many tickets; each is recorded on its timeline",
)
def bulk_update(request: HttpRequest, payload: BulkIn):
    user = current_user(request)
    require_staff(user, _("Only staff change tickets in bulk."))
    changes = payload.model_dump(exclude_unset=True, exclude={"tickets", "reason", "merge_into"})
    for name, value in changes.items():
        if value is None and name != "assignee":
            raise ValidationError({name: _("This field cannot be null.")})
    if "group" in changes:
        changes["group"] = _group(changes["group"])
    if changes.get("assignee") is not None:
        changes["assignee"] = _assignee(changes["assignee"])
    merge_into = None
    if payload.merge_into is not None:
        merge_into = _related_ticket(user, payload.merge_into, "merge_into")
    result = bulk_update_tickets(
        user, payload.tickets, reason=payload.reason, merge_into=merge_into, **changes
    )
    return {
        "succeeded": [ticket.pk for ticket in result.succeeded],
        "failed": [
            {"ticket": failure.ticket_id, "number": failure.number, "message": failure.message}
            for failure in result.failed
        ],
    }


@router.get(
    "/{int:ticket_id}",
    response={200: TicketOut, **ERRORS},
    url_name="get_ticket",
    summary="Read a ticket",
)
def read_ticket(request: HttpRequest, ticket_id: int):
    user = current_user(request)
    return ticket_data(_fetch(user, get_ticket_for_user(user, ticket_id).pk), user)


@router.patch(
    "/{int:ticket_id}",
    response={200: TicketOut, **ERRORS},
    url_name="update_ticket",
    summary="Change a ticket",
)
def change_ticket(request: HttpRequest, ticket_id: int, payload: TicketUpdateIn):
    user = current_user(request)
    ticket = get_ticket_for_user(user, ticket_id, write=True)
    update_ticket(user, ticket, reason=payload.reason, **_changes(payload, user, ticket))
    # Moved to a group the user cannot see: they still get the answer to their own change.
    return ticket_data(_fetch(user, ticket.pk, visible=False), user)


@router.post(
    "/{int:ticket_id}/links",
    response={201: LinkOut, **ERRORS},
    url_name="link_ticket",
    summary="Link another ticket: related, duplicate, or child",
)
def add_link(request: HttpRequest, ticket_id: int, payload: LinkIn):
    user = current_user(request)
    ticket = get_ticket_for_user(user, ticket_id, write=True)
    other = _related_ticket(user, payload.ticket, "ticket")
    link = link_tickets(user, ticket, other, payload.kind)
    return 201, {
        "id": link.pk,
        "kind": link.kind,
        "role": ROLES[(link.kind, True)],
        "ticket": ticket_ref(other),
    }


@router.delete(
    "/{int:ticket_id}/links/{int:link_id}",
    response={204: None, **ERRORS},
    url_name="unlink_ticket",
    summary="Remove a link",
)
def remove_link(request: HttpRequest, ticket_id: int, link_id: int):
    user = current_user(request)
    ticket = get_ticket_for_user(user, ticket_id, write=True)
    link = (
        TicketLink.objects.filter(Q(source=ticket) | Q(target=ticket))
        .select_related("source", "target")
        .filter(pk=link_id)
        .first()
    )
    if link is None:
        raise Http404("No such link")
    unlink_tickets(user, ticket, link)
    return 204, None


@router.post(
    "/{int:ticket_id}/merge",
    response={200: TicketOut, **ERRORS},
    url_name="merge_ticket",
    summary="Merge this ticket into another one; returns the survivor",
)
def merge(request: HttpRequest, ticket_id: int, payload: MergeIn):
    user = current_user(request)
    ticket = get_ticket_for_user(user, ticket_id, write=True)
    into = _related_ticket(user, payload.into, "into")
    survivor = merge_ticket(
        user, ticket, into, comment=payload.comment, notify_customer=payload.notify_customer
    )
    return ticket_data(_fetch(user, survivor.pk), user)


@router.post(
    "/{int:ticket_id}/split",
    response={201: TicketOut, **ERRORS},
    url_name="split_ticket",
    summary="Move a message to a new ticket linked to this one",
)
def split(request: HttpRequest, ticket_id: int, payload: SplitIn):
    user = current_user(request)
    ticket = get_ticket_for_user(user, ticket_id, write=True)
    message = visible_messages(user, ticket).filter(pk=payload.message).first()
    if message is None:
        raise ValidationError(
            {"message": _("This ticket has no message with id %(id)s.") % {"id": payload.message}}
        )
    new = split_ticket(user, ticket, message, subject=payload.subject)
    return 201, ticket_data(_fetch(user, new.pk), user)


# --- helpers --------------------------------------------------------------------------------


def ticket_queryset(user: User) -> QuerySet[Ticket]:
    """Visible tickets with everything a list item shows, in a fixed number of queries."""
    return with_relations(Ticket.objects.visible_to(user), user)


def with_relations(tickets: QuerySet[Ticket], user: User) -> QuerySet[Ticket]:
    return serialise.with_relations(tickets, for_staff=user.is_staff_member)


def _fetch(user: User, ticket_id: int, *, visible: bool = True) -> Ticket:
    """A ticket with everything ``ticket_data`` shows (after an action changed it).
    ``visible=False`` for a ticket the user just created, maybe in a group they cannot see."""
    tickets = ticket_queryset(user) if visible else with_relations(Ticket.objects.all(), user)
    ticket = tickets.filter(pk=ticket_id).first()
    if ticket is None:
        raise Http404("No such ticket")
    return ticket


def _related_ticket(user: User, ticket_id: int, field: str) -> Ticket:
    """Another ticket a request names; one the user cannot see is an invalid value, not a 404."""
    try:
        return get_ticket_for_user(user, ticket_id)
    except Http404:
        raise ValidationError(
            {field: _("There is no ticket with id %(id)s.") % {"id": ticket_id}}
        ) from None


def _asset(user: User, asset_id: int) -> Asset:
    assets = Asset.objects.select_related("product")
    if user.is_customer:
        own = getattr(user, "contact", None)
        condition = Q(contact=own)
        if own is not None and own.organization_id:
            condition |= Q(organization_id=own.organization_id)
        assets = assets.filter(condition) if own is not None else assets.none()
    asset = assets.filter(pk=asset_id).first()
    if asset is None:
        raise ValidationError({"asset": _("There is no asset with id %(id)s.") % {"id": asset_id}})
    return asset


def _category(category_id: int) -> Category:
    category = Category.objects.filter(pk=category_id).first()
    if category is None:
        raise ValidationError(
            {"category": _("There is no category with id %(id)s.") % {"id": category_id}}
        )
    return category


def _filtered(tickets: QuerySet[Ticket], filters: TicketFilters, user: User) -> QuerySet[Ticket]:
    assignee: int | str | None = filters.assignee
    if filters.assignee == "me":
        assignee = user.pk
    elif filters.assignee not in (None, UNASSIGNED):
        if not filters.assignee.isdigit():
            raise ValidationError({"assignee": _("Give a user id, me, or none.")})
        assignee = int(filters.assignee)
    if filters.type is not None and not TicketType.objects.filter(key=filters.type).exists():
        keys = ", ".join(TicketType.objects.values_list("key", flat=True))
        raise ValidationError(
            {
                "type": _("Unknown ticket type %(key)s; use one of: %(keys)s")
                % {"key": filters.type, "keys": keys}
            }
        )
    criteria = TicketCriteria(
        state=filters.state,
        priority=filters.priority,
        group_id=filters.group,
        assignee=assignee,
        channel=filters.channel,
        type_key=filters.type,
        customer=filters.customer,
        category_id=filters.category,
        complexity=filters.complexity,
        asset_id=filters.asset,
    )
    return filter_tickets(tickets, criteria)


def _create_ticket(user: User, payload: TicketCreateIn) -> Ticket:
    # One transaction: a contact created for this ticket disappears again if the ticket fails.
    with transaction.atomic():
        return create_ticket(
            user,
            NewTicket(
                subject=payload.subject,
                body=payload.body,
                contact=_customer_contact(user, payload.customer),
                channel=payload.channel or Channel.API,
                priority=payload.priority,
                type_key=payload.type,
                group=_group(payload.group) if payload.group is not None else None,
                tags=payload.tags,
                attachments=decode_attachments(payload.attachments),
                asset=_asset(user, payload.asset) if payload.asset is not None else None,
                category=_category(payload.category) if payload.category is not None else None,
                complexity=payload.complexity,
                custom_fields=payload.custom_fields,
                parent=(
                    _related_ticket(user, payload.parent, "parent")
                    if payload.parent is not None
                    else None
                ),
            ),
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


NULLABLE = {"assignee", "asset", "category", "complexity", "parent"}


def _changes(payload: TicketUpdateIn, user: User, ticket: Ticket) -> dict[str, Any]:
    """The fields the request sets, with ids turned into objects; ``null`` only where a field
    can be cleared."""
    changes = payload.model_dump(exclude_unset=True, exclude={"reason"})
    for name, value in changes.items():
        if value is None and name not in NULLABLE:
            raise ValidationError({name: _("This field cannot be null.")})
    if "group" in changes:
        changes["group"] = _group(changes["group"])
    if changes.get("assignee") is not None:
        changes["assignee"] = _assignee(changes["assignee"])
    if changes.get("asset") is not None:
        changes["asset"] = _asset(user, changes["asset"])
    if changes.get("category") is not None:
        changes["category"] = _category(changes["category"])
    if "complexity" in changes:
        changes["complexity"] = changes["complexity"] or ""
    if changes.get("parent") is not None:
        changes["parent"] = _related_ticket(user, changes["parent"], "parent")
    return changes
