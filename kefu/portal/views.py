"""The customer portal: list, read, open, reply to and close one's tickets.

Only customers use it; staff are sent to the console. Tickets are fetched through
``kefu.tickets.access`` and changed through ``kefu.tickets.actions`` only.
"""

from __future__ import annotations

import functools
from itertools import chain
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.customers.access import assets_visible_to
from kefu.lib.console import is_htmx
from kefu.lib.errors import BusinessRuleError
from kefu.lib.pagination import (
    InvalidCursor,
    keyset_page,
    make_offset_cursor,
    read_offset_cursor,
)
from kefu.portal.forms import NewTicketForm, ReplyForm, to_uploads
from kefu.search.query import QueryError
from kefu.search.query import parse as parse_query
from kefu.tickets import actions
from kefu.tickets.access import get_ticket_for_user, visible_messages
from kefu.tickets.models import (
    CUSTOMER_VISIBLE_FIELDS,
    DONE_STATES,
    OPEN_STATES,
    Channel,
    State,
    Ticket,
    TicketEvent,
)
from kefu.tickets.search import SearchHit, apply_query, ranked_page

PAGE_SIZE = 25
LIST_FILTERS = {"open": OPEN_STATES, "closed": DONE_STATES, "all": None}


def customer_required(view):
    """Customers only: anonymous visitors go to the login page, staff to the console."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not request.user.is_customer:
            return redirect("tickets:list")
        return view(request, *args, **kwargs)

    return wrapper


def own_contact_id(user) -> int | None:
    """The customer's own contact (``None`` for a login not linked to a customer record)."""
    contact = getattr(user, "contact", None)
    return contact.pk if contact else None


def run_action(form, action, *args, **kwargs):
    """Call ``action`` for a valid form; its errors land on the form's fields, not in a 500."""
    try:
        return action(*args, **kwargs)
    except ValidationError as error:
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    except BusinessRuleError as error:
        form.add_error(error.field if error.field in form.fields else None, error.message)
    return None


# --- list -----------------------------------------------------------------------------------


@customer_required
def ticket_list(request):
    """Keyset-paginated on (updated_at, id), newest first: stable while tickets change."""
    show = request.GET.get("show", "open")
    if show not in LIST_FILTERS:
        show = "open"
    tickets = Ticket.objects.visible_to(request.user).select_related("contact")
    if LIST_FILTERS[show] is not None:
        tickets = tickets.filter(state__in=LIST_FILTERS[show])
    tickets, whose_context = filter_whose(request, tickets)
    query = request.GET.get("q", "").strip()
    if query:
        return search_results(request, tickets, query, show, whose_context)
    cursor = request.GET.get("after", "")
    try:
        page = keyset_page(tickets, order="-updated_at", size=PAGE_SIZE, cursor=cursor)
    except InvalidCursor:  # a forged or outdated link: start at the first page
        cursor = ""
        page = keyset_page(tickets, order="-updated_at", size=PAGE_SIZE)
    context = {
        "tickets": page.rows,
        "show": show,
        "is_later_page": bool(cursor),
        "next_cursor": page.next_cursor,
        "own_contact_id": own_contact_id(request.user),
        **whose_context,
    }
    return render(request, "portal/ticket_list.html", context)


def shared_organization(user):
    """The customer's organisation when its members see each other's tickets, else ``None``."""
    contact = getattr(user, "contact", None)
    organization = contact.organization if contact is not None else None
    return organization if organization and organization.members_share_tickets else None


def filter_whose(request, tickets):
    """ "Mine" or "my organisation's" (all the customer may see) for members of a sharing
    organisation; everyone else only ever sees their own."""
    organization = shared_organization(request.user)
    whose = request.GET.get("whose") if organization else None
    whose = whose if whose in ("mine", "organization") else "organization"
    if organization and whose == "mine":
        tickets = tickets.filter(contact_id=own_contact_id(request.user))
    return tickets, {"whose": whose, "shared_organization": organization}


def search_results(request, tickets, query: str, show: str, whose_context: dict | None = None):
    """The customer's own visible tickets matching ``query``, public text only, best first."""
    context: dict[str, Any] = {
        "show": show,
        "query": query,
        "own_contact_id": own_contact_id(request.user),
        **(whose_context or {}),
    }
    try:
        offset = read_offset_cursor(request.GET["from"], query) if request.GET.get("from") else 0
    except InvalidCursor:  # a forged link or another query's: the first results
        offset = 0
    try:
        parsed = parse_query(query)
        if parsed.ticket_number is not None:
            ticket = tickets.filter(number=parsed.ticket_number).first()
            if ticket is not None:
                return redirect("portal:ticket", pk=ticket.pk)
            raise QueryError(
                _("There is no ticket #%(number)s you can see.") % {"number": parsed.ticket_number}
            )
        tickets = apply_query(request.user, tickets, parsed)
        if parsed.include:
            page = ranked_page(request.user, tickets, parsed, limit=PAGE_SIZE, offset=offset)
            context |= {
                "hits": page.hits,
                "next_from": (
                    make_offset_cursor(query, offset + PAGE_SIZE) if page.has_next else None
                ),
            }
        else:
            found = list(tickets.order_by("-updated_at", "-pk")[:PAGE_SIZE])
            context["hits"] = [SearchHit(t, escape(t.subject), None) for t in found]
    except QueryError as error:
        context |= {"hits": [], "query_error": str(error)}
    context["is_later_page"] = offset > 0
    return render(request, "portal/ticket_list.html", context)


