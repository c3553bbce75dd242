"""The agent console: ticket list, ticket page, replies, changes, new tickets, attachments.

Views are thin: access helper → form → action → response. htmx requests get partials
(``tickets/_*.html``), plain requests a redirect or the full page, so everything works without
JavaScript.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from kefu.accounts.access import group_ids_for
from kefu.accounts.models import Role, User
from kefu.customers.access import get_contact_for_user, search_contacts
from kefu.customers.actions import find_or_create_contact
from kefu.lib import pagination
from kefu.lib.console import (
    ACTION_ERRORS,
    add_action_error,
    is_htmx,
    render_console,
    staff_console_view,
)
from kefu.search.query import QueryError
from kefu.search.query import parse as parse_query
from kefu.tickets.access import (
    can_work_ticket,
    get_attachment_for_user,
    get_ticket_by_number_for_user,
    get_ticket_for_user,
    visible_messages,
)
from kefu.tickets.actions import (
    NewTicket,
    add_message,
    create_ticket,
    retry_message_delivery,
    update_ticket,
)
from kefu.tickets.forms import (
    DEFAULT_LIST_VIEW,
    LIST_VIEWS,
    SORT_COLUMNS,
    MessageForm,
    NewTicketForm,
    TicketFilterForm,
    TicketUpdateForm,
    parse_tags,
    uploaded_files,
    with_priority_weight,
)
from kefu.tickets.models import (
    Complexity,
    CustomField,
    EventType,
    Message,
    Priority,
    State,
    Ticket,
    TicketEvent,
)
from kefu.tickets.search import apply_query, ranked_page
from kefu.tickets.workspace_forms import BulkForm
from kefu.tickets.workspace_views import workspace_context

PAGE_SIZE = 25
OTHER_TICKETS_SHOWN = 10


def my_open_tickets(user: User) -> QuerySet[Ticket]:
    return Ticket.objects.visible_to(user).open().filter(assignee=user)


# --- the list -------------------------------------------------------------------------------


def tickets_for_view(user: User, view: str) -> QuerySet[Ticket]:
    tickets = Ticket.objects.visible_to(user)
    if view == "mine":
        return tickets.open().filter(assignee=user)
    if view == "unassigned":
        tickets = tickets.open().filter(assignee__isnull=True)
        group_ids = group_ids_for(user)
        # An admin outside every group has no "my groups": show all unassigned tickets.
        if group_ids or user.role != Role.ADMIN:
            tickets = tickets.filter(group_id__in=group_ids)
        return tickets
    if view == "open":
        return tickets.open()
    return tickets


@dataclass
class Page:
    tickets: list[Ticket]
    next_cursor: str | None
    previous_cursor: str | None


def keyset_page(tickets: QuerySet[Ticket], sort: str, cursor_token: str, size: int) -> Page:
    """One page after (or before) the cursor, walking the sort column and ``id``; a cursor
    made for another sort (or forged) starts again at the first page."""
    order = ("-" if sort.startswith("-") else "") + SORT_COLUMNS[sort.lstrip("-")]
    try:
        page = pagination.keyset_page(tickets, order=order, size=size, cursor=cursor_token)
    except pagination.InvalidCursor:
        page = pagination.keyset_page(tickets, order=order, size=size)
    return Page(page.rows, page.next_cursor, page.previous_cursor)


def filtered_ticket_list(request) -> tuple[TicketFilterForm, str, QuerySet[Ticket]]:
    """The list's form, view tab and filtered tickets for ``request.GET`` (before the search
    words and paging); the list and its CSV/Excel export (``kefu.customers``) share it."""
    view = request.GET.get("view") if request.GET.get("view") in LIST_VIEWS else DEFAULT_LIST_VIEW
    default_sort = "-updated" if view == "recent" else "-created"
    data = request.GET.copy() if request.GET else None
    if data is not None and not data.get("sort"):
        data["sort"] = default_sort  # so the sort menu shows the order actually used
    form = TicketFilterForm(request.user, data, default_sort=default_sort)
    tickets = tickets_for_view(request.user, view)
    if form.is_bound and form.is_valid():
        tickets = form.filter(tickets)
    elif form.is_bound:
        tickets = tickets.none()
    return form, view, tickets


@staff_console_view
@vary_on_headers("HX-Request")
def ticket_list(request):
    form, view, tickets = filtered_ticket_list(request)
    tickets = with_priority_weight(tickets).select_related(
        "contact", "organization", "group", "assignee", "sla"
    )
    query = form.cleaned_data.get("q", "") if form.is_bound and form.is_valid() else ""
    try:
        page = search_list_page(request, tickets, query, form.sort_order)
    except QueryError as error:
        form.add_error("q", str(error))
        page = Page(tickets=[], next_cursor=None, previous_cursor=None)
    except JumpToTicket as jump:
        return jump_response(request, jump.ticket)
    context = {
        "form": form,
        "page": page,
        "view": view,
        "views": LIST_VIEWS,
        "bulk_form": BulkForm(request.user, staff=form.staff),
    }
    if is_htmx(request):
        return render(request, "tickets/_ticket_table.html", context)
    return render_console(request, "tickets/list.html", context)


class JumpToTicket(Exception):  # noqa: N818 - a control-flow signal, not an error
    def __init__(self, ticket: Ticket):
        self.ticket = ticket


def search_list_page(request, tickets: QuerySet[Ticket], query: str, sort: str) -> Page:
    """The list page for a search box entry: ``#12345`` jumps (``JumpToTicket``), words are
    ranked by relevance (the sort menu then does not apply), filters alone keep the sort."""
    cursor_token = request.GET.get("cursor", "")
    parsed = parse_query(query)
    if parsed.ticket_number is not None:
        try:
            raise JumpToTicket(get_ticket_by_number_for_user(request.user, parsed.ticket_number))
        except Http404:
            raise QueryError(
                _("There is no ticket #%(number)s you can see.") % {"number": parsed.ticket_number}
            ) from None
    tickets = apply_query(request.user, tickets, parsed)
    if not parsed.include:
        return keyset_page(tickets, sort, cursor_token, PAGE_SIZE)
    offset = read_search_cursor(cursor_token, query)
    found = ranked_page(request.user, tickets, parsed, limit=PAGE_SIZE, offset=offset)
    for hit in found.hits:
        hit.ticket.search_hit = hit  # type: ignore[attr-defined]
    return Page(
        tickets=found.tickets,
        next_cursor=(
            pagination.make_offset_cursor(query, offset + PAGE_SIZE) if found.has_next else None
        ),
        previous_cursor=(
            pagination.make_offset_cursor(query, max(offset - PAGE_SIZE, 0)) if offset else None
        ),
    )


def read_search_cursor(token: str, query: str) -> int:
    """The offset a search cursor names; 0 for none, a forged one or another query's."""
    try:
        return pagination.read_offset_cursor(token, query) if token else 0
    except pagination.InvalidCursor:
        return 0


