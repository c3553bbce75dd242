"""Contacts: list, profile (identifiers, notes, assets), edit, deactivate, merge a duplicate.

What higher apps know about a contact (tickets with their counts) are the sections and list
columns they register in ``kefu.lib.panels`` for the page "contact"."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.customers import actions
from kefu.customers.access import contacts_visible_to, get_contact_for_user, matching_contacts
from kefu.customers.forms import ContactFilterForm, ContactForm, MergeForm, NotesForm
from kefu.customers.models import Contact
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
def contact_list(request):
    form = ContactFilterForm(request.GET or None)
    contacts = contacts_visible_to(request.user).select_related("organization")
    if form.is_valid():
        contacts = matching_contacts(contacts, form.cleaned_data["q"])
        if form.cleaned_data.get("organization"):
            contacts = contacts.filter(organization=form.cleaned_data["organization"])
        active = form.active_filter()
    else:
        active = True
    if active is not None:
        contacts = contacts.filter(is_active=active)
    page = paginate(request, contacts.order_by("name", "pk"))
    context = {
        "form": form,
        "page": page,
        "columns": panels.columns("contact"),
        "rows": panels.rows("contact", request.user, list(page)),
        "qs": querystring_without_page(request),
    }
    if is_htmx(request):
        return render(request, "customers/_contact_table.html", context)
    return render_console(request, "customers/contact_list.html", context)


def contact_page(request, contact: Contact, *, notes_form=None, merge_form=None, status=200):
    context = {
        "contact": contact,
        "sections": panels.render_sections(request, "contact", contact),
        "assets": list(contact.assets.select_related("product", "organization")),
        "notes_form": notes_form or NotesForm(initial={"notes": contact.notes}),
        "merge_form": merge_form or MergeForm(),
        "merged_from": list(contact.merged_from.all()),
    }
    return render_console(request, "customers/contact_detail.html", context, status=status)


@staff_console_view
def contact_detail(request, pk: int):
    return contact_page(request, get_contact_for_user(request.user, pk))


@staff_console_view
def contact_new(request):
    form = ContactForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            contact = actions.create_contact(request.user, **form.cleaned_data)
        except ACTION_ERRORS as error:
            add_action_error(form, error)
        else:
            messages.success(request, _("Customer %(name)s created.") % {"name": contact})
            return redirect("customers:contact", pk=contact.pk)
    return render_console(
        request, "customers/form.html", {"form": form, "title": _("New customer")}
    )


@staff_console_view
def contact_edit(request, pk: int):
    contact = get_contact_for_user(request.user, pk)
    form = ContactForm.for_contact(contact, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.update_contact(request.user, contact, **form.cleaned_data)
        except ACTION_ERRORS as error:
            add_action_error(form, error)
        else:
            messages.success(request, _("Customer saved."))
            return redirect("customers:contact", pk=contact.pk)
    context = {"form": form, "title": _("Edit %(name)s") % {"name": contact}, "back": contact}
    return render_console(request, "customers/form.html", context)


@staff_console_view
@require_POST
def contact_notes(request, pk: int):
    contact = get_contact_for_user(request.user, pk)
    form = NotesForm(request.POST)
    if form.is_valid():
        try:
            contact = actions.update_contact(
                request.user, contact, notes=form.cleaned_data["notes"]
            )
        except ACTION_ERRORS as error:
            add_action_error(form, error)
        else:
            if is_htmx(request):
                return render(
                    request,
                    "customers/_notes.html",
                    {"notes_form": form, "object": contact, "saved": True, "action": request.path},
                )
            messages.success(request, _("Notes saved."))
            return redirect("customers:contact", pk=contact.pk)
    return contact_page(request, contact, notes_form=form, status=422)


@staff_console_view
@require_POST
def contact_activate(request, pk: int):
    contact = get_contact_for_user(request.user, pk)
    active = request.POST.get("active") == "1"
    try:
        actions.set_contact_active(request.user, contact, active)
    except ACTION_ERRORS as error:
        messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
    else:
        messages.success(
            request, _("Customer reactivated.") if active else _("Customer deactivated.")
        )
    return redirect("customers:contact", pk=contact.pk)


@staff_console_view
@require_POST
def contact_reset_bounce(request, pk: int):
    contact = get_contact_for_user(request.user, pk)
    try:
        actions.reset_email_bounce(request.user, contact)
    except ACTION_ERRORS as error:
        messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
    else:
        messages.success(
            request,
            _("Mail to %(address)s will be sent again.") % {"address": contact.email},
        )
    return redirect("customers:contact", pk=contact.pk)


@staff_console_view
@require_POST
def contact_merge(request, pk: int):
    """Merge this contact (the duplicate) into the one named in the form (the survivor)."""
    duplicate = get_contact_for_user(request.user, pk)
    form = MergeForm(request.POST)
    if form.is_valid():
        try:
            survivor = get_contact_for_user(request.user, form.cleaned_data["into"])
        except Http404:
            form.add_error("into", _("There is no customer with this number."))
        else:
            try:
                actions.merge_contacts(request.user, duplicate, survivor)
            except ACTION_ERRORS as error:
                add_action_error(form, error)
            else:
                messages.success(
                    request,
                    _("%(duplicate)s was merged into %(survivor)s.")
                    % {"duplicate": duplicate, "survivor": survivor},
                )
                return redirect("customers:contact", pk=survivor.pk)
    return contact_page(request, duplicate, merge_form=form, status=422)
