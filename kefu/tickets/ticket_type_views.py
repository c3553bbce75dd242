"""Ticket types and tags in the console's Administration section (administrators)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.db.models import Count
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kefu.accounts.access import require_admin_page
from kefu.lib.console import ACTION_ERRORS, add_action_error, render_console, staff_console_view
from kefu.tickets.models import Tag, TicketType
from kefu.tickets.tags import create_tag, merge_tag, rename_tag
from kefu.tickets.ticket_types import save_ticket_type


def _require_admin(request) -> None:
    require_admin_page(request.user, _("Only administrators manage ticket types and tags."))


# --- ticket types ---------------------------------------------------------------------------


class TicketTypeForm(forms.Form):
    key = forms.SlugField(
        label=gettext_lazy("Key"),
        max_length=40,
        help_text=gettext_lazy("Used by the API and imports; it cannot change later."),
    )
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    position = forms.IntegerField(label=gettext_lazy("Position"), min_value=0, initial=0)
    is_active = forms.BooleanField(label=gettext_lazy("Active"), required=False, initial=True)

    def __init__(self, *args, existing: TicketType | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if existing is not None:
            self.fields["key"].disabled = True


def _get_ticket_type(pk: int) -> TicketType:
    ticket_type = TicketType.objects.filter(pk=pk).first()
    if ticket_type is None:
        raise Http404("No such ticket type")
    return ticket_type


@staff_console_view
def ticket_type_list(request):
    _require_admin(request)
    types = TicketType.objects.annotate(ticket_count=Count("tickets")).order_by("position", "key")
    return render_console(request, "tickets/ticket_types.html", {"types": types})


@staff_console_view
def ticket_type_edit(request, pk: int | None = None):
    _require_admin(request)
    ticket_type = _get_ticket_type(pk) if pk is not None else None
    initial = (
        {
            "key": ticket_type.key,
            "name": ticket_type.name,
            "position": ticket_type.position,
            "is_active": ticket_type.is_active,
        }
        if ticket_type
        else None
    )
    form = TicketTypeForm(request.POST or None, initial=initial, existing=ticket_type)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            ticket_type = save_ticket_type(
                request.user,
                ticket_type,
                key=data["key"],
                name=data["name"],
                position=data["position"],
                is_active=data["is_active"],
            )
        except ACTION_ERRORS as error:
            add_action_error(form, error)
        else:
            messages.success(request, _("Ticket type %(name)s saved.") % {"name": ticket_type})
            return redirect("tickets:ticket_types")
    status = 400 if form.errors else 200
    return render_console(
        request,
        "tickets/ticket_type_form.html",
        {"form": form, "ticket_type": ticket_type},
        status=status,
    )


# --- tags -----------------------------------------------------------------------------------


class TagForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=60)


class TagMergeForm(forms.Form):
    into = forms.ModelChoiceField(
        label=gettext_lazy("Merge into"),
        queryset=Tag.objects.none(),
        help_text=gettext_lazy("Every ticket with this tag gets that tag instead; this tag goes."),
    )

    def __init__(self, *args, tag: Tag, **kwargs):
        super().__init__(*args, **kwargs)
        into = self.fields["into"]
        assert isinstance(into, forms.ModelChoiceField)  # noqa: S101 - narrows the type
        into.queryset = Tag.objects.exclude(pk=tag.pk).order_by("name")


def _get_tag(pk: int) -> Tag:
    tag = Tag.objects.filter(pk=pk).first()
    if tag is None:
        raise Http404("No such tag")
    return tag


@staff_console_view
def tag_list(request):
    _require_admin(request)
    form = TagForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            tag = create_tag(request.user, form.cleaned_data["name"])
        except ACTION_ERRORS as error:
            add_action_error(form, error)
        else:
            messages.success(request, _("Tag %(name)s added.") % {"name": tag.name})
            return redirect("tickets:tags")
    tags = Tag.objects.annotate(ticket_count=Count("tickets")).order_by("name")
    status = 400 if form.errors else 200
    return render_console(request, "tickets/tags.html", {"tags": tags, "form": form}, status=status)


@staff_console_view
def tag_edit(request, pk: int):
    _require_admin(request)
    tag = _get_tag(pk)
    rename_form = TagForm(
        request.POST if "rename" in request.POST else None, initial={"name": tag.name}
    )
    merge_form = TagMergeForm(request.POST if "merge" in request.POST else None, tag=tag)
    if request.method == "POST":
        try:
            if "rename" in request.POST and rename_form.is_valid():
                tag = rename_tag(request.user, tag, rename_form.cleaned_data["name"])
                messages.success(request, _("Tag renamed to %(name)s.") % {"name": tag.name})
                return redirect("tickets:tags")
            if "merge" in request.POST and merge_form.is_valid():
                into = merge_tag(request.user, tag, merge_form.cleaned_data["into"])
                messages.success(
                    request,
                    _("Tag %(old)s merged into %(new)s.") % {"old": tag.name, "new": into.name},
                )
                return redirect("tickets:tags")
        except ACTION_ERRORS as error:
            add_action_error(rename_form if "rename" in request.POST else merge_form, error)
    status = 400 if rename_form.errors or merge_form.errors else 200
    return render_console(
        request,
        "tickets/tag_form.html",
        {
            "tag": tag,
            "rename_form": rename_form,
            "merge_form": merge_form,
            "ticket_count": tag.tickets.count(),
        },
        status=status,
    )