# --- one ticket -----------------------------------------------------------------------------


def conversation(user, ticket: Ticket) -> list[tuple[str, object]]:
    """Public messages and the customer-visible changes (state, subject), oldest first."""
    shown_messages = [("message", message) for message in visible_messages(user, ticket)]
    changes = [
        ("event", event)
        for event in TicketEvent.objects.visible_to(user).filter(
            ticket=ticket, field__in=CUSTOMER_VISIBLE_FIELDS
        )
    ]
    return sorted(chain(shown_messages, changes), key=lambda entry: entry[1].created_at)


def render_ticket_page(request, ticket: Ticket, reply_form: ReplyForm):
    context = {
        "ticket": ticket,
        "conversation": conversation(request.user, ticket),
        "form": reply_form,
        "own_contact_id": own_contact_id(request.user),
        "is_closed": ticket.state == State.CLOSED,
        "reply_reopens": ticket.state == State.RESOLVED,
    }
    return render(request, "portal/ticket_detail.html", context)


@customer_required
def ticket_detail(request, pk: int):
    ticket = get_ticket_for_user(request.user, pk)
    return render_ticket_page(request, ticket, ReplyForm())


@customer_required
def conversation_partial(request, pk: int):
    """The thread (and status) again, fetched by the page when a live event says it changed."""
    ticket = get_ticket_for_user(request.user, pk)
    context = {
        "ticket": ticket,
        "conversation": conversation(request.user, ticket),
        "own_contact_id": own_contact_id(request.user),
        "refreshed": True,  # the status badge is swapped in out of band
    }
    return render(request, "portal/_conversation.html", context)


@customer_required
@require_POST
def reply(request, pk: int):
    """Post a reply; htmx gets the new message (and a fresh form), plain posts a redirect."""
    ticket = get_ticket_for_user(request.user, pk)
    form = ReplyForm(request.POST, request.FILES)
    message = None
    if form.is_valid():
        message = run_action(
            form,
            actions.add_message,
            request.user,
            ticket,
            body=form.cleaned_data["body"],
            attachments=to_uploads(form.cleaned_data["attachments"]),
        )
    if message is not None:
        ticket.refresh_from_db()
    if is_htmx(request):
        return render_reply_partial(request, ticket, form, message)
    if message is None:
        return render_ticket_page(request, ticket, form)
    messages.success(request, _("Your reply has been sent."))
    return redirect("portal:ticket", pk=ticket.pk)


def render_reply_partial(request, ticket: Ticket, form: ReplyForm, message):
    context = {
        "ticket": ticket,
        "message": message,
        "own_contact_id": own_contact_id(request.user),
        "reply_reopens": ticket.state == State.RESOLVED,
    }
    if message is None:
        response = render(request, "portal/_reply_form.html", {**context, "form": form})
        # A failed reply replaces the form (with its errors and the typed text), not the thread.
        response["HX-Retarget"] = "#reply-form"
        response["HX-Reswap"] = "outerHTML"
        return response
    return render(request, "portal/_reply_added.html", {**context, "form": ReplyForm()})


@customer_required
@require_POST
def close(request, pk: int):
    ticket = get_ticket_for_user(request.user, pk)
    if ticket.state != State.CLOSED:
        actions.update_ticket(request.user, ticket, state=State.CLOSED)
        messages.success(request, _("Ticket #%(number)s is closed.") % {"number": ticket.number})
    return redirect("portal:ticket", pk=ticket.pk)


@customer_required
def new_ticket(request):
    form = NewTicketForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        ticket = run_action(
            form,
            actions.create_ticket,
            request.user,
            actions.NewTicket(
                subject=form.cleaned_data["subject"],
                body=form.cleaned_data["body"],
                channel=Channel.WEB,
                attachments=to_uploads(form.cleaned_data["attachments"]),
            ),
        )
        if ticket is not None:
            messages.success(request, _("Ticket #%(number)s created.") % {"number": ticket.number})
            return redirect("portal:ticket", pk=ticket.pk)
    context = {"form": form, "max_upload_mb": settings.MAX_UPLOAD_BYTES // (1024 * 1024)}
    return render(request, "portal/ticket_new.html", context)


@customer_required
def my_products(request):
    """The customer's installed units (and the organisation's, when members share tickets) with
    their warranty status."""
    assets = assets_visible_to(request.user).select_related("product", "contact", "organization")
    return render(request, "portal/my_products.html", {"assets": list(assets)})