def jump_response(request, ticket: Ticket) -> HttpResponse:
    url = reverse("tickets:detail", args=[ticket.pk])
    if is_htmx(request):
        return HttpResponse(headers={"HX-Redirect": url})
    return redirect(url)


# --- the ticket page ------------------------------------------------------------------------


FIELD_LABELS = {
    "subject": gettext_lazy("subject"),
    "state": gettext_lazy("state"),
    "priority": gettext_lazy("priority"),
    "type": gettext_lazy("type"),
    "group": gettext_lazy("group"),
    "assignee": gettext_lazy("assignee"),
    "tags": gettext_lazy("tags"),
    "category": gettext_lazy("category"),
    "complexity": gettext_lazy("complexity"),
    "asset": gettext_lazy("asset"),
    "parent": gettext_lazy("parent ticket"),
    # The tombstone of a personal-data erasure (kefu.privacy).
    "customer": gettext_lazy("customer"),
}
# What the other ticket of a link is to this one (``kefu.tickets.relations.ROLES``).
LINK_ROLE_LABELS = {
    "related": gettext_lazy("related"),
    "duplicate_of": gettext_lazy("this ticket duplicates it"),
    "duplicated_by": gettext_lazy("it duplicates this ticket"),
    "parent": gettext_lazy("parent of this ticket"),
    "child": gettext_lazy("child of this ticket"),
}
# Timeline rows the SLA engine writes (warnings, breaches, escalations) name a target.
SLA_TARGET_LABELS = {
    "first_response": gettext_lazy("first response"),
    "next_response": gettext_lazy("next response"),
    "resolution": gettext_lazy("resolution"),
    "acknowledgement": gettext_lazy("acknowledgement"),
}
VALUE_LABELS = {
    "state": dict(State.choices),
    "priority": dict(Priority.choices),
    "complexity": dict(Complexity.choices),
}


