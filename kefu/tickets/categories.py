"""Administrators shape the ticket category tree (``/tickets/categories/``, ``/api/v1/categories``).

Categories are never deleted: tickets keep a deactivated category, and it is no longer offered on
forms (nor are its children, see ``category_tree``).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from kefu.accounts.access import require_admin
from kefu.accounts.models import User
from kefu.audit.actions import record
from kefu.tickets.models import Category

MAX_DEPTH = 6


def _ancestors(category: Category | None) -> list[int]:
    ids: list[int] = []
    while category is not None and len(ids) <= MAX_DEPTH + 1:
        ids.append(category.pk)
        category = category.parent
    return ids


@transaction.atomic
def save_category(
    actor: User,
    category: Category | None = None,
    *,
    name: str,
    parent: Category | None = None,
    position: int = 0,
    is_active: bool = True,
) -> Category:
    require_admin(actor, _("Only administrators manage categories."))
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError({"name": _("Name the category.")})
    if len(name) > 100:
        raise ValidationError({"name": _("Use at most 100 characters.")})
    if position < 0:
        raise ValidationError({"position": _("Use a number of 0 or more.")})
    chain = _ancestors(parent)
    if category is not None and category.pk in chain:
        raise ValidationError({"parent": _("A category cannot sit below itself.")})
    if len(chain) >= MAX_DEPTH:
        raise ValidationError(
            {"parent": _("Categories nest at most %(depth)s levels deep.") % {"depth": MAX_DEPTH}}
        )
    siblings = Category.objects.filter(parent=parent, name__iexact=name)
    if category is not None:
        siblings = siblings.exclude(pk=category.pk)
    if siblings.exists():
        raise ValidationError({"name": _("This level already has a category of that name.")})
    old = (
        {"name": category.name, "parent": category.parent_id, "is_active": category.is_active}
        if category is not None
        else {}
    )
    category = category or Category()
    category.name = name
    category.parent = parent
    category.position = position
    category.is_active = is_active
    try:
        with transaction.atomic():
            category.save()
    except IntegrityError as error:
        raise ValidationError(
            {"name": _("This level already has a category of that name.")}
        ) from error
    new = {"name": category.name, "parent": category.parent_id, "is_active": category.is_active}
    changes = {key: [old.get(key), value] for key, value in new.items() if old.get(key) != value}
    record(actor, "category.saved", category, changes)
    return category
