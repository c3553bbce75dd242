"""Console views of the ticket workspace: links, merge, split, bulk actions and "take next".

Kept apart from ``views.py`` (the list, the ticket page, replies and changes) so neither grows
past a readable size; both follow the same pattern: access helper → form → action → response.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from kefu.accounts.models import User
from kefu.lib.console import ACTION_ERRORS, staff_console_view
from kefu.tickets import custom_fields as custom
from kefu.tickets.access import get_ticket_for_user, visible_messages
from kefu.tickets.bulk import bulk_update_tickets, error_text, take_next_ticket
from kefu.tickets.models import CustomField, Ticket, TicketLink, category_tree
from kefu.tickets.relations import (
    link_tickets,
    links_of,
    merge_ticket,
    split_ticket,
    unlink_tickets,
)
from kefu.tickets.workspace_forms import BulkForm, LinkForm, MergeForm, SplitForm


def asset_url(asset) -> str:
    """The asset page of the customers app ("" if there is none)."""
    for name in ("customers:asset", "customers:asset_detail"):
        try:
            return reverse(name, args=[asset.pk])
        except NoReverseMatch:
            continue
    return ""


def custom_field_rows(ticket: Ticket) -> list[tuple[str, str]]:
    """``(label, value)`` of the ticket's custom field values, in the fields' order."""
    values = custom.read_values_fresh(ticket)
    if not values:
        return []
    rows = []
    for field in CustomField.objects.filter(key__in=list(values)).order_by("position", "label"):
        value = values[field.key]
        if value is True:
            shown = _("Yes")
        elif value is False or value is None:
            continue
        else:
            shown = custom.display(value)
        rows.append((field.label, shown))
    return rows


def workspace_context(user: User, ticket: Ticket, may_work: bool) -> dict[str, Any]:
    """What the ticket page shows of the workspace: asset, links, custom fields, the forms."""
    ticket = (
        Ticket.objects.select_related("asset__product", "category", "merged_into")
        .prefetch_related("links_out__target", "links_in__source")
        .get(pk=ticket.pk)
    )
    return {
        "asset": ticket.asset,
        "asset_url": asset_url(ticket.asset) if ticket.asset_id else "",
        "category_path": _category_path(ticket),
        "merged_into": ticket.merged_into,
        "links": links_of(ticket),
        "custom_field_rows": custom_field_rows(ticket),
        "link_form": LinkForm() if may_work else None,
        "merge_form": MergeForm() if may_work and not ticket.merged_into_id else None,
    }


def _category_path(ticket: Ticket) -> str:
    if not ticket.category_id:
        return ""
    for category, _depth, path in category_tree(active_only=False):
        if category.pk == ticket.category_id:
            return path
    return str(ticket.category)


def _back(request, ticket: Ticket, anchor: str = "") -> HttpResponse:
    url = reverse("tickets:detail", args=[ticket.pk]) + anchor
    if request.headers.get("HX-Request") == "true":
        return HttpResponse(headers={"HX-Redirect": url})
    return redirect(url)


def _visible_by_number(user: User, number: int) -> Ticket:
    found = Ticket.objects.visible_to(user).filter(number=number).values_list("pk", flat=True)
    pk = found.first()
    if pk is None:
        raise Http404
    return get_ticket_for_user(user, pk)


def _report_errors(request, form) -> None:
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)


# --- links ----------------------------------------------------------------------------------


@staff_console_view
@require_POST
def link_add(request, pk: int):
    ticket = get_ticket_for_user(request.user, pk, write=True)
    form = LinkForm(request.POST)
    if not form.is_valid():
        _report_errors(request, form)
        return _back(request, ticket, "#links")
    try:
        other = _visible_by_number(request.user, form.cleaned_data["number"])
        link_tickets(request.user, ticket, other, form.cleaned_data["kind"])
    except Http404:
        messages.error(
            request,
            _("There is no ticket #%(number)s you can see.")
            % {"number": form.cleaned_data["number"]},
        )
    except ACTION_ERRORS as error:
        messages.error(request, error_text(error))
    else:
        messages.success(request, _("Linked to #%(number)s.") % {"number": other.number})
    return _back(request, ticket, "#links")


@staff_console_view
@require_POST
def link_remove(request, pk: int, link_pk: int):
    ticket = get_ticket_for_user(request.user, pk, write=True)
    link = (
        TicketLink.objects.filter(Q(source=ticket) | Q(target=ticket))
        .select_related("source", "target")
        .filter(pk=link_pk)
        .first()
    )
    if link is None:
        raise Http404("No such link")
    try:
        unlink_tickets(request.user, ticket, link)
    except ACTION_ERRORS as error:
        messages.error(request, error_text(error))
    else:
        messages.success(request, _("Link removed."))
    return _back(request, ticket, "#links")


# --- merge and split ------------------------------------------------------------------------


@staff_console_view
@require_POST
def ticket_merge(request, pk: int):
    ticket = get_ticket_for_user(request.user, pk, write=True)
    form = MergeForm(request.POST)
    if not form.is_valid():
        _report_errors(request, form)
        return _back(request, ticket)
    data = form.cleaned_data
    try:
        into = _visible_by_number(request.user, data["number"])
        survivor = merge_ticket(
            request.user,
            ticket,
            into,
            comment=data["comment"],
            notify_customer=data["notify_customer"],
        )
    except Http404:
        messages.error(
            request, _("There is no ticket #%(number)s you can see.") % {"number": data["number"]}
        )
        return _back(request, ticket)
    except ACTION_ERRORS as error:
        messages.error(request, error_text(error))
        return _back(request, ticket)
    messages.success(
        request,
        _("#%(merged)s was merged into this ticket.") % {"merged": ticket.number},
    )
    return _back(request, survivor)


@staff_console_view
@require_POST
def message_split(request, pk: int, message_pk: int):
    ticket = get_ticket_for_user(request.user, pk, write=True)
    message = visible_messages(request.user, ticket).filter(pk=message_pk).first()
    if message is None:
        raise Http404("No such message")
    form = SplitForm(request.POST)
    subject = form.cleaned_data["subject"] if form.is_valid() else ""
    try:
        new = split_ticket(request.user, ticket, message, subject=subject)
    except ACTION_ERRORS as error:
        messages.error(request, error_text(error))
        return _back(request, ticket, f"#message-{message.pk}")
    messages.success(
        request,
        _("The message became ticket #%(number)s, linked to #%(original)s.")
        % {"number": new.number, "original": ticket.number},
    )
    return _back(request, new)


# --- the list's bulk actions and "take next" ------------------------------------------------


def _list_url(request) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("tickets:list")


@staff_console_view
@require_POST
def ticket_bulk(request):
    form = BulkForm(request.user, request.POST)
    if not form.is_valid():
        _report_errors(request, form)
        return redirect(_list_url(request))
    try:
        result = bulk_update_tickets(
            request.user,
            form.cleaned_data["tickets"],
            reason=form.cleaned_data["reason"],
            merge_into=form.merge_target(),
            **form.changes(),
        )
    except Http404:
        messages.error(
            request,
            _("There is no ticket #%(number)s you can see.")
            % {"number": form.cleaned_data["merge_into"]},
        )
        return redirect(_list_url(request))
    except ACTION_ERRORS as error:
        messages.error(request, error_text(error))
        return redirect(_list_url(request))
    if result.succeeded:
        messages.success(
            request,
            ngettext(
                "%(count)s ticket changed.", "%(count)s tickets changed.", len(result.succeeded)
            )
            % {"count": len(result.succeeded)},
        )
    for failure in result.failed:
        label = f"#{failure.number}" if failure.number else str(failure.ticket_id)
        messages.error(
            request,
            _("%(ticket)s was not changed: %(reason)s")
            % {"ticket": label, "reason": failure.message},
        )
    if not result.succeeded and not result.failed:
        messages.info(request, _("Nothing changed."))
    return redirect(_list_url(request))


@staff_console_view
@require_POST
def take_next(request):
    ticket = take_next_ticket(request.user)
    if ticket is None:
        messages.info(request, _("No unassigned ticket is waiting in your groups."))
        return redirect(_list_url(request))
    messages.success(request, _("Ticket #%(number)s is yours now.") % {"number": ticket.number})
    return redirect("tickets:detail", pk=ticket.pk)
