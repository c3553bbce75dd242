"""The console's administration pages (not the Django admin): API tokens for every staff
member; users, memberships and groups for administrators. Thin views over ``actions``.

The open tickets on the user and group pages and lists are what tickets registers in
``kefu.lib.panels`` (pages "user", "user_deactivation", "group")."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.accounts import actions
from kefu.accounts.access import (
    get_group_for_admin,
    get_token_for_user,
    get_user_for_admin,
    require_admin_page,
    tokens_visible_to,
)
from kefu.accounts.forms import (
    DeactivateUserForm,
    GroupForm,
    MembershipForm,
    TokenForm,
    UserCreateForm,
    UserEditForm,
)
from kefu.accounts.models import Group, Membership, Role, User
from kefu.lib import panels
from kefu.lib.console import add_action_error, render_console, staff_console_view
from kefu.lib.errors import BusinessRuleError

ACTION_ERRORS = (ValidationError, BusinessRuleError, PermissionDenied)


def _flash_error(request, error: Exception) -> None:
    if isinstance(error, ValidationError):
        for text in error.messages:
            messages.error(request, text)
    elif isinstance(error, BusinessRuleError):
        messages.error(request, error.message)
    else:
        messages.error(request, str(error) or _("You are not allowed to do this."))


# --- API tokens -----------------------------------------------------------------------------


@staff_console_view
def tokens(request):
    """Your tokens (all tokens for administrators); a new token's secret is shown once."""
    form = TokenForm(request.POST or None)
    raw = None
    if request.method == "POST" and form.is_valid():
        try:
            token, raw = actions.create_api_token(
                request.user,
                request.user,
                name=form.cleaned_data["name"],
                expires_at=form.expires_at(),
            )
        except ACTION_ERRORS as error:
            add_action_error(form, error, {"expires_at": "expires_on"})
        else:
            form = TokenForm()
    show_all = request.user.is_admin and request.GET.get("all") == "1"
    listed = tokens_visible_to(request.user).select_related("user").order_by("-created_at")
    if not show_all:
        listed = listed.filter(user=request.user)
    context = {
        "form": form,
        "raw_token": raw,
        "tokens": listed[:500],
        "show_all": show_all,
        "tab": "tokens",
    }
    status = 400 if form.errors else 200
    return render_console(request, "accounts/tokens.html", context, status=status)


@staff_console_view
@require_POST
def token_revoke(request, pk: int):
    token = get_token_for_user(request.user, pk)
    try:
        actions.revoke_api_token(request.user, token)
    except ACTION_ERRORS as error:
        _flash_error(request, error)
    else:
        messages.success(request, _("Token %(prefix)s… revoked.") % {"prefix": token.prefix})
    if request.POST.get("next") == "user":
        return redirect("accounts:user", pk=token.user_id)
    return redirect(reverse_tokens(request))


def reverse_tokens(request) -> str:
    from django.urls import reverse

    suffix = "?all=1" if request.POST.get("all") == "1" else ""
    return reverse("accounts:tokens") + suffix


# --- users ----------------------------------------------------------------------------------


@login_required
def users(request):
    require_admin_page(request.user)
    role = request.GET.get("role", "")
    status = request.GET.get("status", "active")
    query = " ".join(request.GET.get("q", "").split())
    listed = User.objects.filter(role__in=[Role.ADMIN, Role.SUPERVISOR, Role.AGENT])
    if role == Role.CUSTOMER:
        listed = User.objects.filter(role=Role.CUSTOMER)
    elif role in Role.values:
        listed = listed.filter(role=role)
    if status == "active":
        listed = listed.filter(is_active=True)
    elif status == "inactive":
        listed = listed.filter(is_active=False)
    if query:
        listed = listed.filter(Q(name__icontains=query) | Q(email__icontains=query))
    listed = list(listed.prefetch_related("memberships__group").order_by("name", "email")[:500])
    context = {
        "columns": panels.columns("user"),
        "rows": panels.rows("user", request.user, listed),
        "roles": Role.choices,
        "role": role,
        "status": status,
        "q": query,
        "tab": "users",
    }
    return render_console(request, "accounts/users.html", context)


