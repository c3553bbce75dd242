"""The tickets shown on customers' and accounts' pages, registered in ``kefu.lib.panels``.

A contact's, an organisation's and an asset's page list the tickets the viewer may see
(``Ticket.objects.visible_to``) with their counts; the contact list counts them per row; the user
pages and lists count the open tickets assigned to someone and the group list those of each group
(administrators' pages: every ticket, as before). Registered by ``TicketsConfig.ready()``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import Count, Max, Q
from django.utils.translation import gettext_lazy as _

from kefu.customers.models import Contact
from kefu.lib import panels
from kefu.tickets.handlers import open_tickets_of
from kefu.tickets.models import OPEN_STATES, Ticket

TICKETS_SHOWN = 100
USER_TICKETS_SHOWN = 50
DEACTIVATION_TICKETS_SHOWN = 200

COUNT_CELL = "tickets/panels/_count_cell.html"


def with_ticket_counts(contacts, user):
    """Open and total tickets (those ``user`` may see) and the last message from the contact."""
    visible = Ticket.objects.visible_to(user).values("pk")
    return contacts.annotate(
        ticket_count=Count("tickets", filter=Q(tickets__in=visible), distinct=True),
        open_count=Count(
            "tickets",
            filter=Q(tickets__in=visible, tickets__state__in=OPEN_STATES),
            distinct=True,
        ),
        last_contact_at=Max("messages__created_at"),
    )


# --- contacts -------------------------------------------------------------------------------


def contact_counts(user, contacts: Sequence[Contact]) -> dict[int, dict[str, Any]]:
    # One query for the page's rows: aggregating the whole table would not scale.
    counted = with_ticket_counts(Contact.objects.filter(pk__in=[c.pk for c in contacts]), user)
    return {
        row["pk"]: row
        for row in counted.values("pk", "open_count", "ticket_count", "last_contact_at")
    }


def contact_facts(request, contact):
    counts = with_ticket_counts(Contact.objects.filter(pk=contact.pk), request.user).get()
    return "tickets/panels/_contact_facts.html", {"counts": counts}


def contact_tickets(request, contact):
    tickets = list(
        Ticket.objects.visible_to(request.user)
        .filter(contact=contact)
        .select_related("group", "assignee", "type", "asset")
        .order_by("-created_at", "-id")[: TICKETS_SHOWN + 1]
    )
    context = {
        "contact": contact,
        "tickets": tickets[:TICKETS_SHOWN],
        "more_tickets": len(tickets) > TICKETS_SHOWN,
    }
    return "tickets/panels/_contact_tickets.html", context


# --- organisations and assets ---------------------------------------------------------------


def organization_facts(request, organization):
    counts = (
        Ticket.objects.visible_to(request.user)
        .filter(organization=organization)
        .aggregate(
            total=Count("pk"),
            open=Count("pk", filter=Q(state__in=OPEN_STATES)),
            last_created=Max("created_at"),
        )
    )
    return "tickets/panels/_organization_facts.html", {"counts": counts}


def organization_tickets(request, organization):
    tickets = (
        Ticket.objects.visible_to(request.user)
        .filter(organization=organization)
        .select_related("contact", "group", "assignee", "asset")
        .order_by("-created_at", "-id")[:TICKETS_SHOWN]
    )
    return "tickets/panels/_organization_tickets.html", {"tickets": list(tickets)}


def asset_history(request, asset):
    # The service history: every ticket about this unit the viewer may see, newest first.
    history = (
        Ticket.objects.visible_to(request.user)
        .filter(asset=asset)
        .select_related("contact", "group", "assignee", "type")
        .order_by("-created_at", "-id")
    )
    return "tickets/panels/_asset_history.html", {"history": list(history)}


# --- users and groups (administrators' pages) -----------------------------------------------


def open_tickets_per_assignee(user, users: Sequence[Any]) -> dict[int, dict[str, int]]:
    counted = dict(
        Ticket.objects.open()
        .filter(assignee__in=[u.pk for u in users])
        .values_list("assignee")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {u.pk: {"open_tickets": counted.get(u.pk, 0)} for u in users}


def open_tickets_per_group(user, groups: Sequence[Any]) -> dict[int, dict[str, int]]:
    counted = dict(
        Ticket.objects.open()
        .filter(group__in=[g.pk for g in groups])
        .values_list("group")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {g.pk: {"open_tickets": counted.get(g.pk, 0)} for g in groups}


def user_facts(request, target):
    return "tickets/panels/_user_facts.html", {"open_count": open_tickets_of(target).count()}


def user_open_tickets(request, target):
    tickets = list(open_tickets_of(target)[:USER_TICKETS_SHOWN])
    if not tickets:
        return None
    return "tickets/panels/_user_open_tickets.html", {"open_tickets": tickets}


def deactivation_tickets(request, target):
    context = {
        "open_tickets": open_tickets_of(target)[:DEACTIVATION_TICKETS_SHOWN],
        "open_count": open_tickets_of(target).count(),
    }
    return "tickets/panels/_deactivation_tickets.html", context


def register() -> None:
    open_tickets = panels.Column("open_tickets", _("Open tickets"), COUNT_CELL)
    panels.register_section("contact", contact_facts, place="facts")
    panels.register_section("contact", contact_tickets)
    panels.register_columns(
        "contact",
        [
            panels.Column("open_count", _("Open tickets"), COUNT_CELL),
            panels.Column("ticket_count", _("Tickets"), COUNT_CELL),
            panels.Column(
                "last_contact_at", _("Last contact"), "tickets/panels/_last_contact_cell.html"
            ),
        ],
        contact_counts,
    )
    panels.register_section("organization", organization_facts, place="facts")
    panels.register_section("organization", organization_tickets)
    panels.register_section("asset", asset_history)
    panels.register_section("user", user_facts, place="facts")
    panels.register_section("user", user_open_tickets, place="sidebar")
    panels.register_columns("user", [open_tickets], open_tickets_per_assignee)
    panels.register_section("user_deactivation", deactivation_tickets)
    panels.register_columns("group", [open_tickets], open_tickets_per_group)
