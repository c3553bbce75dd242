"""SLA pages: calendars and policies (staff read, administrators edit), compliance, and the
ticket page's acknowledge and escalate actions."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.lib.console import add_action_error, render_console, staff_console_view
from kefu.lib.errors import BusinessRuleError
from kefu.sla import actions
from kefu.sla.access import (
    can_configure_sla,
    get_calendar_date_for_user,
    get_calendar_for_user,
    get_level_for_user,
    get_policy_for_user,
    require_sla_admin,
    require_sla_reader,
)
from kefu.sla.checks import years_to_check
from kefu.sla.compliance import compliance_rows
from kefu.sla.forms import (
    CalendarDateForm,
    CalendarForm,
    CalendarImportForm,
    ComplianceForm,
    EscalateForm,
    EscalationLevelForm,
    PolicyForm,
)
from kefu.sla.models import BusinessCalendar, SLAPolicy
from kefu.tickets.access import get_ticket_for_user
from kefu.tickets.models import Ticket

ACTION_ERRORS = (ValidationError, BusinessRuleError, PermissionDenied)


@staff_console_view
def overview(request):
    require_sla_reader(request.user)
    calendars = list(BusinessCalendar.objects.prefetch_related("dates"))
    years = years_to_check()
    context = {
        "calendars": [(c, c.missing_years(years)) for c in calendars],
        "policies": SLAPolicy.objects.select_related("calendar").prefetch_related(
            "targets", "escalation_levels"
        ),
        "may_configure": can_configure_sla(request.user),
    }
    return render_console(request, "sla/overview.html", context)


# --- calendars ------------------------------------------------------------------------------


@staff_console_view
def calendar_new(request):
    require_sla_admin(request.user)
    form = CalendarForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            calendar = actions.save_calendar(request.user, **form.calendar_fields())
        except ACTION_ERRORS as error:
            add_action_error(form, error)
        else:
            messages.success(request, _("Calendar saved."))
            return redirect("sla:calendar", pk=calendar.pk)
    return render_console(request, "sla/calendar_form.html", {"form": form})


@staff_console_view
def calendar_detail(request, pk: int):
    calendar = get_calendar_for_user(request.user, pk, write=request.method == "POST")
    form = CalendarForm(request.POST or None, instance=calendar)
    if request.method == "POST" and form.is_valid():
        try:
            actions.save_calendar(request.user, calendar, **form.calendar_fields())
        except ACTION_ERRORS as error:
            add_action_error(form, error)
        else:
            messages.success(request, _("Calendar saved."))
            return redirect("sla:calendar", pk=calendar.pk)
    return calendar_page(request, calendar, form=form)


def calendar_page(request, calendar: BusinessCalendar, **forms):
    context = {
        "calendar": calendar,
        "form": forms.get("form") or CalendarForm(instance=calendar),
        "date_form": forms.get("date_form") or CalendarDateForm(),
        "import_form": forms.get("import_form") or CalendarImportForm(),
        "dates": calendar.dates.all(),
        "missing_years": calendar.missing_years(years_to_check()),
        "may_configure": can_configure_sla(request.user),
    }
    status = 400 if any(f.errors for f in forms.values()) else 200
    return render_console(request, "sla/calendar.html", context, status=status)


@staff_console_view
@require_POST
def calendar_date_add(request, pk: int):
    calendar = get_calendar_for_user(request.user, pk, write=True)
    form = CalendarDateForm(request.POST)
    if form.is_valid():
        try:
            actions.set_calendar_date(request.user, calendar, **form.cleaned_data)
        except ACTION_ERRORS as error:
            add_action_error(form, error)
        else:
            messages.success(request, _("Date saved."))
            return redirect("sla:calendar", pk=calendar.pk)
    return calendar_page(request, calendar, date_form=form)


@staff_console_view
@require_POST
def calendar_date_remove(request, pk: int, date_pk: int):
    calendar = get_calendar_for_user(request.user, pk, write=True)
    actions.remove_calendar_date(
        request.user, get_calendar_date_for_user(request.user, calendar, date_pk)
    )
    messages.success(request, _("Date removed."))
    return redirect("sla:calendar", pk=calendar.pk)


@staff_console_view
@require_POST
def calendar_import(request, pk: int):
    calendar = get_calendar_for_user(request.user, pk, write=True)
    form = CalendarImportForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            imported = actions.import_calendar_dates(
                request.user, calendar, upload.read(), upload.name
            )
        except ACTION_ERRORS as error:
            add_action_error(form, error)
        else:
            messages.success(request, _("%(n)s dates imported.") % {"n": len(imported)})
            return redirect("sla:calendar", pk=calendar.pk)
    return calendar_page(request, calendar, import_form=form)


# --- policies -------------------------------------------------------------------------------


@staff_console_view
def policy_new(request):
    require_sla_admin(request.user)
    form = PolicyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            policy = actions.save_policy(
                request.user, targets=form.targets(), **form.policy_fields()
            )
        except ACTION_ERRORS as error:
            add_action_error(form, error)
        else:
            messages.success(request, _("Policy saved."))
            return redirect("sla:policy", pk=policy.pk)
    return render_console(request, "sla/policy_form.html", {"form": form})


@staff_console_view
def policy_detail(request, pk: int):
    policy = get_policy_for_user(request.user, pk, write=request.method == "POST")
    form = PolicyForm(request.POST or None, instance=policy)
    if request.method == "POST" and form.is_valid():
        try:
            actions.save_policy(
                request.user, policy, targets=form.targets(), **form.policy_fields()
            )
        except ACTION_ERRORS as error:
            add_action_error(form, error)
        else:
            messages.success(request, _("Policy saved."))
            return redirect("sla:policy", pk=policy.pk)
    return policy_page(request, policy, form=form)


def policy_page(request, policy: SLAPolicy, *, form=None, level_form=None):
    context = {
        "policy": policy,
        "form": form or PolicyForm(instance=policy),
        "levels": policy.escalation_levels.prefetch_related("notify_users"),
        "level_form": level_form or EscalationLevelForm(),
        "may_configure": can_configure_sla(request.user),
    }
    status = 400 if (form and form.errors) or (level_form and level_form.errors) else 200
    return render_console(request, "sla/policy.html", context, status=status)


@staff_console_view
@require_POST
def level_add(request, pk: int):
    policy = get_policy_for_user(request.user, pk, write=True)
    form = EscalationLevelForm(request.POST)
    if form.is_valid():
        try:
            actions.save_escalation_level(
                request.user,
                policy,
                notify_users=form.cleaned_data["notify_users"],
                **form.level_fields(),
            )
        except ACTION_ERRORS as error:
            add_action_error(form, error)
        else:
            messages.success(request, _("Escalation level saved."))
            return redirect("sla:policy", pk=policy.pk)
    return policy_page(request, policy, level_form=form)


@staff_console_view
@require_POST
def level_remove(request, pk: int, level_pk: int):
    policy = get_policy_for_user(request.user, pk, write=True)
    actions.remove_escalation_level(
        request.user, get_level_for_user(request.user, policy, level_pk)
    )
    messages.success(request, _("Escalation level removed."))
    return redirect("sla:policy", pk=policy.pk)


# --- compliance -----------------------------------------------------------------------------


@staff_console_view
def compliance(request):
    form = ComplianceForm(request.GET or None)
    by = form.grouping()
    rows = compliance_rows(request.user, since=form.since(), by=by)
    return render_console(request, "sla/compliance.html", {"form": form, "rows": rows, "by": by})


# --- the ticket page's actions --------------------------------------------------------------


@staff_console_view
@require_POST
def ticket_acknowledge(request, pk: int):
    ticket = get_ticket_for_user(request.user, pk, write=True)
    try:
        actions.acknowledge_ticket(request.user, ticket)
    except (BusinessRuleError, PermissionDenied) as error:
        messages.error(request, getattr(error, "message", None) or str(error))
    else:
        messages.success(request, _("Acknowledged."))
    return redirect("tickets:detail", pk=ticket.pk)


@staff_console_view
def ticket_escalate(request, pk: int):
    ticket = get_ticket_for_user(request.user, pk, write=request.method == "POST")
    form = EscalateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            ticket = actions.escalate_ticket(request.user, ticket, **form.cleaned_data)
        except ACTION_ERRORS as error:
            add_action_error(form, error)
        else:
            messages.success(request, _("Ticket escalated."))
            if Ticket.objects.visible_to(request.user).filter(pk=ticket.pk).exists():
                return redirect("tickets:detail", pk=ticket.pk)
            return redirect("tickets:list")
    status = 400 if form.errors else 200
    return render_console(
        request, "sla/escalate.html", {"ticket": ticket, "form": form}, status=status
    )
