"""Who may do what with groups and users, and the permission guards every app uses; ticket access
lives in ``kefu.tickets.access``."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from kefu.accounts.models import Access, Group, Membership, Role, User


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


# --- the permission guards -------------------------------------------------------------------
# One answer for the same case everywhere (docs/architecture.md, "Permission guards"):
# - console pages: anyone who is not active staff (customers) gets 404, as for a page that does
#   not exist; staff without the role get 403 with the reason. Anonymous visitors never reach
#   these guards: ``login_required`` sends them to the login page first.
# - actions and the API: 403 with the reason (an API client needs to know why); ``None`` as the
#   actor is the system or the command line, which may do anything.
# Everything checks ``is_active``: a deactivated user's open session or token grants nothing.


def is_active_staff(user: User | None) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.is_staff_member)


def is_active_admin(user: User | None) -> bool:
    return is_active_staff(user) and user.role == Role.ADMIN  # type: ignore[union-attr]


def require_staff(actor: User | None, message: str | None = None) -> None:
    """Actions and API handlers: staff only (``None``, the system, passes)."""
    if actor is not None and not is_active_staff(actor):
        raise PermissionDenied(message or _("Only staff can do this."))


def require_admin(actor: User | None, message: str | None = None) -> None:
    """Actions and API handlers: administrators only (``None``, the system, passes)."""
    if actor is not None and not is_active_admin(actor):
        raise PermissionDenied(message or _("Only administrators can do this."))


def require_staff_page(user: User) -> None:
    """Console pages for staff: everyone else gets a 404."""
    if not is_active_staff(user):
        raise Http404("No such page")


def require_admin_page(user: User, message: str | None = None) -> None:
    """Administration pages: non-staff get a 404, other staff a 403."""
    require_staff_page(user)
    if user.role != Role.ADMIN:
        raise PermissionDenied(message or _("Only administrators manage users and groups."))


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
