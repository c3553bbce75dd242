"""Who may do what with groups and users, and the permission guards every app uses; ticket access
lives in ``kefu.tickets.access``."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from kefu.accounts.models import Access, Group, Membership, Role, User
from kefu.lib.guards import (  # noqa: F401 - the guards, re-exported for the apps above accounts
    is_active_admin,
    is_active_staff,
    require_admin,
    require_admin_page,
    require_staff,
    require_staff_page,
)


def group_ids_for(user: User, *, access: str | None = None) -> set[int]:
    memberships = Membership.objects.filter(user=user, group__is_active=True)
    if access:
        memberships = memberships.filter(access=access)
    return set(memberships.values_list("group_id", flat=True))


def workable_group_ids(user: User) -> set[int] | None:
    """Groups whose tickets ``user`` may change; ``None`` means every group (admins)."""
    if not user.is_active:
        return set()
    if user.role == Role.ADMIN:
        return None
    if user.role == Role.SUPERVISOR:
        return group_ids_for(user)
    if user.role == Role.AGENT:
        return group_ids_for(user, access=Access.FULL)
    return set()


def groups_visible_to(user: User) -> QuerySet[Group]:
    if user.role == Role.ADMIN:
        return Group.objects.filter(is_active=True)
    if user.is_staff_member:
        return Group.objects.filter(is_active=True, memberships__user=user)
    return Group.objects.none()


def assignable_agents(group: Group) -> QuerySet[User]:
    """Staff who may own a ticket of ``group``: full members (agents), any member (supervisors)."""
    workers = Membership.objects.filter(group=group).filter(
        Q(access=Access.FULL) | Q(user__role=Role.SUPERVISOR)
    )
    return User.objects.staff().filter(pk__in=workers.values("user_id"))


def can_be_assigned(user: User, group: Group) -> bool:
    if not user.is_active or not user.is_staff_member:
        return False
    if user.role == Role.ADMIN:
        return True
    return assignable_agents(group).filter(pk=user.pk).exists()


def get_user_for_admin(user: User, pk: int | str) -> User:
    require_admin_page(user)
    try:
        return User.objects.get(pk=pk)
    except (User.DoesNotExist, ValueError, TypeError):
        raise Http404("No such user") from None


def get_group_for_admin(user: User, pk: int | str) -> Group:
    require_admin_page(user)
    try:
        return Group.objects.select_related("escalation_group").get(pk=pk)
    except (Group.DoesNotExist, ValueError, TypeError):
        raise Http404("No such group") from None


def tokens_visible_to(user: User):
    """Staff see their own tokens; administrators every token."""
    from kefu.accounts.models import ApiToken

    if not user.is_authenticated or not user.is_active or not user.is_staff_member:
        return ApiToken.objects.none()
    if user.role == Role.ADMIN:
        return ApiToken.objects.all()
    return ApiToken.objects.filter(user=user)


def get_token_for_user(user: User, pk: int | str):
    """A token ``user`` may see and revoke (their own; any for administrators), or 404."""
    from kefu.accounts.models import ApiToken

    try:
        return tokens_visible_to(user).select_related("user").get(pk=pk)
    except (ApiToken.DoesNotExist, ValueError, TypeError):
        raise Http404("No such token") from None
