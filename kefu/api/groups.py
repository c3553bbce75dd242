"""``/groups`` (departments) and ``/ticket-types``: the ids and keys that requests refer to."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router

from kefu.accounts.models import Group
from kefu.api.auth import current_user
from kefu.api.schemas import ErrorOut, GroupList, TicketTypeList
from kefu.tickets.models import TicketType

router = Router(tags=["reference"])


@router.get(
    "/groups",
    response={200: GroupList, 401: ErrorOut, 403: ErrorOut, 429: ErrorOut},
    url_name="list_groups",
    summary="Departments (staff only)",
)
def list_groups(request: HttpRequest):
    if not current_user(request).is_staff_member:
        raise PermissionDenied(_("Only staff can list groups."))
    # Every active group, not only the caller's: staff hand tickets over to other departments.
    groups = Group.objects.filter(is_active=True)
    return {"items": [{"id": group.pk, "name": group.name} for group in groups]}


@router.get(
    "/ticket-types",
    response={200: TicketTypeList, 401: ErrorOut, 429: ErrorOut},
    url_name="list_ticket_types",
    summary="Ticket types",
)
def list_ticket_types(request: HttpRequest):
    types = TicketType.objects.filter(is_active=True)
    return {"items": [{"key": kind.key, "name": str(kind)} for kind in types]}
