"""Accounts' and customers' events → tickets. Registered in ``TicketsConfig.ready()``.

Accounts and customers sit below tickets: a deactivated user's open tickets, a group's open
tickets and a merged customer's tickets are the tickets app's to handle.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from kefu.accounts import events as account_events
from kefu.customers import events as customer_events
from kefu.customers.actions import REASON_CONTACTS_MERGED
from kefu.lib.errors import BusinessRuleError
from kefu.tickets.actions import update_ticket
from kefu.tickets.models import EventType, Ticket, TicketEvent
from kefu.tickets.search import index_tickets


def open_tickets_of(user) -> QuerySet[Ticket]:
    """The open tickets assigned to ``user`` (what a deactivation must hand over)."""
    return Ticket.objects.open().filter(assignee=user).select_related("group")


def on_user_deactivated(event: account_events.UserDeactivated) -> None:
    handed_over = 0
    if event.reassign_group is not None or event.reassign_to is not None:
        reason = _("%(user)s was deactivated") % {"user": event.user}
        for ticket in open_tickets_of(event.user):
            changes: dict[str, Any] = {"assignee": event.reassign_to}
            if event.reassign_group is not None:
                changes["group"] = event.reassign_group
            update_ticket(event.actor, ticket, reason=reason, **changes)
            handed_over += 1
    event.report["tickets_handed_over"] = handed_over
    event.report["tickets_left_assigned"] = open_tickets_of(event.user).count()


def on_group_deactivating(event: account_events.GroupDeactivating) -> None:
    open_count = Ticket.objects.open().filter(group=event.group).count()
    if open_count:
        raise BusinessRuleError(
            _("%(group)s still has %(n)s open tickets; move them to another group first.")
            % {"group": event.group, "n": open_count}
        )


def on_contacts_merged(event: customer_events.ContactsMerged) -> None:
    """Each ticket whose customer changed gets a timeline row and a fresh search document."""
    ticket_ids = event.moved.get(Ticket, [])
    TicketEvent.objects.bulk_create(
        TicketEvent(
            ticket_id=ticket_id,
            actor=event.actor,
            type=EventType.CHANGED,
            field="contact",
            old_value=event.duplicate_name,
            new_value=str(event.survivor),
            reason=REASON_CONTACTS_MERGED,
            is_internal=True,
        )
        for ticket_id in ticket_ids
    )
    if ticket_ids:
        index_tickets(ticket_ids)


def register() -> None:
    account_events.register(account_events.UserDeactivated, on_user_deactivated)
    account_events.register(account_events.GroupDeactivating, on_group_deactivating)
    customer_events.register(customer_events.ContactsMerged, on_contacts_merged)