@dataclass
class TimelineEntry:
    at: datetime
    message: Message | None = None
    event: TicketEvent | None = None
    field_label: str = ""
    old_label: str = ""
    new_label: str = ""


def event_entry(event: TicketEvent, custom_labels: dict[str, str] | None = None) -> TimelineEntry:
    """Translated labels: field names and state/priority values are stored as keys; custom
    fields as ``cf.<key>`` (labelled from ``custom_labels``), link roles in ``reason``."""
    labels = VALUE_LABELS.get(event.field, {}) if event.field else SLA_TARGET_LABELS
    if event.type in (EventType.LINKED, EventType.UNLINKED):
        field_label = str(LINK_ROLE_LABELS.get(event.reason, event.reason))
    else:
        field_label = str(
            FIELD_LABELS.get(event.field) or (custom_labels or {}).get(event.field, event.field)
        )
    return TimelineEntry(
        at=event.created_at,
        event=event,
        field_label=field_label,
        old_label=str(labels.get(event.old_value, event.old_value)),
        new_label=str(labels.get(event.new_value, event.new_value)),
    )


def timeline_for(user: User, ticket: Ticket) -> list[TimelineEntry]:
    """Messages and change events in time order; message events duplicate the message itself."""
    entries = [TimelineEntry(at=m.created_at, message=m) for m in visible_messages(user, ticket)]
    events = (
        ticket.events.visible_to(user)
        .exclude(type__in=[EventType.REPLIED, EventType.NOTE_ADDED, EventType.CUSTOMER_REPLIED])
        .select_related("actor")
    )
    event_rows = list(events)
    custom_labels = {}
    if any(event.field.startswith("cf.") for event in event_rows):
        custom_labels = {
            f"cf.{key}": label for key, label in CustomField.objects.values_list("key", "label")
        }
    entries += [event_entry(event, custom_labels) for event in event_rows]
    return sorted(entries, key=lambda entry: (entry.at, entry.message is None))


def other_tickets_of_contact(user: User, ticket: Ticket) -> list[Ticket]:
    others = (
        Ticket.objects.visible_to(user).filter(contact_id=ticket.contact_id).exclude(pk=ticket.pk)
    )
    return list(others.order_by("-created_at", "-id")[:OTHER_TICKETS_SHOWN])


def ticket_page(request, ticket: Ticket, *, reply_form=None, update_form=None, status: int = 200):
    may_work = can_work_ticket(request.user, ticket)
    context = {
        "ticket": ticket,
        "tags": list(ticket.tags.all()),
        "timeline": timeline_for(request.user, ticket),
        "may_work": may_work,
        "reply_form": reply_form or MessageForm(),
        "update_form": update_form
        or (TicketUpdateForm(request.user, ticket) if may_work else None),
        "contact": ticket.contact,
        "other_tickets": other_tickets_of_contact(request.user, ticket),
        **workspace_context(request.user, ticket, may_work),
    }
    return render_console(request, "tickets/detail.html", context, status=status)


@staff_console_view
def ticket_detail(request, pk: int):
    return ticket_page(request, get_ticket_for_user(request.user, pk))


@staff_console_view
def ticket_timeline(request, pk: int):
    ticket = get_ticket_for_user(request.user, pk)
    return render(
        request,
        "tickets/_timeline.html",
        {
            "ticket": ticket,
            "timeline": timeline_for(request.user, ticket),
            "may_work": can_work_ticket(request.user, ticket),
        },
    )


