"""A ticket as Kefu shows it outside: the API's ticket object, also the ``ticket`` of every
outgoing webhook payload (docs/api.md, docs/automation.md).

The API's ``TicketOut`` schema (``kefu.api.schemas``) describes this dictionary; a test checks
that a webhook payload validates against it. Apps above tickets add a section through
``register_section`` (the SLA app adds ``sla``) instead of this module importing them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet

from kefu.tickets import custom_fields as custom
from kefu.tickets.models import Ticket
from kefu.tickets.relations import links_of, prefetch_links

Section = Callable[[Ticket], Any]

# Staff-only sections (null for customers), filled by higher apps' AppConfig.ready().
_sections: dict[str, Section] = {}
SECTION_RELATIONS: dict[str, tuple[str, ...]] = {}


def register_section(name: str, build: Section, *, select_related: tuple[str, ...] = ()) -> None:
    _sections[name] = build
    SECTION_RELATIONS[name] = select_related


def ref(obj: Any) -> dict | None:
    return {"id": obj.pk, "name": str(obj)} if obj is not None else None


def with_relations(tickets: QuerySet[Ticket], *, for_staff: bool) -> QuerySet[Ticket]:
    """``tickets`` with everything ``ticket_data`` shows, so a list costs a fixed number of
    queries."""
    tickets = tickets.select_related(
        "group",
        "assignee",
        "type",
        "contact",
        "organization",
        "category",
        "asset__product",
        "merged_into",
        *(name for names in SECTION_RELATIONS.values() for name in names),
    )
    if not for_staff:
        return tickets
    return tickets.prefetch_related("tags", custom.prefetch_values(), *prefetch_links())


def ticket_data(ticket: Ticket, *, for_staff: bool) -> dict[str, Any]:
    """The ticket object; tags, custom fields, links, parent and the registered sections are
    staff-only (``None`` for a customer)."""
    links = links_of(ticket) if for_staff else []
    data: dict[str, Any] = {
        "id": ticket.pk,
        "number": ticket.number,
        "subject": ticket.subject,
        "state": ticket.state,
        "priority": ticket.priority,
        "type": ticket.type.key,
        "channel": ticket.channel,
        "group": ref(ticket.group),
        "assignee": ref(ticket.assignee),
        "customer": ref(ticket.contact),
        "organization": ref(ticket.organization),
        "tags": sorted(tag.name for tag in ticket.tags.all()) if for_staff else None,
        "created_at": ticket.created_at,
        "updated_at": ticket.updated_at,
        "first_response_at": ticket.first_response_at,
        "resolved_at": ticket.resolved_at,
        "closed_at": ticket.closed_at,
        "asset": asset_data(ticket.asset) if ticket.asset_id else None,
        "category": ref(ticket.category),
        "complexity": ticket.complexity,
        "custom_fields": (
            {key: custom.json_value(value) for key, value in custom.read_values(ticket).items()}
            if for_staff
            else None
        ),
        "links": (
            [
                {"id": v.id, "kind": v.kind, "role": v.role, "ticket": ticket_ref(v.ticket)}
                for v in links
            ]
            if for_staff
            else None
        ),
        "parent": (
            next((ticket_ref(v.ticket) for v in links if v.role == "parent"), None)
            if for_staff
            else None
        ),
        "merged_into": ticket_ref(ticket.merged_into) if ticket.merged_into else None,
    }
    for name, build in _sections.items():
        data[name] = build(ticket) if for_staff else None
    return data


def ticket_ref(ticket: Ticket) -> dict[str, Any]:
    return {
        "id": ticket.pk,
        "number": ticket.number,
        "subject": ticket.subject,
        "state": ticket.state,
    }


def asset_data(asset: Any) -> dict[str, Any]:
    """Expects ``asset__product`` selected."""
    return {
        "id": asset.pk,
        "name": str(asset),
        "serial_number": asset.serial_number,
        "product": ref(asset.product),
        "warranty_status": str(asset.warranty_status()),
        "warranty_ends_at": asset.warranty_ends_at,
    }
