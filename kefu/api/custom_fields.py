"""``/custom-fields``: the definitions of tickets' custom fields (administrators change them)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Router

from kefu.accounts.access import require_staff
from kefu.accounts.models import User
from kefu.api.auth import current_user
from kefu.api.schemas import (
    ERRORS,
    CustomFieldIn,
    CustomFieldList,
    CustomFieldOut,
    CustomFieldUpdateIn,
    custom_field_data,
)
from kefu.tickets.custom_fields import save_custom_field
from kefu.tickets.models import CustomField, TicketType

router = Router(tags=["custom fields"])

# API names → the action's keywords.
RENAMED = {"required": "is_required", "active": "is_active"}


def _require_staff(user: User) -> None:
    require_staff(user, _("Only staff can read custom field definitions."))


def _ticket_types(keys: list[str]) -> list[TicketType]:
    types = list(TicketType.objects.filter(key__in=keys))
    missing = sorted(set(keys) - {kind.key for kind in types})
    if missing:
        raise ValidationError(
            {"ticket_types": _("Unknown ticket types: %(keys)s") % {"keys": ", ".join(missing)}}
        )
    return types


def _field(pk: int) -> CustomField:
    field = CustomField.objects.prefetch_related("ticket_types").filter(pk=pk).first()
    if field is None:
        raise Http404("No such custom field")
    return field


def _data(payload: dict[str, Any]) -> dict[str, Any]:
    return {RENAMED.get(name, name): value for name, value in payload.items()}


@router.get(
    "/custom-fields",
    response={200: CustomFieldList, **ERRORS},
    url_name="list_custom_fields",
    summary="Custom field definitions (staff only), deactivated ones included",
)
def list_custom_fields(request: HttpRequest):
    _require_staff(current_user(request))
    fields = CustomField.objects.prefetch_related("ticket_types")
    return {"items": [custom_field_data(field) for field in fields]}


@router.post(
    "/custom-fields",
    response={201: CustomFieldOut, **ERRORS},
    url_name="create_custom_field",
    summary="Define a custom field (administrators)",
)
def create_custom_field(request: HttpRequest, payload: CustomFieldIn):
    user = current_user(request)
    data = _data(payload.model_dump(exclude={"ticket_types"}))
    field = save_custom_field(user, ticket_types=_ticket_types(payload.ticket_types), **data)
    return 201, custom_field_data(_field(field.pk))


@router.get(
    "/custom-fields/{int:field_id}",
    response={200: CustomFieldOut, **ERRORS},
    url_name="get_custom_field",
    summary="Read a custom field definition (staff only)",
)
def read_custom_field(request: HttpRequest, field_id: int):
    _require_staff(current_user(request))
    return custom_field_data(_field(field_id))


@router.patch(
    "/custom-fields/{int:field_id}",
    response={200: CustomFieldOut, **ERRORS},
    url_name="update_custom_field",
    summary="Change a custom field definition (administrators)",
)
def update_custom_field(request: HttpRequest, field_id: int, payload: CustomFieldUpdateIn):
    user = current_user(request)
    _require_staff(user)
    field = _field(field_id)
    changes = payload.model_dump(exclude_unset=True, exclude={"ticket_types"})
    for name, value in changes.items():
        if value is None:
            raise ValidationError({name: _("This field cannot be null.")})
    types = payload.ticket_types
    save_custom_field(
        user,
        field,
        ticket_types=_ticket_types(types) if types is not None else None,
        **_data(changes),
    )
    return custom_field_data(_field(field.pk))


@router.delete(
    "/custom-fields/{int:field_id}",
    response={200: CustomFieldOut, **ERRORS},
    url_name="deactivate_custom_field",
    summary="Deactivate a custom field (administrators); tickets keep their values",
)
def deactivate_custom_field(request: HttpRequest, field_id: int):
    user = current_user(request)
    _require_staff(user)
    field = _field(field_id)
    save_custom_field(user, field, is_active=False)
    return custom_field_data(_field(field.pk))
