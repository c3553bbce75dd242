"""``/categories``: the ticket category tree, for the ids tickets refer to."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router

from kefu.api.auth import current_user
from kefu.api.schemas import ERRORS, CategoryList
from kefu.tickets.models import category_tree

router = Router(tags=["reference"])


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
