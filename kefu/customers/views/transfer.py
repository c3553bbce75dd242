"""Spreadsheet import (upload → dry-run preview → confirm → job with a progress bar) and
CSV/Excel export of customers, products and assets (the ticket list's export is kefu/tickets/export_views.py)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.customers import actions, exports
from kefu.customers.access import (
    assets_visible_to,
    get_import_for_user,
)
from kefu.customers.forms import AssetFilterForm, ConfirmImportForm, ImportForm
from kefu.customers.imports import COLUMNS
from kefu.customers.models import ImportKind, ImportRun
from kefu.customers.views.products import filter_assets
from kefu.lib.console import (
    ACTION_ERRORS,
    add_action_error,
    render_console,
    staff_console_view,
)

PREVIEW_ROWS_SHOWN = 500


@staff_console_view
def import_start(request):
    if not actions.staff_may_import(request.user):
        raise PermissionDenied(_("Only supervisors and administrators import data."))
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            run = actions.start_import(
                request.user,
                kind=form.cleaned_data["kind"],
                filename=upload.name,
                content=upload.read(),
            )
        except ACTION_ERRORS as error:
            add_action_error(form, error)
        else:
            return redirect("customers:import", pk=run.pk)
    context = {
        "form": form,
        "columns": [(ImportKind(kind).label, columns) for kind, columns in COLUMNS.items()],
        "recent": ImportRun.objects.select_related("created_by")[:10],
    }
    return render_console(request, "customers/import_start.html", context)


def _import_context(run: ImportRun) -> dict:
    preview = run.preview or []
    return {
        "run": run,
        "creates": sum(1 for row in preview if row["action"] == "create"),
        "updates": sum(1 for row in preview if row["action"] == "update"),
        "preview_errors": [error for row in preview for error in row["errors"]],
        "preview_rows": preview[:PREVIEW_ROWS_SHOWN],
        "preview_cut": len(preview) > PREVIEW_ROWS_SHOWN,
        "confirm_form": ConfirmImportForm(),
    }


@staff_console_view
def import_detail(request, pk: int):
    run = get_import_for_user(request.user, pk)
    return render_console(request, "customers/import_detail.html", _import_context(run))


@staff_console_view
def import_progress(request, pk: int):
    """The progress bar, polled by htmx until the job finishes."""
    run = get_import_for_user(request.user, pk)
    return render(request, "customers/_import_progress.html", {"run": run})


@staff_console_view
@require_POST
def import_confirm(request, pk: int):
    run = get_import_for_user(request.user, pk)
    form = ConfirmImportForm(request.POST)
    form.is_valid()
    try:
        actions.confirm_import(
            request.user, run, only_valid_rows=form.cleaned_data.get("only_valid_rows", False)
        )
    except ACTION_ERRORS as error:
        messages.error(request, " ".join(getattr(error, "messages", None) or [str(error)]))
    return redirect("customers:import", pk=run.pk)


# --- exports ---------------------------------------------------------------------------------


@staff_console_view
def export_customers(request, kind: str):
    if kind not in ImportKind.values:
        raise Http404("No such export")
    redirect_response = exports.download_redirect(request)
    if redirect_response is not None:
        return redirect_response
    queryset = exports.customer_queryset(kind)
    if kind == ImportKind.ASSETS:
        # The asset list's filters, when the export link carries them.
        queryset = filter_assets(
            queryset.filter(pk__in=assets_visible_to(request.user).values("pk")),
            AssetFilterForm(request.GET or None),
        )
    columns = exports.customer_columns(kind)
    filename = f"{kind}-{timezone.localdate():%Y%m%d}"
    return exports.export_response(
        exports.requested_format(request), filename, columns, exports.rows_of(queryset, columns)
    )
