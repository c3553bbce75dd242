"""Automation pages: triggers, time rules, macros, canned responses, webhooks (with their
delivery log), and the ticket page's macro and canned-response tools."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.accounts.access import require_staff_page
from kefu.automation import actions
from kefu.automation.access import (
    can_configure,
    get_canned_response_for_user,
    get_delivery_for_user,
    get_macro_for_user,
    get_time_rule_for_user,
    get_trigger_for_user,
    get_usable_macro,
    get_webhook_for_user,
    listable,
    may_manage,
    require_configurator_page,
    usable,
)
from kefu.automation.forms import (
    MACRO_ACTIONS,
    CannedResponseForm,
    MacroForm,
    TimeRuleForm,
    TriggerForm,
    WebhookForm,
    action_formset,
    condition_formset,
    formset_rows,
)
from kefu.automation.models import CannedResponse, Macro, TimeRule, Trigger, Webhook
from kefu.automation.placeholders import placeholder_help
from kefu.automation.rules import (
    describe_action,
    describe_condition,
    editable_rows,
    value_suggestions,
)
from kefu.lib.console import add_action_error, render_console, staff_console_view
from kefu.lib.errors import BusinessRuleError
from kefu.tickets.access import get_ticket_for_user

ACTION_ERRORS = (ValidationError, BusinessRuleError, PermissionDenied)


def _saved(request, what: str, url: str) -> HttpResponse:
    messages.success(request, _("%(what)s saved.") % {"what": what})
    return redirect(url)


def _page(request, template: str, context: dict[str, Any], *forms: Any) -> HttpResponse:
    failed = request.method == "POST" and any(
        f.errors or getattr(f, "non_form_errors", lambda: [])() for f in forms
    )
    if "actions" in context:  # a form with rows: the value box suggestions and placeholders
        suggestions = value_suggestions()
        context["value_suggestions"] = sorted(
            {v for values in suggestions.values() for v in values}
        )
        context["placeholders"] = placeholder_help()
    return render_console(
        request,
        template,
        {"may_configure": can_configure(request.user), **context},
        status=400 if failed else 200,
    )


def _described(rule: Any) -> Any:
    rule.condition_texts = [describe_condition(c) for c in rule.conditions]
    rule.action_texts = [describe_action(a) for a in rule.actions]
    return rule


@staff_console_view
def index(request):
    return redirect("automation:triggers")


# --- triggers -------------------------------------------------------------------------------


@staff_console_view
def trigger_list(request):
    require_staff_page(request.user)
    triggers = [_described(t) for t in Trigger.objects.all()]
    return _page(request, "automation/triggers.html", {"triggers": triggers, "tab": "triggers"})


@staff_console_view
def trigger_edit(request, pk: int | None = None):
    posted = request.method == "POST"
    trigger = get_trigger_for_user(request.user, pk, write=posted) if pk else None
    if trigger is None:
        require_configurator_page(request.user)
    data = request.POST if posted else None
    form = TriggerForm(data, initial=TriggerForm.initial_for(trigger) if trigger else None)
    conditions = condition_formset(data, editable_rows(trigger.conditions) if trigger else None)
    rows = action_formset(data, editable_rows(trigger.actions, actions=True) if trigger else None)
    if posted and all([form.is_valid(), conditions.is_valid(), rows.is_valid()]):
        try:
            actions.save_trigger(
                request.user,
                trigger,
                **form.cleaned_data,
                conditions=formset_rows(conditions),
                actions=formset_rows(rows),
            )
        except ACTION_ERRORS as error:
            add_action_error(form, error)
        else:
            return _saved(request, _("Trigger"), reverse("automation:triggers"))
    context = {"form": form, "conditions": conditions, "actions": rows, "rule": trigger}
    return _page(request, "automation/trigger_form.html", context, form, conditions, rows)


@staff_console_view
@require_POST
def trigger_toggle(request, pk: int):
    trigger = get_trigger_for_user(request.user, pk, write=True)
    actions.save_trigger(request.user, trigger, is_active=not trigger.is_active)
    return redirect("automation:triggers")


# --- time rules -----------------------------------------------------------------------------


@staff_console_view
def time_rule_list(request):
    require_staff_page(request.user)
    rules = [_described(r) for r in TimeRule.objects.all()]
    return _page(request, "automation/time_rules.html", {"rules": rules, "tab": "time_rules"})


@staff_console_view
def time_rule_edit(request, pk: int | None = None):
    posted = request.method == "POST"
    rule = get_time_rule_for_user(request.user, pk, write=posted) if pk else None
    if rule is None:
        require_configurator_page(request.user)
    data = request.POST if posted else None
    fields = ("name", "state", "delay", "unit", "position", "is_active")
    form = TimeRuleForm(data, initial={f: getattr(rule, f) for f in fields} if rule else None)
    conditions = condition_formset(
        data, editable_rows(rule.conditions) if rule else None, with_changes=False
    )
    rows = action_formset(data, editable_rows(rule.actions, actions=True) if rule else None)
    if posted and all([form.is_valid(), conditions.is_valid(), rows.is_valid()]):
        try:
            actions.save_time_rule(
                request.user,
                rule,
                **form.cleaned_data,
                conditions=formset_rows(conditions),
                actions=formset_rows(rows),
            )
        except ACTION_ERRORS as error:
            add_action_error(form, error)
        else:
            return _saved(request, _("Time rule"), reverse("automation:time_rules"))
    context = {"form": form, "conditions": conditions, "actions": rows, "rule": rule}
    return _page(request, "automation/time_rule_form.html", context, form, conditions, rows)


@staff_console_view
@require_POST
def time_rule_toggle(request, pk: int):
    rule = get_time_rule_for_user(request.user, pk, write=True)
    actions.save_time_rule(request.user, rule, is_active=not rule.is_active)
    return redirect("automation:time_rules")


# --- macros and canned responses ------------------------------------------------------------


@staff_console_view
def macro_list(request):
    require_staff_page(request.user)
    macros = []
    for macro in listable(Macro, request.user):
        macro.action_texts = [describe_action(a) for a in macro.actions]
        macro.may_manage = may_manage(request.user, macro)
        macros.append(macro)
    return _page(request, "automation/macros.html", {"macros": macros, "tab": "macros"})


def _sharing_initial(item: Any) -> dict:
    return {"visibility": item.visibility, "group": item.group, "is_active": item.is_active}


@staff_console_view
def macro_edit(request, pk: int | None = None):
    require_staff_page(request.user)
    macro = get_macro_for_user(request.user, pk, write=True) if pk else None
    data = request.POST if request.method == "POST" else None
    initial = (
        {
            **_sharing_initial(macro),
            "name": macro.name,
            "reply_body": macro.reply_body,
            "reply_internal": macro.reply_internal,
        }
        if macro
        else None
    )
    form = MacroForm(data, initial=initial, user=request.user)
    rows = action_formset(
        data, editable_rows(macro.actions, actions=True) if macro else None, allowed=MACRO_ACTIONS
    )
    if data is not None and form.is_valid() and rows.is_valid():
        try:
            actions.save_macro(request.user, macro, **form.cleaned_data, actions=formset_rows(rows))
        except ACTION_ERRORS as error:
            add_action_error(form, error)
        else:
            return _saved(request, _("Macro"), reverse("automation:macros"))
    context = {"form": form, "actions": rows, "item": macro}
    return _page(request, "automation/macro_form.html", context, form, rows)


@staff_console_view
@require_POST
def macro_toggle(request, pk: int):
    macro = get_macro_for_user(request.user, pk, write=True)
    actions.save_macro(request.user, macro, is_active=not macro.is_active)
    return redirect("automation:macros")


@staff_console_view
def canned_list(request):
    require_staff_page(request.user)
    items = list(listable(CannedResponse, request.user))
    for item in items:
        item.may_manage = may_manage(request.user, item)
    return _page(request, "automation/canned.html", {"items": items, "tab": "canned"})


@staff_console_view
def canned_edit(request, pk: int | None = None):
    require_staff_page(request.user)
    item = get_canned_response_for_user(request.user, pk, write=True) if pk else None
    data = request.POST if request.method == "POST" else None
    initial = {**_sharing_initial(item), "title": item.title, "body": item.body} if item else None
    form = CannedResponseForm(data, initial=initial, user=request.user)
    if data is not None and form.is_valid():
        try:
            actions.save_canned_response(request.user, item, **form.cleaned_data)
        except ACTION_ERRORS as error:
            add_action_error(form, error)
        else:
            return _saved(request, _("Canned response"), reverse("automation:canned"))
    return _page(request, "automation/canned_form.html", {"form": form, "item": item}, form)


@staff_console_view
@require_POST
def canned_toggle(request, pk: int):
    item = get_canned_response_for_user(request.user, pk, write=True)
    actions.save_canned_response(request.user, item, is_active=not item.is_active)
    return redirect("automation:canned")


# --- webhooks -------------------------------------------------------------------------------


@staff_console_view
def webhook_list(request):
    require_configurator_page(request.user)
    hooks = Webhook.objects.all()
    return _page(request, "automation/webhooks.html", {"hooks": hooks, "tab": "webhooks"})


@staff_console_view
def webhook_edit(request, pk: int | None = None):
    hook = get_webhook_for_user(request.user, pk) if pk else None
    require_configurator_page(request.user)
    data = request.POST if request.method == "POST" else None
    fields = ("name", "url", "events", "is_active")
    form = WebhookForm(data, initial={f: getattr(hook, f) for f in fields} if hook else None)
    if data is not None and form.is_valid():
        try:
            hook = actions.save_webhook(request.user, hook, **form.cleaned_data)
        except ACTION_ERRORS as error:
            add_action_error(form, error)
        else:
            return _saved(request, _("Webhook"), reverse("automation:webhook", args=[hook.pk]))
    deliveries = hook.deliveries.all()[:50] if hook else []
    context = {"form": form, "hook": hook, "deliveries": deliveries}
    return _page(request, "automation/webhook_form.html", context, form)


@staff_console_view
@require_POST
def webhook_toggle(request, pk: int):
    hook = get_webhook_for_user(request.user, pk)
    actions.save_webhook(request.user, hook, is_active=not hook.is_active)
    return redirect("automation:webhooks")


@staff_console_view
@require_POST
def webhook_test(request, pk: int):
    hook = get_webhook_for_user(request.user, pk)
    actions.send_test_delivery(request.user, hook)
    messages.success(request, _("A test delivery is queued; it appears below when sent."))
    return redirect("automation:webhook", pk=hook.pk)


@staff_console_view
def delivery_detail(request, pk: int, delivery_pk: int):
    hook = get_webhook_for_user(request.user, pk)
    delivery = get_delivery_for_user(request.user, hook, delivery_pk)
    payload = json.dumps(delivery.payload, ensure_ascii=False, indent=2)
    context = {
        "hook": hook,
        "delivery": delivery,
        "payload": payload,
        "attempts": delivery.log.all(),
    }
    return _page(request, "automation/delivery.html", context)


# --- on the ticket page ---------------------------------------------------------------------


@staff_console_view
@require_POST
def ticket_apply_macro(request, pk: int):
    ticket = get_ticket_for_user(request.user, pk, write=True)
    url = reverse("tickets:detail", args=[ticket.pk])
    try:
        macro = get_usable_macro(request.user, int(request.POST.get("macro") or 0))
        actions.apply_macro(request.user, ticket, macro)
    except (*ACTION_ERRORS, ValueError) as error:
        text = getattr(error, "message", None) or "; ".join(getattr(error, "messages", []))
        messages.error(request, text or str(error) or _("The macro could not be applied."))
    else:
        messages.success(request, _("Macro “%(name)s” applied.") % {"name": macro.name})
    return redirect(url)


@staff_console_view
def ticket_canned_search(request, pk: int):
    ticket = get_ticket_for_user(request.user, pk, write=True)
    query = request.GET.get("q", "")[:100]
    items = actions.search_canned_responses(request.user, query)
    results = [
        {"item": item, "text": actions.use_canned_response(request.user, item, ticket, count=False)}
        for item in items
    ]
    context = {"ticket": ticket, "results": results, "query": query}
    return render(request, "automation/_canned_results.html", context)


@staff_console_view
@require_POST
def ticket_canned_used(request, pk: int, item_pk: int):
    ticket = get_ticket_for_user(request.user, pk, write=True)
    item = usable(CannedResponse, request.user).filter(pk=item_pk).first()
    if item is not None:
        actions.use_canned_response(request.user, item, ticket)
    return HttpResponse(status=204)