@staff_console_view
@require_POST
def ticket_reply(request, pk: int):
    ticket = get_ticket_for_user(request.user, pk, write=True)
    form = MessageForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            message = add_message(
                request.user,
                ticket,
                body=form.cleaned_data["body"],
                internal=form.cleaned_data["kind"] == "note",
                attachments=uploaded_files(form.cleaned_data["attachments"]),
            )
        except ACTION_ERRORS as error:
            add_action_error(form, error)
        else:
            if is_htmx(request):
                return message_added_partials(request, ticket, message)
            done = _("Internal note added.") if message.is_internal else _("Reply sent.")
            messages.success(request, done)
            return redirect(reverse("tickets:detail", args=[ticket.pk]) + f"#message-{message.pk}")
    if is_htmx(request):
        response = render(
            request, "tickets/_reply_form.html", {"ticket": ticket, "reply_form": form}
        )
        response["HX-Retarget"] = "#reply-form"
        response["HX-Reswap"] = "outerHTML"
        return response
    return ticket_page(request, ticket, reply_form=form)


@staff_console_view
@require_POST
def message_retry_delivery(request, pk: int, message_pk: int):
    ticket = get_ticket_for_user(request.user, pk, write=True)
    message = visible_messages(request.user, ticket).filter(pk=message_pk).first()
    if message is None:
        raise Http404("No such message")
    try:
        retry_message_delivery(request.user, message)
    except ACTION_ERRORS as error:
        messages.error(request, getattr(error, "message", None) or str(error))
    else:
        messages.success(request, _("The reply will be sent again."))
    return redirect(reverse("tickets:detail", args=[ticket.pk]) + f"#message-{message.pk}")


def message_added_partials(request, ticket: Ticket, message: Message) -> HttpResponse:
    """The new message for the timeline; out of band a fresh form, the header and the side
    form (a reply may have changed the state)."""
    ticket = get_ticket_for_user(request.user, ticket.pk)
    context = {
        "ticket": ticket,
        "message": message,
        "tags": list(ticket.tags.all()),
        "reply_form": MessageForm(),
        "update_form": TicketUpdateForm(request.user, ticket),
        "oob": True,
        "update_form_oob": True,
    }
    return render(request, "tickets/_message_added.html", context)


@staff_console_view
@require_POST
def ticket_update(request, pk: int):
    ticket = get_ticket_for_user(request.user, pk, write=True)
    form = TicketUpdateForm(request.user, ticket, request.POST)
    if form.is_valid():
        try:
            changes = form.changes()
            if changes:
                ticket = update_ticket(
                    request.user, ticket, reason=form.cleaned_data["reason"], **changes
                )
        except ACTION_ERRORS as error:
            add_action_error(form, error, form.custom_field_map())
        else:
            return ticket_updated_response(request, ticket, changed=bool(changes))
    if is_htmx(request):
        return render(request, "tickets/_update_form.html", {"ticket": ticket, "update_form": form})
    return ticket_page(request, ticket, update_form=form)


def ticket_updated_response(request, ticket: Ticket, *, changed: bool) -> HttpResponse:
    try:
        ticket = get_ticket_for_user(request.user, ticket.pk)
    except Http404:
        # Moved to a group this user is not in: it left their sight, so go back to the list.
        messages.success(
            request,
            _("Ticket #%(number)s moved to %(group)s.")
            % {"number": ticket.number, "group": ticket.group},
        )
        if is_htmx(request):
            return HttpResponse(headers={"HX-Redirect": reverse("tickets:list")})
        return redirect("tickets:list")
    notice = _("Ticket updated.") if changed else _("Nothing changed.")
    if is_htmx(request):
        return ticket_changed_partials(request, ticket, notice)
    messages.success(request, notice)
    return redirect("tickets:detail", pk=ticket.pk)


def ticket_changed_partials(request, ticket: Ticket, notice: str) -> HttpResponse:
    """The side form again, plus the header and timeline swapped out of band."""
    may_work = can_work_ticket(request.user, ticket)
    context = {
        "ticket": ticket,
        "notice": notice,
        "tags": list(ticket.tags.all()),
        "may_work": may_work,
        "update_form": TicketUpdateForm(request.user, ticket) if may_work else None,
        "timeline": timeline_for(request.user, ticket),
        "oob": True,
        **workspace_context(request.user, ticket, may_work),
    }
    return render(request, "tickets/_ticket_changed.html", context)


