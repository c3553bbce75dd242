"""``/assets``: installed units. Staff list, read, create, change and deactivate them; a
customer's token reads its own units (and its organisation's when members share tickets)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from kefu.accounts.access import require_staff
from kefu.accounts.models import User
from kefu.api.auth import current_user
from kefu.api.contacts import organization_by_id
from kefu.api.pagination import keyset_page
from kefu.api.schemas import ERRORS, Ref, StrictSchema, ref
from kefu.customers import actions
from kefu.customers.access import assets_visible_to
from kefu.customers.models import Asset, AssetStatus, Contact, Product, WarrantyStatus

router = Router(tags=["customers"])


class AssetOut(Schema):
    id: int
    serial_number: str
    product: Ref
    organization: Ref | None
    contact: Ref | None
    installed_at: date | None
    warranty_ends_at: date | None
    installation_address: str
    status: AssetStatus
    warranty_status: WarrantyStatus
    notes: str | None = Field(description="Staff only.")
    is_active: bool
    created_at: datetime


class AssetPage(Schema):
    items: list[AssetOut]
    next_cursor: str | None


class AssetFilters(Schema):
    q: str | None = Field(None, max_length=200, description="Part of serial, model or address.")
    serial: str | None = Field(None, max_length=100, description="An exact serial number.")
    product: int | None = Field(None, description="A product id.")
    organization: int | None = Field(None, description="An organisation id.")
    contact: int | None = Field(None, description="A contact id.")
    is_active: bool | None = None
    limit: int = Field(25, ge=1, le=100)
    cursor: str | None = Field(None, description="The next_cursor of the previous page.")


class AssetIn(StrictSchema):
    serial_number: str
    product: int = Field(description="A product id.")
    organization: int | None = Field(None, description="Defaults to the contact's organisation.")
    contact: int | None = None
    installed_at: date | None = None
    warranty_ends_at: date | None = Field(
        None, description="Defaults to installed_at plus the product's warranty months."
    )
    installation_address: str = ""
    status: AssetStatus = AssetStatus.IN_SERVICE
    notes: str = ""


class AssetUpdateIn(StrictSchema):
    serial_number: str | None = None
    product: int | None = None
    organization: int | None = None
    contact: int | None = None
    installed_at: date | None = None
    warranty_ends_at: date | None = Field(
        None, description="null recomputes it from installed_at and the product."
    )
    installation_address: str | None = None
    status: AssetStatus | None = None
    notes: str | None = None


def asset_data(asset: Asset, user: User) -> dict[str, Any]:
    return {
        "id": asset.pk,
        "serial_number": asset.serial_number,
        "product": ref(asset.product),
        "organization": ref(asset.organization),
        "contact": ref(asset.contact),
        "installed_at": asset.installed_at,
        "warranty_ends_at": asset.warranty_ends_at,
        "installation_address": asset.installation_address,
        "status": asset.status,
        "warranty_status": asset.warranty_status(),
        "notes": asset.notes if user.is_staff_member else None,
        "is_active": asset.is_active,
        "created_at": asset.created_at,
    }


def _staff(request: HttpRequest) -> User:
    user = current_user(request)
    require_staff(user, _("Only staff manage assets."))
    return user


def _get(user: User, pk: int) -> Asset:
    try:
        return (
            assets_visible_to(user).select_related("product", "organization", "contact").get(pk=pk)
        )
    except Asset.DoesNotExist:
        raise Http404("No such asset") from None


def _fields(payload: AssetIn | AssetUpdateIn) -> dict[str, Any]:
    fields = payload.model_dump(exclude_unset=True)
    if "product" in fields:
        product = (
            Product.objects.filter(pk=fields["product"]).first() if fields["product"] else None
        )
        if product is None:
            raise ValidationError(
                {"product": _("There is no product with id %(id)s.") % {"id": fields["product"]}}
            )
        fields["product"] = product
    if "organization" in fields:
        fields["organization"] = organization_by_id(fields["organization"])
    if "contact" in fields and fields["contact"] is not None:
        contact = Contact.objects.filter(pk=fields["contact"]).first()
        if contact is None:
            raise ValidationError(
                {"contact": _("There is no contact with id %(id)s.") % {"id": fields["contact"]}}
            )
        fields["contact"] = contact
    for name in ("serial_number", "status"):
        if name in fields and fields[name] is None:
            raise ValidationError({name: _("This field cannot be null.")})
    for name in ("installation_address", "notes"):
        if name in fields and fields[name] is None:
            fields[name] = ""
    return fields


@router.get(
    "/assets",
    response={200: AssetPage, **ERRORS},
    url_name="list_assets",
    summary="List assets, newest first",
)
def list_assets(request: HttpRequest, filters: Query[AssetFilters]):
    user = current_user(request)
    assets = assets_visible_to(user).select_related("product", "organization", "contact")
    if filters.q:
        query = filters.q.strip()
        assets = assets.filter(
            Q(serial_number__icontains=query)
            | Q(product__model_number__icontains=query)
            | Q(product__name__icontains=query)
            | Q(installation_address__icontains=query)
        )
    if filters.serial:
        assets = assets.filter(serial_number__iexact=filters.serial.strip())
    for name in ("product", "organization", "contact"):
        if getattr(filters, name) is not None:
            assets = assets.filter(**{f"{name}_id": getattr(filters, name)})
    if filters.is_active is not None:
        assets = assets.filter(is_active=filters.is_active)
    page, next_cursor = keyset_page(assets, limit=filters.limit, cursor=filters.cursor)
    return {"items": [asset_data(a, user) for a in page], "next_cursor": next_cursor}


@router.get(
    "/assets/{int:asset_id}",
    response={200: AssetOut, **ERRORS},
    url_name="get_asset",
    summary="Read an asset",
)
def read_asset(request: HttpRequest, asset_id: int):
    user = current_user(request)
    return asset_data(_get(user, asset_id), user)


@router.post(
    "/assets",
    response={201: AssetOut, **ERRORS},
    url_name="create_asset",
    summary="Register an installed unit (staff)",
)
def create_asset(request: HttpRequest, payload: AssetIn):
    user = _staff(request)
    asset = actions.create_asset(user, **_fields(payload))
    return 201, asset_data(_get(user, asset.pk), user)


@router.patch(
    "/assets/{int:asset_id}",
    response={200: AssetOut, **ERRORS},
    url_name="update_asset",
    summary="Change an asset (staff)",
)
def update_asset(request: HttpRequest, asset_id: int, payload: AssetUpdateIn):
    user = _staff(request)
    asset = actions.update_asset(user, _get(user, asset_id), **_fields(payload))
    return asset_data(_get(user, asset.pk), user)


@router.post(
    "/assets/{int:asset_id}/deactivate",
    response={200: AssetOut, **ERRORS},
    url_name="deactivate_asset",
    summary="Deactivate an asset (staff; no deletion)",
)
def deactivate_asset(request: HttpRequest, asset_id: int):
    user = _staff(request)
    actions.set_asset_active(user, _get(user, asset_id), False)
    return asset_data(_get(user, asset_id), user)


@router.post(
    "/assets/{int:asset_id}/reactivate",
    response={200: AssetOut, **ERRORS},
    url_name="reactivate_asset",
    summary="Reactivate an asset (staff)",
)
def reactivate_asset(request: HttpRequest, asset_id: int):
    user = _staff(request)
    actions.set_asset_active(user, _get(user, asset_id), True)
    return asset_data(_get(user, asset_id), user)
