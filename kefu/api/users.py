"""``/users``: staff read the staff directory; administrators create, change (role, groups),
deactivate and reactivate users. Users are never deleted."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema

from kefu.accounts import actions
from kefu.accounts.access import require_admin, require_staff
from kefu.accounts.models import STAFF_ROLES, Access, Group, Membership, Role, User
from kefu.api.auth import current_user
from kefu.api.schemas import ERRORS, StrictSchema
from kefu.tickets.handlers import open_tickets_of

router = Router(tags=["users"])


class MembershipOut(Schema):
    group: int
    name: str
    access: str


class UserOut(Schema):
    id: int
    email: str
    name: str
    role: str
    language: str
    time_zone: str
    is_active: bool
    date_joined: datetime
    last_login: datetime | None
    groups: list[MembershipOut]
    open_tickets: int = Field(description="Open tickets assigned to the user.")


class UserList(Schema):
    items: list[UserOut]


class MembershipIn(StrictSchema):
    group: int
    access: Access = Access.FULL


class UserCreateIn(StrictSchema):
    email: str
    name: str
    role: Role = Field(description="admin, supervisor or agent (customers: via their contact).")
    language: str = ""
    groups: list[MembershipIn] = Field(default_factory=list)
    send_invitation: bool = Field(
        False, description="E-mail a link to choose a password (the user has none yet)."
    )


class UserUpdateIn(StrictSchema):
    name: str | None = None
    role: Role | None = None
    language: str | None = None
    time_zone: str | None = None
    groups: list[MembershipIn] | None = Field(
        None, description="The complete list of memberships (replaces the current one)."
    )


class DeactivateIn(StrictSchema):
    reassign_group: int | None = Field(
        None,
        description="Move the user's open tickets to this group, unassigned (or to the agent).",
    )
    reassign_to: int | None = Field(
        None, description="Assign the user's open tickets to this staff member."
    )


class DeactivateOut(Schema):
    user: UserOut
    tickets_handed_over: int
    tickets_still_assigned: int = Field(
        description="Open tickets left with the deactivated user (none given to hand over to)."
    )


def user_data(user: User) -> dict[str, Any]:
    return {
        "id": user.pk,
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "language": user.language,
        "time_zone": user.time_zone,
        "is_active": user.is_active,
        "date_joined": user.date_joined,
        "last_login": user.last_login,
        "groups": [
            {"group": m.group_id, "name": m.group.name, "access": m.access}
            for m in user.memberships.all()
        ],
        "open_tickets": open_tickets_of(user).count(),
    }


def _visible_users(viewer: User):
    """Administrators: everyone; other staff: active colleagues (for assignments); else none."""
    require_staff(viewer, _("Only staff can list users."))
    users = User.objects.prefetch_related("memberships__group")
    if viewer.is_admin:
        return users
    return users.filter(role__in=STAFF_ROLES, is_active=True)


def _get_user(viewer: User, pk: int) -> User:
    found = _visible_users(viewer).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def _require_admin(viewer: User) -> None:
    require_admin(viewer, _("Only administrators manage users and groups."))


def _group(pk: int, field: str = "groups") -> Group:
    found = Group.objects.filter(pk=pk).first()
    if found is None:
        raise ValidationError({field: _("No such group: %(id)s") % {"id": pk}})
    return found


@router.get("/users", response={200: UserList, **ERRORS}, url_name="list_users")
def list_users(
    request: HttpRequest,
    role: Role | None = None,
    is_active: bool | None = None,
    group: int | None = None,
    q: str = "",
):
    """Staff (default: all staff roles); administrators may ask for ``role=customer`` too."""
    users = _visible_users(current_user(request))
    users = users.filter(role=role) if role else users.filter(role__in=STAFF_ROLES)
    if is_active is not None:
        users = users.filter(is_active=is_active)
    if group is not None:
        users = users.filter(memberships__group_id=group)
    if q.strip():
        users = users.filter(Q(name__icontains=q.strip()) | Q(email__icontains=q.strip()))
    return {"items": [user_data(user) for user in users.order_by("name", "email")[:500]]}


@router.post("/users", response={201: UserOut, **ERRORS}, url_name="create_user")
def create_user(request: HttpRequest, payload: UserCreateIn):
    viewer = current_user(request)
    _require_admin(viewer)
    if payload.role not in STAFF_ROLES:
        raise ValidationError(
            {"role": _("Create customer logins by inviting their contact to the portal.")}
        )
    with transaction.atomic():
        user = actions.create_user(
            viewer,
            email=payload.email,
            name=payload.name,
            role=payload.role,
            language=payload.language,
            groups=[(_group(m.group), m.access) for m in payload.groups],
        )
        if payload.send_invitation:
            actions.invite_user(viewer, user)
    return 201, user_data(_get_user(viewer, user.pk))


@router.get("/users/{int:user_id}", response={200: UserOut, **ERRORS}, url_name="get_user")
def read_user(request: HttpRequest, user_id: int):
    return user_data(_get_user(current_user(request), user_id))


@router.patch("/users/{int:user_id}", response={200: UserOut, **ERRORS}, url_name="update_user")
def update_user(request: HttpRequest, user_id: int, payload: UserUpdateIn):
    viewer = current_user(request)
    _require_admin(viewer)
    user = _get_user(viewer, user_id)
    fields = payload.model_dump(exclude_unset=True)
    memberships = fields.pop("groups", None)
    with transaction.atomic():
        if fields:
            actions.update_user(viewer, user, **fields)
        if memberships is not None:
            wanted = {item["group"]: item["access"] for item in memberships}
            for group_id, access in wanted.items():
                actions.set_membership(viewer, user, _group(group_id), access)
            for membership in Membership.objects.filter(user=user).exclude(group_id__in=wanted):
                actions.remove_membership(viewer, user, membership.group)
    return user_data(_get_user(viewer, user.pk))


@router.post(
    "/users/{int:user_id}/deactivate",
    response={200: DeactivateOut, **ERRORS},
    url_name="deactivate_user",
    summary="Deactivate a user, handing their open tickets over as asked",
)
def deactivate_user(request: HttpRequest, user_id: int, payload: DeactivateIn):
    viewer = current_user(request)
    _require_admin(viewer)
    user = _get_user(viewer, user_id)
    group = _group(payload.reassign_group, "reassign_group") if payload.reassign_group else None
    agent = None
    if payload.reassign_to is not None:
        agent = User.objects.staff().filter(pk=payload.reassign_to).first()
        if agent is None:
            raise ValidationError({"reassign_to": _("Choose another, active staff member.")})
    moved = actions.deactivate_user(viewer, user, reassign_group=group, reassign_to=agent)
    return {
        "user": user_data(_get_user(viewer, user.pk)),
        "tickets_handed_over": moved,
        "tickets_still_assigned": open_tickets_of(user).count(),
    }


@router.post(
    "/users/{int:user_id}/reactivate",
    response={200: UserOut, **ERRORS},
    url_name="reactivate_user",
)
def reactivate_user(request: HttpRequest, user_id: int):
    viewer = current_user(request)
    _require_admin(viewer)
    user = actions.reactivate_user(viewer, _get_user(viewer, user_id))
    return user_data(_get_user(viewer, user.pk))
