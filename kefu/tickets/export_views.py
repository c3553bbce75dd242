"""``GET /tickets/export/``: the console ticket list as a CSV or Excel file."""

from __future__ import annotations

from django.http import HttpResponse
from django.utils import timezone

from kefu.customers.exports import download_redirect, export_response, requested_format, rows_of
from kefu.lib.console import staff_console_view
from kefu.search.query import QueryError
from kefu.search.query import parse as parse_query
from kefu.tickets.custom_fields import prefetch_values
from kefu.tickets.exports import ticket_columns, tickets_matching
from kefu.tickets.forms import SORT_COLUMNS, with_priority_weight
from kefu.tickets.views import filtered_ticket_list


@staff_console_view
def export_tickets(request):
    """The console ticket list with its current view, filters, search words and sort, as a
    file: every matching ticket (not only the page), streamed."""
    redirect_response = download_redirect(request)
    if redirect_response is not None:
        return redirect_response
    form, _view, tickets = filtered_ticket_list(request)
    query = form.cleaned_data.get("q", "") if form.is_bound and form.is_valid() else ""
    try:
        tickets = tickets_matching(request.user, tickets, parse_query(query))
    except QueryError as error:
        return HttpResponse(str(error), status=400, content_type="text/plain; charset=utf-8")
    sort = form.sort_order
    column = SORT_COLUMNS[sort.lstrip("-")]
    order = [f"-{column}", "-id"] if sort.startswith("-") else [column, "id"]
    tickets = (
        with_priority_weight(tickets)
        .select_related("contact", "organization", "group", "assignee", "type", "asset", "category")
        .prefetch_related("tags", prefetch_values())
        .order_by(*order)
    )
    columns = ticket_columns()
    filename = f"tickets-{timezone.localdate():%Y%m%d}"
    return export_response(requested_format(request), filename, columns, rows_of(tickets, columns))
