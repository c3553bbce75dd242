"""``/groups`` (departments: staff read, administrators create, change, deactivate): the ids
that requests refer to."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema

from kefu.accounts import actions
from kefu.accounts.access import get_group_for_admin, require_admin, require_staff
from kefu.accounts.models import Group
from kefu.api.auth import current_user
from kefu.api.schemas import ERRORS, ErrorOut, Ref, StrictSchema

router = Router(tags=["reference"])


class MemberOut(Schema):
    id: int
    name: str
    access: str = Field(description="full or read")
    is_active: bool


class GroupOut(Schema):
    id: int
    name: str
    description: str
    email: str
    is_default: bool
    is_active: bool
    escalation_group: Ref | None
    signature: str


class GroupDetailOut(GroupOut):
    members: list[MemberOut]


class GroupListOut(Schema):
    items: list[GroupOut]


class GroupIn(StrictSchema):
    name: str | None = Field(None, max_length=120)
    description: str | None = None
    email: str | None = None
    signature: str | None = Field(None, max_length=4000)
    is_default: bool | None = None
    escalation_group: int | None = Field(
        None, description="A group id; null for none (leave it out to keep it)."
    )
    is_active: bool | None = Field(
        None, description="false deactivates (refused while open tickets remain), true reactivates."
    )


def group_data(group: Group, *, members: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": group.pk,
        "name": group.name,
        "description": group.description,
        "email": group.email,
        "is_default": group.is_default,
        "is_active": group.is_active,
        "escalation_group": (
            {"id": group.escalation_group.pk, "name": group.escalation_group.name}
            if group.escalation_group
            else None
        ),
        "signature": group.signature,
    }
    if members:
        data["members"] = [
            {
                "id": m.user_id,
                "name": m.user.name,
                "access": m.access,
                "is_active": m.user.is_active,
            }
            for m in group.memberships.select_related("user").order_by("user__name")
        ]
    return data


def _require_staff(request: HttpRequest):
    user = current_user(request)
    require_staff(user, _("Only staff can list groups."))
    return user


@router.get(
    "/groups",
    response={200: GroupListOut, 401: ErrorOut, 403: ErrorOut, 429: ErrorOut},
    url_name="list_groups",
    summary="Departments (staff only)",
)
def list_groups(request: HttpRequest, include_inactive: bool = False):
    user = _require_staff(request)
    # Every active group, not only the caller's: staff hand tickets over to other departments.
    groups = Group.objects.filter(is_active=True)
    if include_inactive and user.is_admin:
        groups = Group.objects.all()
    groups = groups.select_related("escalation_group")
    return {"items": [group_data(group) for group in groups]}


@router.post(
    "/groups",
    response={201: GroupDetailOut, **ERRORS},
    url_name="create_group",
    summary="Create a group (administrators)",
)
def create_group(request: HttpRequest, payload: GroupIn):
    user = current_user(request)
    get_group_for_admin_or_403(user)
    fields = payload.model_dump(exclude_unset=True)
    if not fields.get("name"):
        raise ValidationError({"name": _("The group needs a name.")})
    if fields.pop("is_active", True) is False:
        raise ValidationError({"is_active": _("Create the group active.")})
    escalation = _escalation(fields)
    group = actions.save_group(user, **fields, **escalation)
    return 201, group_data(_fresh(group.pk), members=True)


@router.get(
    "/groups/{int:group_id}",
    response={200: GroupDetailOut, **ERRORS},
    url_name="get_group",
    summary="A group with its members (staff)",
)
def read_group(request: HttpRequest, group_id: int):
    _require_staff(request)
    group = Group.objects.select_related("escalation_group").filter(pk=group_id).first()
    if group is None:
        raise Http404
    return group_data(group, members=True)


@router.patch(
    "/groups/{int:group_id}",
    response={200: GroupDetailOut, **ERRORS},
    url_name="update_group",
    summary="Change, deactivate or reactivate a group (administrators)",
)
def update_group(request: HttpRequest, group_id: int, payload: GroupIn):
    user = current_user(request)
    group = get_group_for_admin(user, group_id)
    fields = payload.model_dump(exclude_unset=True)
    active = fields.pop("is_active", None)
    if active is True:
        actions.reactivate_group(user, group)
    escalation = _escalation(fields)
    if fields or escalation:
        actions.save_group(user, group, **fields, **escalation)
    if active is False:
        actions.deactivate_group(user, group)
    return group_data(_fresh(group.pk), members=True)


def get_group_for_admin_or_403(user) -> None:
    require_admin(user, _("Only administrators manage users and groups."))


def _escalation(fields: dict[str, Any]) -> dict[str, Any]:
    if "escalation_group" not in fields:
        return {}
    pk = fields.pop("escalation_group")
    if pk is None:
        return {"escalation_group": None}
    found = Group.objects.filter(pk=pk, is_active=True).first()
    if found is None:
        raise ValidationError({"escalation_group": _("No such active group: %(id)s") % {"id": pk}})
    return {"escalation_group": found}


def _fresh(pk: int) -> Group:
    return Group.objects.select_related("escalation_group").get(pk=pk)
