"""Administrators define custom fields in the console (``/tickets/custom-fields/``)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from kefu.accounts.access import require_admin_page
from kefu.accounts.models import User
from kefu.lib.console import add_action_error, render_console, staff_console_view
from kefu.tickets.bulk import ACTION_ERRORS
from kefu.tickets.custom_fields import save_custom_field
from kefu.tickets.models import CustomField
from kefu.tickets.workspace_forms import CustomFieldForm

FIELD_MAP = {"choices": "choices_text"}


def _require_admin(user: User) -> None:
    require_admin_page(user, _("Only administrators define custom fields."))


def _get_field(pk: int) -> CustomField:
    field = CustomField.objects.filter(pk=pk).first()
    if field is None:
        raise Http404("No such custom field")
    return field


@staff_console_view
def custom_field_list(request):
    _require_admin(request.user)
    fields = CustomField.objects.prefetch_related("ticket_types")
    return render_console(request, "tickets/custom_fields.html", {"fields": fields})


@staff_console_view
def custom_field_edit(request, pk: int | None = None):
    _require_admin(request.user)
    instance = _get_field(pk) if pk is not None else None
    form = CustomFieldForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        try:
            # A fresh row: the model form has already copied the input onto its instance.
            field = save_custom_field(
                request.user,
                _get_field(pk) if pk is not None else None,
                ticket_types=form.cleaned_data["ticket_types"],
                **form.action_data(),
            )
        except ACTION_ERRORS as error:
            add_action_error(form, error, FIELD_MAP)
        else:
            messages.success(request, _("Custom field %(label)s saved.") % {"label": field.label})
            return redirect("tickets:custom_fields")
    status = 400 if form.errors else 200
    return render_console(
        request, "tickets/custom_field_form.html", {"form": form, "field": instance}, status=status
    )
