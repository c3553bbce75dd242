"""``/ticket-types``: the keys tickets refer to (everyone reads the active ones); administrators
add, rename, reorder and (de)activate types — never delete."""

from __future__ import annotations

from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router

from kefu.accounts.access import is_active_staff
from kefu.api.auth import current_user
from kefu.api.schemas import ERRORS, StrictSchema, TicketTypeList, TicketTypeOut
from kefu.tickets.models import TicketType
from kefu.tickets.ticket_types import save_ticket_type

router = Router(tags=["reference"])


class TicketTypeCreate(StrictSchema):
    key: str = Field(description="Lower-case letters, digits, - and _; fixed once created.")
    name: str
    position: int = Field(0, ge=0)
    active: bool = True


class TicketTypeUpdate(StrictSchema):
    name: str | None = None
    position: int | None = Field(None, ge=0)
    active: bool | None = None


def ticket_type_data(ticket_type: TicketType) -> dict:
    return {
        "key": ticket_type.key,
        "name": str(ticket_type),
        "position": ticket_type.position,
        "active": ticket_type.is_active,
    }


@router.get(
    "/ticket-types",
    response={200: TicketTypeList, **ERRORS},
    url_name="list_ticket_types",
    summary="Ticket types (staff may add include_inactive=true)",
)
def list_ticket_types(request: HttpRequest, include_inactive: bool = False):
    user = current_user(request)
    types = TicketType.objects.all()
    if not (include_inactive and is_active_staff(user)):
        types = types.filter(is_active=True)
    return {"items": [ticket_type_data(kind) for kind in types]}


@router.post(
    "/ticket-types",
    response={201: TicketTypeOut, **ERRORS},
    url_name="create_ticket_type",
    summary="Add a ticket type (administrators)",
)
def create_ticket_type(request: HttpRequest, payload: TicketTypeCreate):
    ticket_type = save_ticket_type(
        current_user(request),
        key=payload.key,
        name=payload.name,
        position=payload.position,
        is_active=payload.active,
    )
    return 201, ticket_type_data(ticket_type)


@router.patch(
    "/ticket-types/{key}",
    response={200: TicketTypeOut, **ERRORS},
    url_name="update_ticket_type",
    summary="Rename, reorder or (de)activate a ticket type (administrators)",
)
def update_ticket_type(request: HttpRequest, key: str, payload: TicketTypeUpdate):
    user = current_user(request)
    ticket_type = TicketType.objects.filter(key=key).first()
    if ticket_type is None:
        raise Http404(_("No ticket type has the key %(key)s.") % {"key": key})
    values = payload.model_dump(exclude_unset=True)
    ticket_type = save_ticket_type(
        user,
        ticket_type,
        name=values.get("name") or ticket_type.name,
        position=ticket_type.position if values.get("position") is None else values["position"],
        is_active=ticket_type.is_active if values.get("active") is None else values["active"],
    )
    return ticket_type_data(ticket_type)
