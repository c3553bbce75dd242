"""``/organizations``: staff list, read, create, change and deactivate organisations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Q
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from kefu.accounts.access import require_staff
from kefu.accounts.models import User
from kefu.api.auth import current_user
from kefu.api.pagination import keyset_page
from kefu.api.schemas import ERRORS, StrictSchema
from kefu.customers import actions
from kefu.customers.models import Organization, Tier

router = Router(tags=["customers"])


class OrganizationOut(Schema):
    id: int
    name: str
    tier: Tier
    domain: str
    members_share_tickets: bool
    notes: str
    is_active: bool
    created_at: datetime


class OrganizationPage(Schema):
    items: list[OrganizationOut]
    next_cursor: str | None


class OrganizationFilters(Schema):
    q: str | None = Field(None, max_length=200, description="Part of the name or domain.")
    tier: Tier | None = None
    is_active: bool | None = None
    limit: int = Field(25, ge=1, le=100)
    cursor: str | None = Field(None, description="The next_cursor of the previous page.")


class OrganizationIn(StrictSchema):
    name: str
    tier: Tier = Tier.STANDARD
    domain: str = ""
    members_share_tickets: bool = False
    notes: str = ""


class OrganizationUpdateIn(StrictSchema):
    name: str | None = None
    tier: Tier | None = None
    domain: str | None = None
    members_share_tickets: bool | None = None
    notes: str | None = None


def organization_data(organization: Organization) -> dict[str, Any]:
    return {
        "id": organization.pk,
        "name": organization.name,
        "tier": organization.tier,
        "domain": organization.domain,
        "members_share_tickets": organization.members_share_tickets,
        "notes": organization.notes,
        "is_active": organization.is_active,
        "created_at": organization.created_at,
    }


def _staff(request: HttpRequest) -> User:
    user = current_user(request)
    require_staff(user, _("Only staff manage customers."))
    return user


def _get(pk: int) -> Organization:
    try:
        return Organization.objects.get(pk=pk)
    except Organization.DoesNotExist:
        raise Http404("No such organisation") from None


@router.get(
    "/organizations",
    response={200: OrganizationPage, **ERRORS},
    url_name="list_organizations",
    summary="List organisations, newest first (staff)",
)
def list_organizations(request: HttpRequest, filters: Query[OrganizationFilters]):
    _staff(request)
    organizations = Organization.objects.all()
    if filters.q:
        organizations = organizations.filter(
            Q(name__icontains=filters.q.strip()) | Q(domain__icontains=filters.q.strip())
        )
    if filters.tier:
        organizations = organizations.filter(tier=filters.tier)
    if filters.is_active is not None:
        organizations = organizations.filter(is_active=filters.is_active)
    page, next_cursor = keyset_page(organizations, limit=filters.limit, cursor=filters.cursor)
    return {"items": [organization_data(o) for o in page], "next_cursor": next_cursor}


@router.get(
    "/organizations/{int:organization_id}",
    response={200: OrganizationOut, **ERRORS},
    url_name="get_organization",
    summary="Read an organisation (staff)",
)
def read_organization(request: HttpRequest, organization_id: int):
    _staff(request)
    return organization_data(_get(organization_id))


@router.post(
    "/organizations",
    response={201: OrganizationOut, **ERRORS},
    url_name="create_organization",
    summary="Create an organisation (staff)",
)
def create_organization(request: HttpRequest, payload: OrganizationIn):
    user = _staff(request)
    return 201, organization_data(actions.create_organization(user, **payload.model_dump()))


@router.patch(
    "/organizations/{int:organization_id}",
    response={200: OrganizationOut, **ERRORS},
    url_name="update_organization",
    summary="Change an organisation (staff)",
)
def update_organization(request: HttpRequest, organization_id: int, payload: OrganizationUpdateIn):
    user = _staff(request)
    fields = {k: v for k, v in payload.model_dump(exclude_unset=True).items() if v is not None}
    return organization_data(actions.update_organization(user, _get(organization_id), **fields))


@router.post(
    "/organizations/{int:organization_id}/deactivate",
    response={200: OrganizationOut, **ERRORS},
    url_name="deactivate_organization",
    summary="Deactivate an organisation (staff; no deletion)",
)
def deactivate_organization(request: HttpRequest, organization_id: int):
    user = _staff(request)
    return organization_data(actions.set_organization_active(user, _get(organization_id), False))


@router.post(
    "/organizations/{int:organization_id}/reactivate",
    response={200: OrganizationOut, **ERRORS},
    url_name="reactivate_organization",
    summary="Reactivate an organisation (staff)",
)
def reactivate_organization(request: HttpRequest, organization_id: int):
    user = _staff(request)
    return organization_data(actions.set_organization_active(user, _get(organization_id), True))
