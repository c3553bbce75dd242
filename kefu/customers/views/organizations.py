"""Organisations: list, page (tier, notes, contacts, assets; the sections other apps register in
``kefu.lib.panels`` for "organization", such as tickets with counts), edit, deactivate."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count, Q
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.customers import actions
from kefu.customers.access import get_organization_for_user
from kefu.customers.forms import NotesForm, OrganizationFilterForm, OrganizationForm
from kefu.customers.models import Organization
from kefu.customers.views.common import paginate, querystring_without_page
from kefu.lib import panels
from kefu.lib.console import (
    ACTION_ERRORS,
    add_action_error,
    is_htmx,
    render_console,
    staff_console_view,
)


@staff_console_view
def organization_list(request):
    form = OrganizationFilterForm(request.GET or None)
    organizations = Organization.objects.all()
    active: bool | None = True
    if form.is_valid():
        query = " ".join(form.cleaned_data["q"].split())
        if query:
            organizations = organizations.filter(
                Q(name__icontains=query) | Q(domain__icontains=query)
            )
        if form.cleaned_data.get("tier"):
            organizations = organizations.filter(tier=form.cleaned_data["tier"])
        active = form.active_filter()
    if active is not None:
        organizations = organizations.filter(is_active=active)
    page = paginate(request, organizations.order_by("name", "pk"))
    counts = {
        row["pk"]: row
        for row in Organization.objects.filter(pk__in=[o.pk for o in page])
        .annotate(
            contact_count=Count("contacts", distinct=True),
            asset_count=Count("assets", distinct=True),
        )
        .values("pk", "contact_count", "asset_count")
    }
    rows = [(organization, counts[organization.pk]) for organization in page]
    context = {"form": form, "page": page, "rows": rows, "qs": querystring_without_page(request)}
    if is_htmx(request):
        return render(request, "customers/_organization_table.html", context)
    return render_console(request, "customers/organization_list.html", context)


@staff_console_view
def organization_detail(request, pk: int):
    organization = get_organization_for_user(request.user, pk)
    context = {
        "organization": organization,
        "sections": panels.render_sections(request, "organization", organization),
        "contacts": list(organization.contacts.order_by("-is_active", "name")),
        "assets": list(organization.assets.select_related("product", "contact")),
        "notes_form": NotesForm(initial={"notes": organization.notes}),
    }
    return render_console(request, "customers/organization_detail.html", context)


@staff_console_view
def organization_new(request):
    form = OrganizationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            organization = actions.create_organization(request.user, **form.cleaned_data)
        except ACTION_ERRORS as error:
            add_action_error(form, error)
        else:
            messages.success(request, _("Organisation %(name)s created.") % {"name": organization})
            return redirect("customers:organization", pk=organization.pk)
    context = {"form": form, "title": _("New organisation")}
    return render_console(request, "customers/form.html", context)


@staff_console_view
def organization_edit(request, pk: int):
    organization = get_organization_for_user(request.user, pk)
    form = OrganizationForm.for_organization(organization, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.update_organization(request.user, organization, **form.cleaned_data)
        except ACTION_ERRORS as error:
            add_action_error(form, error)
        else:
            messages.success(request, _("Organisation saved."))
            return redirect("customers:organization", pk=organization.pk)
    context = {"form": form, "title": _("Edit %(name)s") % {"name": organization}}
    return render_console(request, "customers/form.html", context)


@staff_console_view
@require_POST
def organization_notes(request, pk: int):
    organization = get_organization_for_user(request.user, pk)
    form = NotesForm(request.POST)
    if form.is_valid():
        try:
            actions.update_organization(
                request.user, organization, notes=form.cleaned_data["notes"]
            )
        except ACTION_ERRORS as error:
            messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
        else:
            if is_htmx(request):
                context = {"notes_form": form, "saved": True, "action": request.path}
                return render(request, "customers/_notes.html", context)
            messages.success(request, _("Notes saved."))
    return redirect("customers:organization", pk=organization.pk)


@staff_console_view
@require_POST
def organization_activate(request, pk: int):
    organization = get_organization_for_user(request.user, pk)
    active = request.POST.get("active") == "1"
    try:
        actions.set_organization_active(request.user, organization, active)
    except ACTION_ERRORS as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request, _("Organisation reactivated.") if active else _("Organisation deactivated.")
        )
    return redirect("customers:organization", pk=organization.pk)
