"""The triage page (administrators): accuracy, confusion, class counts, overrides, settings and
"Train now"."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.lib.console import add_action_error, render_console, staff_console_view
from kefu.lib.errors import BusinessRuleError
from kefu.triage import actions
from kefu.triage.access import require_triage_admin
from kefu.triage.forms import TriageConfigForm
from kefu.triage.models import TriageConfig
from kefu.triage.status import triage_status

ACTION_ERRORS = (ValidationError, BusinessRuleError, PermissionDenied)


@staff_console_view
def overview(request):
    require_triage_admin(request.user)
    form = TriageConfigForm(request.POST or None, instance=TriageConfig.load())
    if request.method == "POST" and form.is_valid():
        try:
            actions.save_config(request.user, **form.config_fields())
        except ACTION_ERRORS as error:
            add_action_error(form, error)
        else:
            messages.success(request, _("Triage settings saved."))
            return redirect("triage:overview")
    status = 400 if form.errors else 200
    context = {**triage_status(), "form": form}
    return render_console(request, "triage/overview.html", context, status=status)


@staff_console_view
@require_POST
def train(request):
    require_triage_admin(request.user)
    try:
        version = actions.request_training(request.user)
    except BusinessRuleError as error:
        messages.error(request, str(error))
        return redirect("triage:overview")
    messages.success(
        request,
        _("Training of model v%(version)s is queued; this page shows the result when it is done.")
        % {"version": version.version},
    )
    return redirect("triage:overview")
