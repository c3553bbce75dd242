"""``/products``: staff list, read, create, change and deactivate products (models sold)."""

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
from kefu.customers.models import Product

router = Router(tags=["customers"])


class DocumentOut(Schema):
    id: int
    title: str
    filename: str
    content_type: str
    size: int


class ProductOut(Schema):
    id: int
    model_number: str
    name: str
    category: str
    description: str
    warranty_months: int | None
    is_active: bool
    documents: list[DocumentOut]
    created_at: datetime


class ProductPage(Schema):
    items: list[ProductOut]
    next_cursor: str | None


class ProductFilters(Schema):
    q: str | None = Field(None, max_length=200, description="Part of model, name or category.")
    category: str | None = None
    is_active: bool | None = None
    limit: int = Field(25, ge=1, le=100)
    cursor: str | None = Field(None, description="The next_cursor of the previous page.")


class ProductIn(StrictSchema):
    model_number: str
    name: str
    category: str = ""
    description: str = ""
    warranty_months: int | None = Field(None, ge=0, le=600)


class ProductUpdateIn(StrictSchema):
    model_number: str | None = None
    name: str | None = None
    category: str | None = None
    description: str | None = None
    warranty_months: int | None = Field(None, ge=0, le=600)


def product_data(product: Product) -> dict[str, Any]:
    return {
        "id": product.pk,
        "model_number": product.model_number,
        "name": product.name,
        "category": product.category,
        "description": product.description,
        "warranty_months": product.warranty_months,
        "is_active": product.is_active,
        "documents": [
            {
                "id": d.pk,
                "title": d.title,
                "filename": d.filename,
                "content_type": d.content_type,
                "size": d.size,
            }
            for d in product.documents.all()
            if d.is_active
        ],
        "created_at": product.created_at,
    }


def _staff(request: HttpRequest) -> User:
    user = current_user(request)
    require_staff(user, _("Only staff manage products."))
    return user


def _get(pk: int) -> Product:
    try:
        return Product.objects.prefetch_related("documents").get(pk=pk)
    except Product.DoesNotExist:
        raise Http404("No such product") from None


@router.get(
    "/products",
    response={200: ProductPage, **ERRORS},
    url_name="list_products",
    summary="List products, newest first (staff)",
)
def list_products(request: HttpRequest, filters: Query[ProductFilters]):
    _staff(request)
    products = Product.objects.prefetch_related("documents")
    if filters.q:
        query = filters.q.strip()
        products = products.filter(
            Q(model_number__icontains=query)
            | Q(name__icontains=query)
            | Q(category__icontains=query)
        )
    if filters.category:
        products = products.filter(category__iexact=filters.category)
    if filters.is_active is not None:
        products = products.filter(is_active=filters.is_active)
    page, next_cursor = keyset_page(products, limit=filters.limit, cursor=filters.cursor)
    return {"items": [product_data(p) for p in page], "next_cursor": next_cursor}


@router.get(
    "/products/{int:product_id}",
    response={200: ProductOut, **ERRORS},
    url_name="get_product",
    summary="Read a product (staff)",
)
def read_product(request: HttpRequest, product_id: int):
    _staff(request)
    return product_data(_get(product_id))


@router.post(
    "/products",
    response={201: ProductOut, **ERRORS},
    url_name="create_product",
    summary="Create a product (staff)",
)
def create_product(request: HttpRequest, payload: ProductIn):
    user = _staff(request)
    product = actions.create_product(user, **payload.model_dump())
    return 201, product_data(_get(product.pk))


@router.patch(
    "/products/{int:product_id}",
    response={200: ProductOut, **ERRORS},
    url_name="update_product",
    summary="Change a product (staff)",
)
def update_product(request: HttpRequest, product_id: int, payload: ProductUpdateIn):
    user = _staff(request)
    fields = payload.model_dump(exclude_unset=True)
    for name in ("category", "description"):
        if name in fields and fields[name] is None:
            fields[name] = ""
    actions.update_product(user, _get(product_id), **fields)
    return product_data(_get(product_id))


@router.post(
    "/products/{int:product_id}/deactivate",
    response={200: ProductOut, **ERRORS},
    url_name="deactivate_product",
    summary="Deactivate a product (staff; no deletion)",
)
def deactivate_product(request: HttpRequest, product_id: int):
    user = _staff(request)
    actions.set_product_active(user, _get(product_id), False)
    return product_data(_get(product_id))


@router.post(
    "/products/{int:product_id}/reactivate",
    response={200: ProductOut, **ERRORS},
    url_name="reactivate_product",
    summary="Reactivate a product (staff)",
)
def reactivate_product(request: HttpRequest, product_id: int):
    user = _staff(request)
    actions.set_product_active(user, _get(product_id), True)
    return product_data(_get(product_id))
