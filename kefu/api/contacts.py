"""``/contacts``: staff list, read, create, change, deactivate and merge customers; a customer's
token reads only its own contact."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from kefu.accounts.access import require_staff
from kefu.accounts.models import User
from kefu.api.auth import current_user
from kefu.api.pagination import keyset_page
from kefu.api.schemas import ERRORS, Ref, StrictSchema, ref
from kefu.customers import actions
from kefu.customers.access import contacts_readable_by, matching_contacts
from kefu.customers.models import Contact, Organization

router = Router(tags=["customers"])

DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100


class ContactOut(Schema):
    id: int
    name: str
    email: str | None
    phone: str | None
    wechat_id: str | None
    organization: Ref | None
    language: str
    notes: str | None = Field(description="Staff only.")
    is_active: bool
    has_login: bool
    merged_into: int | None = Field(description="The contact this duplicate was merged into.")
    email_bounced_at: datetime | None = Field(
        description="When mail to the address bounced permanently; nothing is sent to it until "
        "this is cleared (by the customer writing again, or POST …/clear-bounce)."
    )
    created_at: datetime


class ContactPage(Schema):
    items: list[ContactOut]
    next_cursor: str | None


class ContactFilters(Schema):
    q: str | None = Field(
        None, max_length=200, description="Part of name, e-mail, phone or WeChat id."
    )
    organization: int | None = Field(None, description="An organisation id.")
    is_active: bool | None = Field(None, description="Only active (true) or deactivated (false).")
    limit: int = Field(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
    cursor: str | None = Field(None, description="The next_cursor of the previous page.")


class ContactIn(StrictSchema):
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    wechat_id: str | None = None
    organization: int | None = Field(None, description="An organisation id.")
    language: str | None = None
    notes: str | None = None


class ContactUpdateIn(ContactIn):
    pass


class MergeIn(StrictSchema):
    into: int = Field(description="The id of the contact that absorbs this one.")


def contact_data(contact: Contact, user: User) -> dict[str, Any]:
    return {
        "id": contact.pk,
        "name": contact.name,
        "email": contact.email,
        "phone": contact.phone,
        "wechat_id": contact.wechat_id,
        "organization": ref(contact.organization),
        "language": contact.language,
        "notes": contact.notes if user.is_staff_member else None,
        "is_active": contact.is_active,
        "has_login": contact.user_id is not None,
        "merged_into": contact.merged_into_id,
        "email_bounced_at": contact.email_bounced_at,
        "created_at": contact.created_at,
    }


def _require_staff(user: User) -> None:
    require_staff(user, _("Only staff manage customers."))


def _get(user: User, pk: int) -> Contact:
    try:
        return contacts_readable_by(user).select_related("organization").get(pk=pk)
    except Contact.DoesNotExist:
        raise Http404("No such contact") from None


def organization_by_id(pk: int | None, field: str = "organization") -> Organization | None:
    if pk is None:
        return None
    organization = Organization.objects.filter(pk=pk).first()
    if organization is None:
        raise ValidationError({field: _("There is no organisation with id %(id)s.") % {"id": pk}})
    return organization


def _fields(payload: ContactIn) -> dict[str, Any]:
    fields = payload.model_dump(exclude_unset=True)
    if "organization" in fields:
        fields["organization"] = organization_by_id(fields["organization"])
    for name in ("name", "language", "notes"):
        if name in fields and fields[name] is None:
            fields[name] = ""
    return fields


@router.get(
    "/contacts",
    response={200: ContactPage, **ERRORS},
    url_name="list_contacts",
    summary="List contacts, newest first",
)
def list_contacts(request: HttpRequest, filters: Query[ContactFilters]):
    user = current_user(request)
    contacts: QuerySet[Contact] = contacts_readable_by(user).select_related("organization")
    contacts = matching_contacts(contacts, filters.q or "")
    if filters.organization is not None:
        contacts = contacts.filter(organization_id=filters.organization)
    if filters.is_active is not None:
        contacts = contacts.filter(is_active=filters.is_active)
    page, next_cursor = keyset_page(contacts, limit=filters.limit, cursor=filters.cursor)
    return {"items": [contact_data(c, user) for c in page], "next_cursor": next_cursor}


@router.get(
    "/contacts/{int:contact_id}",
    response={200: ContactOut, **ERRORS},
    url_name="get_contact",
    summary="Read a contact",
)
def read_contact(request: HttpRequest, contact_id: int):
    user = current_user(request)
    return contact_data(_get(user, contact_id), user)


@router.post(
    "/contacts",
    response={201: ContactOut, **ERRORS},
    url_name="create_contact",
    summary="Create a contact (staff)",
)
def create_contact(request: HttpRequest, payload: ContactIn):
    user = current_user(request)
    _require_staff(user)
    contact = actions.create_contact(user, **_fields(payload))
    return 201, contact_data(contact, user)


@router.patch(
    "/contacts/{int:contact_id}",
    response={200: ContactOut, **ERRORS},
    url_name="update_contact",
    summary="Change a contact (staff)",
)
def update_contact(request: HttpRequest, contact_id: int, payload: ContactUpdateIn):
    user = current_user(request)
    _require_staff(user)
    contact = actions.update_contact(user, _get(user, contact_id), **_fields(payload))
    return contact_data(contact, user)


@router.post(
    "/contacts/{int:contact_id}/deactivate",
    response={200: ContactOut, **ERRORS},
    url_name="deactivate_contact",
    summary="Deactivate a contact (staff; no deletion)",
)
def deactivate_contact(request: HttpRequest, contact_id: int):
    user = current_user(request)
    _require_staff(user)
    return contact_data(actions.set_contact_active(user, _get(user, contact_id), False), user)


@router.post(
    "/contacts/{int:contact_id}/reactivate",
    response={200: ContactOut, **ERRORS},
    url_name="reactivate_contact",
    summary="Reactivate a contact (staff)",
)
def reactivate_contact(request: HttpRequest, contact_id: int):
    user = current_user(request)
    _require_staff(user)
    return contact_data(actions.set_contact_active(user, _get(user, contact_id), True), user)


@router.post(
    "/contacts/{int:contact_id}/clear-bounce",
    response={200: ContactOut, **ERRORS},
    url_name="clear_contact_bounce",
    summary="Mark a bounced e-mail address as working again (staff)",
)
def clear_contact_bounce(request: HttpRequest, contact_id: int):
    user = current_user(request)
    _require_staff(user)
    return contact_data(actions.reset_email_bounce(user, _get(user, contact_id)), user)


@router.post(
    "/contacts/{int:contact_id}/merge",
    response={200: ContactOut, **ERRORS},
    url_name="merge_contact",
    summary="Merge this duplicate into another contact (staff); returns the survivor",
)
def merge_contact(request: HttpRequest, contact_id: int, payload: MergeIn):
    user = current_user(request)
    _require_staff(user)
    duplicate = _get(user, contact_id)
    try:
        survivor = _get(user, payload.into)
    except Http404:
        raise ValidationError(
            {"into": _("There is no contact with id %(id)s.") % {"id": payload.into}}
        ) from None
    survivor = actions.merge_contacts(user, duplicate, survivor)
    return contact_data(_get(user, survivor.pk), user)
