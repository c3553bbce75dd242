"""Which tickets a list shows: the one set of ticket filters, used by the console's list (and
its export) and the API's ``GET /tickets``.

Each caller parses its own input (a form, a query schema) into a ``TicketCriteria`` and calls
``filter_tickets`` on a queryset that already holds only what the user may see.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Exists, OuterRef, QuerySet

from kefu.customers.access import contact_search_condition
from kefu.tickets.models import (
    CustomField,
    CustomFieldKind,
    CustomFieldValue,
    Ticket,
    category_tree,
)

UNASSIGNED = "none"
YES, NO = "yes", "no"


@dataclass(frozen=True)
class TicketCriteria:
    """Every filter a ticket list offers; ``None`` / empty means "any".

    ``assignee`` is a user id or ``UNASSIGNED``; ``customer`` a contact id, or words that find
    the contact (``kefu.customers.access.contact_search_condition``); ``category`` takes its sub-categories along;
    ``custom`` maps custom fields to the value asked for (checkbox: ``YES`` / ``NO``).
    """

    state: str | None = None
    priority: str | None = None
    group_id: int | None = None
    assignee: int | str | None = None
    channel: str | None = None
    type_key: str | None = None
    customer: int | str | None = None
    category_id: int | None = None
    complexity: str | None = None
    asset_id: int | None = None
    asset_serial: str = ""
    custom: dict[CustomField, Any] = field(default_factory=dict)


def filter_tickets(tickets: QuerySet[Ticket], criteria: TicketCriteria) -> QuerySet[Ticket]:
    if criteria.state:
        tickets = tickets.filter(state=criteria.state)
    if criteria.priority:
        tickets = tickets.filter(priority=criteria.priority)
    if criteria.group_id is not None:
        tickets = tickets.filter(group_id=criteria.group_id)
    if criteria.assignee == UNASSIGNED:
        tickets = tickets.filter(assignee__isnull=True)
    elif criteria.assignee is not None:
        tickets = tickets.filter(assignee_id=int(criteria.assignee))
    if criteria.channel:
        tickets = tickets.filter(channel=criteria.channel)
    if criteria.type_key:
        tickets = tickets.filter(type__key=criteria.type_key)
    if isinstance(criteria.customer, int):
        tickets = tickets.filter(contact_id=criteria.customer)
    elif criteria.customer:
        condition = contact_search_condition(criteria.customer, prefix="contact__")
        if condition is not None:
            tickets = tickets.filter(condition)
    if criteria.category_id is not None:
        tickets = tickets.filter(category_id__in=category_and_descendants(criteria.category_id))
    if criteria.complexity:
        tickets = tickets.filter(complexity=criteria.complexity)
    if criteria.asset_id is not None:
        tickets = tickets.filter(asset_id=criteria.asset_id)
    if criteria.asset_serial:
        tickets = tickets.filter(asset__serial_number__istartswith=criteria.asset_serial)
    for custom_field, value in criteria.custom.items():
        tickets = filter_custom(tickets, custom_field, value)
    return tickets


def category_and_descendants(category_id: int) -> set[int]:
    """A category and everything below it, deactivated sub-categories included (their tickets
    still belong to the branch)."""
    ids = {category_id}
    for category, _depth, _path in category_tree(active_only=False):  # parents before children
        if category.parent_id in ids:
            ids.add(category.pk)
    return ids


def filter_custom(tickets: QuerySet[Ticket], field: CustomField, value: Any) -> QuerySet[Ticket]:
    """Tickets whose value of ``field`` matches: an indexed ``EXISTS`` on the value rows."""
    if value in (None, ""):
        return tickets
    rows = CustomFieldValue.objects.filter(ticket=OuterRef("pk"), field=field)
    if field.kind == CustomFieldKind.CHECKBOX:
        return tickets.filter(Exists(rows)) if value == YES else tickets.exclude(Exists(rows))
    if field.kind == CustomFieldKind.NUMBER:
        rows = rows.filter(number=value)
    elif field.kind == CustomFieldKind.DATE:
        rows = rows.filter(date=value)
    elif field.kind == CustomFieldKind.TEXT:
        rows = rows.filter(text__icontains=value)
    else:
        rows = rows.filter(text=value)
    return tickets.filter(Exists(rows))
