"""Routing pages: the rule list (ordered) and rule form, group strategies, the agents page with
profiles, and the availability switch in the console's navigation."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.accounts.access import require_staff_page
from kefu.accounts.models import Group
from kefu.lib.console import add_action_error, render_console, staff_console_view
from kefu.lib.errors import BusinessRuleError
from kefu.routing import actions
from kefu.routing.access import (
    can_configure_group,
    can_edit_rules,
    can_manage_agent,
    can_set_availability,
    get_agent_for_user,
    get_group_for_user,
    get_rule_for_user,
    require_rule_editor,
    staff_for_routing,
)
from kefu.routing.assignment import agent_overview
from kefu.routing.conditions import describe_rule
from kefu.routing.forms import AgentProfileForm, AvailabilityForm, GroupRoutingForm, RuleForm
from kefu.routing.models import AssignmentRule

ACTION_ERRORS = (ValidationError, BusinessRuleError, PermissionDenied)


@staff_console_view
def overview(request):
    require_staff_page(request.user)
    rules = list(AssignmentRule.objects.order_by("position", "pk"))
    groups = list(
        Group.objects.filter(is_active=True).select_related("routing", "escalation_group")
    )
    context = {
        "rules": [(rule, describe_rule(rule)) for rule in rules],
        "groups": [
            (group, actions.routing_for(group), can_configure_group(request.user, group))
            for group in groups
        ],
        "may_edit_rules": can_edit_rules(request.user),
    }
    return render_console(request, "routing/overview.html", context)


@staff_console_view
def rule_new(request):
    require_rule_editor(request.user)
    form = RuleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.save_rule(request.user, **form.rule_fields())
        except ACTION_ERRORS as error:
            add_action_error(form, error)
        else:
            messages.success(request, _("Rule saved."))
            return redirect("routing:overview")
    return _rule_page(request, form, None)


@staff_console_view
def rule_detail(request, pk: int):
    rule = get_rule_for_user(request.user, pk, write=request.method == "POST")
    form = RuleForm(request.POST or None, rule=rule)
    if request.method == "POST" and form.is_valid():
        try:
            actions.save_rule(request.user, rule, **form.rule_fields())
        except ACTION_ERRORS as error:
            add_action_error(form, error)
        else:
            messages.success(request, _("Rule saved."))
            return redirect("routing:overview")
    return _rule_page(request, form, rule)


def _rule_page(request, form: RuleForm, rule: AssignmentRule | None):
    context = {
        "form": form,
        "rule": rule,
        "may_edit_rules": can_edit_rules(request.user),
        "kept": form.kept,
    }
    return render_console(
        request, "routing/rule_form.html", context, status=400 if form.errors else 200
    )


@staff_console_view
@require_POST
def rule_move(request, pk: int):
    rule = get_rule_for_user(request.user, pk, write=True)
    actions.move_rule(request.user, rule, request.POST.get("direction", ""))
    return redirect("routing:overview")


@staff_console_view
@require_POST
def rule_delete(request, pk: int):
    rule = get_rule_for_user(request.user, pk, write=True)
    actions.delete_rule(request.user, rule)
    messages.success(request, _("Rule deleted."))
    return redirect("routing:overview")


@staff_console_view
def group_detail(request, pk: int):
    group = get_group_for_user(request.user, pk, write=request.method == "POST")
    routing = actions.routing_for(group)
    form = GroupRoutingForm(
        request.POST or None,
        initial={"strategy": routing.strategy, "max_in_a_row": routing.max_in_a_row},
    )
    if request.method == "POST" and form.is_valid():
        try:
            actions.save_group_routing(request.user, group, **form.cleaned_data)
        except ACTION_ERRORS as error:
            add_action_error(form, error)
        else:
            messages.success(request, _("Assignment strategy saved."))
            return redirect("routing:overview")
    context = {
        "group": group,
        "routing": routing,
        "form": form,
        "may_configure": can_configure_group(request.user, group),
        "agents": agent_overview(staff_for_routing().filter(memberships__group=group)),
    }
    return render_console(
        request, "routing/group.html", context, status=400 if form.errors else 200
    )


@staff_console_view
def agents(request):
    require_staff_page(request.user)
    rows = agent_overview(staff_for_routing().prefetch_related("memberships__group"))
    context = {
        "agent_rows": rows,
    }
    return render_console(request, "routing/agents.html", context)


@staff_console_view
def agent_detail(request, pk: int):
    agent = get_agent_for_user(request.user, pk, write=request.method == "POST")
    profile = actions.profile_of(agent)
    form = AgentProfileForm(request.POST or None, initial=AgentProfileForm.initial_from(profile))
    if request.method == "POST" and form.is_valid():
        try:
            actions.save_agent_profile(request.user, agent, **form.profile_fields())
        except ACTION_ERRORS as error:
            add_action_error(form, error)
        else:
            messages.success(request, _("Profile saved."))
            return redirect("routing:agent", pk=agent.pk)
    return _agent_page(request, agent, form=form)


def _agent_page(request, agent, **forms):
    profile = actions.profile_of(agent)
    context = {
        "agent": agent,
        "profile": profile,
        "form": forms.get("form")
        or AgentProfileForm(initial=AgentProfileForm.initial_from(profile)),
        "availability_form": forms.get("availability_form")
        or AvailabilityForm(initial={"availability": profile.availability}),
        "may_manage": can_manage_agent(request.user, agent),
        "may_set_availability": can_set_availability(request.user, agent),
    }
    status = 400 if any(f.errors for f in forms.values()) else 200
    return render_console(request, "routing/agent.html", context, status=status)


@staff_console_view
@require_POST
def availability(request, pk: int | None = None):
    """Set availability: your own (the navigation switch), or an agent's (supervisors)."""
    agent = request.user if pk is None else get_agent_for_user(request.user, pk)
    form = AvailabilityForm(request.POST)
    if form.is_valid():
        try:
            moved = actions.set_availability(
                request.user,
                agent,
                form.cleaned_data["availability"],
                away_until=form.cleaned_data["away_until"],
                reassign=form.cleaned_data["reassign"],
            )
        except ACTION_ERRORS as error:
            if pk is None:
                messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
                return redirect("routing:agent", pk=agent.pk)
            add_action_error(form, error)
        else:
            messages.success(
                request,
                _("Availability saved; %(n)s open tickets handed to others.") % {"n": moved}
                if moved
                else _("Availability saved."),
            )
            target = request.POST.get("next", "")
            if url_has_allowed_host_and_scheme(target, {request.get_host()}):
                return redirect(target)
            return redirect("routing:agent", pk=agent.pk)
    return _agent_page(request, agent, availability_form=form)
