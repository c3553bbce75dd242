"""``/categories``: the ticket category tree, for the ids tickets refer to; administrators
add and change categories (never delete: deactivate)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router

from kefu.api.auth import current_user
from kefu.api.schemas import ERRORS, CategoryList, CategoryOut, StrictSchema
from kefu.tickets.categories import save_category
from kefu.tickets.models import Category, category_tree

router = Router(tags=["reference"])


class CategoryIn(StrictSchema):
    name: str | None = None
    parent: int | None = Field(None, description="The parent category's id; null: top level.")
    position: int | None = Field(None, ge=0)
    active: bool | None = None


def _paths() -> dict[int, str]:
    return {category.pk: path for category, _depth, path in category_tree(active_only=False)}


def category_data(category: Category, paths: dict[int, str] | None = None) -> dict:
    paths = paths if paths is not None else _paths()
    return {
        "id": category.pk,
        "name": category.name,
        "path": paths.get(category.pk, category.name),
        "parent": category.parent_id,
        "active": category.is_active,
    }


@router.get(
    "/categories",
    response={200: CategoryList, **ERRORS},
    url_name="list_categories",
    summary="Ticket categories in tree order; path is the full name",
)
def list_categories(request: HttpRequest):
    user = current_user(request)
    tree = category_tree(active_only=not user.is_staff_member)
    return {
        "items": [
            {
                "id": category.pk,
                "name": category.name,
                "path": path,
                "parent": category.parent_id,
                "active": category.is_active,
            }
            for category, _depth, path in tree
        ]
    }


def _parent(parent_id: int | None) -> Category | None:
    if parent_id is None:
        return None
    parent = Category.objects.filter(pk=parent_id).first()
    if parent is None:
        raise ValidationError({"parent": _("No category has the id %(id)s.") % {"id": parent_id}})
    return parent


@router.post(
    "/categories",
    response={201: CategoryOut, **ERRORS},
    url_name="create_category",
    summary="Add a category (administrators)",
)
def create_category(request: HttpRequest, payload: CategoryIn):
    user = current_user(request)
    category = save_category(
        user,
        None,
        name=payload.name or "",
        parent=_parent(payload.parent),
        position=payload.position or 0,
        is_active=True if payload.active is None else payload.active,
    )
    return 201, category_data(category)


@router.patch(
    "/categories/{int:category_id}",
    response={200: CategoryOut, **ERRORS},
    url_name="update_category",
    summary="Rename, move, reorder or (de)activate a category (administrators)",
)
def update_category(request: HttpRequest, category_id: int, payload: CategoryIn):
    user = current_user(request)
    category = Category.objects.select_related("parent").filter(pk=category_id).first()
    if category is None:
        raise Http404(_("No category has the id %(id)s.") % {"id": category_id})
    values = payload.model_dump(exclude_unset=True)
    category = save_category(
        user,
        category,
        name=values.get("name") or category.name,
        parent=_parent(values["parent"]) if "parent" in values else category.parent,
        position=category.position if values.get("position") is None else values["position"],
        is_active=category.is_active if values.get("active") is None else values["active"],
    )
    return category_data(category)