@login_required
def user_new(request):
    require_admin_page(request.user)
    form = UserCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        groups = [(data["group"], data["access"])] if data.get("group") else []
        try:
            user = actions.create_user(
                request.user,
                email=data["email"],
                name=data["name"],
                role=data["role"],
                groups=groups,
            )
            if data["send_invitation"]:
                actions.invite_user(request.user, user)
        except ACTION_ERRORS as error:
            add_action_error(form, error)
        else:
            messages.success(request, _("%(name)s was added.") % {"name": user.name})
            return redirect("accounts:user", pk=user.pk)
    status = 400 if form.errors else 200
    return render_console(
        request, "accounts/user_new.html", {"form": form, "tab": "users"}, status=status
    )


@login_required
def user_detail(request, pk: int):
    target = get_user_for_admin(request.user, pk)
    form = UserEditForm(request.POST or None, user=target, initial=_user_initial(target))
    if request.method == "POST" and form.is_valid():
        try:
            actions.update_user(request.user, target, **form.cleaned_data)
        except ACTION_ERRORS as error:
            add_action_error(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("accounts:user", pk=target.pk)
    return _user_page(request, target, form=form)


def _user_initial(target: User) -> dict:
    return {
        "name": target.name,
        "role": target.role,
        "language": target.language,
        "time_zone": target.time_zone,
    }


def _user_page(request, target: User, *, form=None, membership_form=None):
    context = {
        "target": target,
        "form": form or UserEditForm(user=target, initial=_user_initial(target)),
        "membership_form": membership_form or MembershipForm(),
        "memberships": Membership.objects.filter(user=target).select_related("group"),
        "sections": panels.render_sections(request, "user", target),
        "tokens": target.api_tokens.order_by("-created_at"),
        "is_staff_target": target.is_staff_member,
        "tab": "users",
    }
    has_errors = (form is not None and form.errors) or (
        membership_form is not None and membership_form.errors
    )
    return render_console(
        request, "accounts/user_detail.html", context, status=400 if has_errors else 200
    )


@login_required
@require_POST
def membership_set(request, pk: int):
    target = get_user_for_admin(request.user, pk)
    form = MembershipForm(request.POST)
    if form.is_valid():
        try:
            actions.set_membership(
                request.user, target, form.cleaned_data["group"], form.cleaned_data["access"]
            )
        except ACTION_ERRORS as error:
            add_action_error(form, error)
        else:
            messages.success(request, _("Membership saved."))
            return redirect("accounts:user", pk=target.pk)
    return _user_page(request, target, membership_form=form)


@login_required
@require_POST
def membership_remove(request, pk: int, group_pk: int):
    target = get_user_for_admin(request.user, pk)
    group = get_group_for_admin(request.user, group_pk)
    actions.remove_membership(request.user, target, group)
    messages.success(request, _("Removed from %(group)s.") % {"group": group})
    return redirect("accounts:user", pk=target.pk)


@login_required
@require_POST
def user_invite(request, pk: int):
    target = get_user_for_admin(request.user, pk)
    try:
        actions.invite_user(request.user, target)
    except ACTION_ERRORS as error:
        _flash_error(request, error)
    else:
        messages.success(request, _("Invitation sent to %(email)s.") % {"email": target.email})
    return redirect("accounts:user", pk=target.pk)


@login_required
def user_deactivate(request, pk: int):
    """Deactivation lists the user's open tickets and asks where they go."""
    target = get_user_for_admin(request.user, pk)
    form = DeactivateUserForm(request.POST or None, user=target)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        handover = data["handover"]
        try:
            moved = actions.deactivate_user(
                request.user,
                target,
                reassign_group=data.get("group") if handover != form.KEEP else None,
                reassign_to=data.get("agent") if handover == form.AGENT else None,
            )
        except ACTION_ERRORS as error:
            add_action_error(form, error, {"reassign_group": "group", "reassign_to": "agent"})
        else:
            left = _open_tickets(request, target)
            messages.success(
                request,
                _("%(name)s was deactivated; %(n)s open tickets were handed over.")
                % {"name": target.name, "n": moved},
            )
            if left:
                messages.warning(
                    request,
                    _("%(n)s open tickets are still assigned to %(name)s.")
                    % {"n": left, "name": target.name},
                )
            return redirect("accounts:user", pk=target.pk)
    context = {
        "target": target,
        "form": form,
        "sections": panels.render_sections(request, "user_deactivation", target),
        "asks_handover": _open_tickets(request, target) > 0,
        "tab": "users",
    }
    status = 400 if form.errors else 200
    return render_console(request, "accounts/user_deactivate.html", context, status=status)


def _open_tickets(request, target: User) -> int:
    """The open tickets assigned to ``target``: the ``open_tickets`` value of the user pages'
    registered columns (kefu.lib.panels; tickets registers it)."""
    [(_target, row)] = panels.rows("user", request.user, [target])
    return getattr(row, "open_tickets", None) or 0


@login_required
@require_POST
def user_reactivate(request, pk: int):
    target = get_user_for_admin(request.user, pk)
    actions.reactivate_user(request.user, target)
    messages.success(request, _("%(name)s was reactivated.") % {"name": target.name})
    return redirect("accounts:user", pk=target.pk)


# --- groups ---------------------------------------------------------------------------------


@login_required
def groups(request):
    require_admin_page(request.user)
    listed = list(
        Group.objects.select_related("escalation_group").annotate(
            member_count=Count("memberships", distinct=True)
        )
    )
    context = {
        "columns": panels.columns("group"),
        "rows": panels.rows("group", request.user, listed),
        "tab": "groups",
    }
    return render_console(request, "accounts/groups.html", context)


def _group_values(form: GroupForm) -> dict:
    data = dict(form.cleaned_data)
    data["email"] = data.get("email") or ""
    return data


@login_required
def group_new(request):
    require_admin_page(request.user)
    form = GroupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            group = actions.save_group(request.user, **_group_values(form))
        except ACTION_ERRORS as error:
            add_action_error(form, error)
        else:
            messages.success(request, _("Group saved."))
            return redirect("accounts:group", pk=group.pk)
    status = 400 if form.errors else 200
    context = {"form": form, "group": None, "tab": "groups"}
    return render_console(request, "accounts/group_detail.html", context, status=status)


@login_required
def group_detail(request, pk: int):
    group = get_group_for_admin(request.user, pk)
    initial = {
        "name": group.name,
        "description": group.description,
        "email": group.email,
        "escalation_group": group.escalation_group,
        "signature": group.signature,
        "is_default": group.is_default,
    }
    form = GroupForm(request.POST or None, group=group, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            actions.save_group(request.user, group, **_group_values(form))
        except ACTION_ERRORS as error:
            add_action_error(form, error)
        else:
            messages.success(request, _("Group saved."))
            return redirect("accounts:group", pk=group.pk)
    context = {
        "form": form,
        "group": group,
        "memberships": group.memberships.select_related("user").order_by("user__name"),
        "sections": panels.render_sections(request, "group", group),
        "tab": "groups",
    }
    status = 400 if form.errors else 200
    return render_console(request, "accounts/group_detail.html", context, status=status)


@login_required
@require_POST
def group_deactivate(request, pk: int):
    group = get_group_for_admin(request.user, pk)
    try:
        actions.deactivate_group(request.user, group)
    except ACTION_ERRORS as error:
        _flash_error(request, error)
    else:
        messages.success(request, _("%(group)s was deactivated.") % {"group": group})
    return redirect("accounts:group", pk=group.pk)


@login_required
@require_POST
def group_reactivate(request, pk: int):
    group = get_group_for_admin(request.user, pk)
    actions.reactivate_group(request.user, group)
    messages.success(request, _("%(group)s was reactivated.") % {"group": group})
    return redirect("accounts:group", pk=group.pk)