# --- a ticket on a customer's behalf --------------------------------------------------------

NEW_TICKET_FIELD_MAP = {
    "customer": "contact_query",
    "email": "new_email",
    "phone": "new_phone",
    "wechat_id": "new_wechat_id",
    "name": "new_name",
    "type": "type",
    "asset": "asset_serial",
}


def resolve_contact(user: User, form: NewTicketForm):
    """The chosen, matched or newly entered customer; raises ValidationError when unclear."""
    data = form.cleaned_data
    if data.get("contact"):
        try:
            return get_contact_for_user(user, data["contact"])
        except Http404:
            raise ValidationError({"contact_query": _("This customer no longer exists.")}) from None
    if form.wants_new_contact():
        return find_or_create_contact(user, **form.new_contact_details)
    query = data.get("contact_query", "")
    if not query:
        raise ValidationError({"contact_query": _("Pick a customer or enter a new one.")})
    matches = search_contacts(user, query)
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise ValidationError(
            {
                "contact_query": _("No customer matches %(query)s; enter a new one below.")
                % {"query": query}
            }
        )
    raise ValidationError({"contact_query": _("Several customers match; pick one.")})


@staff_console_view
def ticket_new(request):
    if "find" in request.POST:
        # The no-JavaScript picker: show the matches, keep what was typed, judge nothing yet.
        form = NewTicketForm(request.user, initial=request.POST.dict())
        return render_console(
            request, "tickets/new.html", new_ticket_context(request, form, request.POST)
        )
    form = NewTicketForm(request.user, request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                ticket = create_ticket(
                    request.user,
                    NewTicket(
                        contact=resolve_contact(request.user, form),
                        subject=data["subject"],
                        body=data["body"],
                        channel=data["channel"],
                        priority=data["priority"],
                        type_key=data["type"],
                        group=data["group"],
                        assignee=data["assignee"],
                        tags=parse_tags(data["tags"]),
                        category=form.chosen_category(),
                        complexity=data["complexity"],
                        asset=form.chosen_asset(),
                        custom_fields=form.custom_values(data["type"]),
                        attachments=uploaded_files(data["attachments"]),
                    ),
                )
        except ACTION_ERRORS as error:
            add_action_error(form, error, {**NEW_TICKET_FIELD_MAP, **form.custom_field_map()})
        else:
            messages.success(request, _("Ticket #%(number)s created.") % {"number": ticket.number})
            if Ticket.objects.visible_to(request.user).filter(pk=ticket.pk).exists():
                return redirect("tickets:detail", pk=ticket.pk)
            return redirect("tickets:list")
    return render_console(request, "tickets/new.html", new_ticket_context(request, form, form.data))


def new_ticket_context(request, form: NewTicketForm, data) -> dict:
    """The picker's state: the chosen contact, or the matches of what was typed."""
    chosen = None
    contact_id = data.get("contact", "")
    if str(contact_id).isdigit():
        try:
            chosen = get_contact_for_user(request.user, contact_id)
        except Http404:
            chosen = None
    query = data.get("contact_query", "")
    matches = search_contacts(request.user, query) if query and chosen is None else []
    return {"form": form, "chosen_contact": chosen, "contacts": matches, "query": query}


# --- attachments ----------------------------------------------------------------------------

# Shown in the browser; everything else (HTML, SVG, scripts, office files) is a download.
INLINE_CONTENT_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf"}


@login_required
def attachment_download(request, pk: int):
    """For anyone who may see the attachment's ticket (staff and customers alike)."""
    attachment = get_attachment_for_user(request.user, pk)
    inline = attachment.content_type in INLINE_CONTENT_TYPES
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404("The file is missing from storage") from None
    response = FileResponse(
        handle,
        as_attachment=not inline,
        filename=attachment.filename,
        content_type=attachment.content_type if inline else "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    if not attachment.content_type == "application/pdf":
        response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    return response
