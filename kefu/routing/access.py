"""Who sees and changes routing: staff read it; administrators and supervisors change rules;
administrators, and supervisors for their own groups and agents, change strategies and profiles;
every agent sets their own availability. Customers never see any of it (404)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404

from kefu.accounts.access import group_ids_for, require_staff_page
from kefu.accounts.models import Group, Role, User
from kefu.routing.models import AssignmentRule


def can_edit_rules(user: User) -> bool:
    return user.is_authenticated and user.is_active and user.role in (Role.ADMIN, Role.SUPERVISOR)


def require_rule_editor(user: User) -> None:
    require_staff_page(user)
    if not can_edit_rules(user):
        raise PermissionDenied("Only administrators and supervisors change assignment rules.")


def get_rule_for_user(user: User, pk: int, *, write: bool = False) -> AssignmentRule:
    require_rule_editor(user) if write else require_staff_page(user)
    try:
        return AssignmentRule.objects.get(pk=pk)
    except (AssignmentRule.DoesNotExist, ValueError, TypeError):
        raise Http404("No such rule") from None


def can_configure_group(user: User, group: Group) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    if user.role == Role.ADMIN:
        return True
    return user.role == Role.SUPERVISOR and group.pk in group_ids_for(user)


def get_group_for_user(user: User, pk: int, *, write: bool = False) -> Group:
    require_staff_page(user)
    try:
        group = Group.objects.get(pk=pk, is_active=True)
    except (Group.DoesNotExist, ValueError, TypeError):
        raise Http404("No such group") from None
    if write and not can_configure_group(user, group):
        raise PermissionDenied("Only administrators and the group's supervisors change this.")
    return group


def can_manage_agent(user: User, agent: User) -> bool:
    """Change an agent's capacity, skills, shift and availability."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.role == Role.ADMIN:
        return True
    if user.role == Role.SUPERVISOR:
        return bool(group_ids_for(user) & group_ids_for(agent)) or agent.pk == user.pk
    return False


def can_set_availability(user: User, agent: User) -> bool:
    return agent.pk == user.pk and user.is_staff_member or can_manage_agent(user, agent)


def staff_for_routing():
    return User.objects.filter(role__in=(Role.AGENT, Role.SUPERVISOR), is_active=True)


def get_agent_for_user(user: User, pk: int, *, write: bool = False) -> User:
    require_staff_page(user)
    try:
        agent = staff_for_routing().get(pk=pk)
    except (User.DoesNotExist, ValueError, TypeError):
        raise Http404("No such agent") from None
    if write and not can_manage_agent(user, agent):
        raise PermissionDenied("Only administrators and the agent's supervisors change this.")
    return agent
