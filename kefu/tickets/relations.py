"""Actions on tickets in relation to each other: links, parent and child, merge and split.

Like ``kefu.tickets.actions`` (which this module extends; it grew past the size of one module),
every function here checks the actor, writes inside one transaction, records both timelines and
publishes domain events.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from kefu.accounts.models import User
from kefu.lib.errors import BusinessRuleError
from kefu.tickets import events
from kefu.tickets.access import can_work_ticket
from kefu.tickets.actions import (
    _apply_state,
    _notify_live,
    _record,
    _require_staff_writer,
    add_message,
)
from kefu.tickets.models import (
    EventType,
    LinkKind,
    Message,
    State,
    Ticket,
    TicketEvent,
    TicketLink,
)
from kefu.tickets.numbers import next_ticket_number
from kefu.tickets.search import index_tickets
from kefu.tickets.validation import validate_subject

REASON_MERGED = gettext_noop("Merged into another ticket")
MAX_ANCESTRY = 50

# How a link reads from one end: (kind, this ticket is the source) → role.
ROLE_RELATED = "related"
ROLE_DUPLICATE_OF = "duplicate_of"
ROLE_DUPLICATED_BY = "duplicated_by"
ROLE_PARENT = "parent"
ROLE_CHILD = "child"
ROLES: dict[tuple[str, bool], str] = {
    (LinkKind.RELATED, True): ROLE_RELATED,
    (LinkKind.RELATED, False): ROLE_RELATED,
    (LinkKind.DUPLICATE, True): ROLE_DUPLICATE_OF,
    (LinkKind.DUPLICATE, False): ROLE_DUPLICATED_BY,
    # A child link's source is the parent: seen from the source, the other end is its child.
    (LinkKind.CHILD, True): ROLE_CHILD,
    (LinkKind.CHILD, False): ROLE_PARENT,
}


@dataclass(frozen=True)
class LinkView:
    """A link as seen from one ticket: ``role`` is what ``ticket`` is to that ticket."""

    id: int
    kind: str
    role: str
    ticket: Ticket


def links_of(ticket: Ticket) -> list[LinkView]:
    """Every link of ``ticket``; uses ``links_out__target`` / ``links_in__source`` prefetches."""
    found = [
        LinkView(link.pk, link.kind, ROLES[(link.kind, True)], link.target)
        for link in ticket.links_out.all()
    ] + [
        LinkView(link.pk, link.kind, ROLES[(link.kind, False)], link.source)
        for link in ticket.links_in.all()
    ]
    return sorted(found, key=lambda view: (view.role != ROLE_PARENT, view.ticket.number))


def prefetch_links() -> tuple[str, str]:
    return ("links_out__target", "links_in__source")


def current_parent(ticket: Ticket) -> Ticket | None:
    link = TicketLink.objects.filter(target=ticket, kind=LinkKind.CHILD).select_related("source")
    found = link.first()
    return found.source if found else None


def _check_linkable(ticket: Ticket, other: Ticket) -> None:
    if ticket.pk == other.pk:
        raise BusinessRuleError(_("A ticket cannot be linked to itself."), field="ticket")
    for end in (ticket, other):
        if end.merged_into_id:
            raise BusinessRuleError(
                _("#%(number)s was merged into another ticket; link that one instead.")
                % {"number": end.number},
                field="ticket",
            )
    if TicketLink.objects.filter(
        Q(source=ticket, target=other) | Q(source=other, target=ticket)
    ).exists():
        raise BusinessRuleError(
            _("#%(a)s and #%(b)s are already linked.") % {"a": ticket.number, "b": other.number},
            field="ticket",
        )


def link_child(actor: User | None, parent: Ticket, child: Ticket, *, record: bool = True):
    """Make ``child`` a child of ``parent``; inside the caller's transaction. ``record=False``
    when ``update_ticket`` records the change on the child's timeline itself."""
    _check_linkable(parent, child)
    if TicketLink.objects.filter(target=child, kind=LinkKind.CHILD).exists():
        raise BusinessRuleError(
            _("#%(number)s already has a parent ticket.") % {"number": child.number},
            field="ticket",
        )
    # Walk up from the new parent: meeting the child there would make a cycle.
    ancestor: Ticket | None = parent
    for _step in range(MAX_ANCESTRY):
        ancestor = current_parent(ancestor) if ancestor else None
        if ancestor is None:
            break
        if ancestor.pk == child.pk:
            raise BusinessRuleError(
                _("#%(child)s is an ancestor of #%(parent)s; a ticket cannot be its own parent.")
                % {"child": child.number, "parent": parent.number},
                field="ticket",
            )
    link = TicketLink.objects.create(
        source=parent, target=child, kind=LinkKind.CHILD, created_by=actor
    )
    _record(
        parent,
        actor,
        EventType.LINKED,
        new_value=f"#{child.number}",
        reason=ROLE_CHILD,
        is_internal=True,
    )
    if record:
        _record(
            child,
            actor,
            EventType.LINKED,
            new_value=f"#{parent.number}",
            reason=ROLE_PARENT,
            is_internal=True,
        )
    return link


def unlink_parent(child: Ticket) -> None:
    TicketLink.objects.filter(target=child, kind=LinkKind.CHILD).delete()


@transaction.atomic
def link_tickets(actor: User, ticket: Ticket, other: Ticket, kind: str) -> TicketLink:
    """Link ``ticket`` to ``other``: ``related``, ``duplicate`` (``ticket`` duplicates
    ``other``) or ``child`` (``other`` becomes a child of ``ticket``).

    The actor must work ``ticket``; ``other`` must be visible to them (the caller fetched it
    with the access helper), and for ``child`` worked by them too, as its parent changes.
    """
    if kind not in LinkKind.values:
        raise BusinessRuleError(
            _("Unknown link kind %(kind)s; use related, duplicate or child.") % {"kind": kind},
            field="kind",
        )
    ticket, other = _lock(ticket, other)
    _require_staff_writer(actor, ticket)
    if kind == LinkKind.CHILD:
        _require_staff_writer(actor, other)
        link = link_child(actor, ticket, other)
    else:
        _check_linkable(ticket, other)
        link = TicketLink.objects.create(source=ticket, target=other, kind=kind, created_by=actor)
        _record(
            ticket,
            actor,
            EventType.LINKED,
            new_value=f"#{other.number}",
            reason=ROLES[(kind, True)],
            is_internal=True,
        )
        _record(
            other,
            actor,
            EventType.LINKED,
            new_value=f"#{ticket.number}",
            reason=ROLES[(kind, False)],
            is_internal=True,
        )
    for end in (ticket, other):
        _notify_live(end, "ticket_changed", fields=["links"])
    return link


@transaction.atomic
def unlink_tickets(actor: User, ticket: Ticket, link: TicketLink) -> None:
    """Remove a link of ``ticket`` (either end); recorded on both timelines."""
    if ticket.pk not in (link.source_id, link.target_id):
        raise BusinessRuleError(_("This link does not belong to this ticket."))
    _require_staff_writer(actor, ticket)
    other = link.target if link.source_id == ticket.pk else link.source
    if link.kind == LinkKind.CHILD:
        # Detaching a child changes the child: the actor must work both ends.
        _require_staff_writer(actor, other)
    is_source = link.source_id == ticket.pk
    role = ROLES[(link.kind, is_source)]
    other_role = ROLES[(link.kind, not is_source)]
    link.delete()
    _record(
        ticket,
        actor,
        EventType.UNLINKED,
        old_value=f"#{other.number}",
        reason=role,
        is_internal=True,
    )
    _record(
        other,
        actor,
        EventType.UNLINKED,
        old_value=f"#{ticket.number}",
        reason=other_role,
        is_internal=True,
    )
    for end in (ticket, other):
        _notify_live(end, "ticket_changed", fields=["links"])


def _lock(*tickets: Ticket) -> list[Ticket]:
    """Lock the tickets' rows in id order (no deadlock between two merges of the same pair)."""
    ids = [ticket.pk for ticket in tickets]
    rows = {
        row.pk: row
        for row in Ticket.objects.select_for_update(of=("self",))
        .select_related("contact", "group", "type", "merged_into")
        .filter(pk__in=ids)
        .order_by("pk")
    }
    return [rows[pk] for pk in ids]


# --- merge ----------------------------------------------------------------------------------


def default_merge_comment(merged: Ticket, survivor: Ticket) -> str:
    """The customer's notice, in the customer's language."""
    language = survivor.contact.language or settings.LANGUAGE_CODE
    with translation.override(language):
        return _(
            "Your request #%(merged)s (%(subject)s) has been merged into this one, "
            "#%(number)s. We continue here; you need not do anything."
        ) % {"merged": merged.number, "subject": merged.subject, "number": survivor.number}


@transaction.atomic
def merge_ticket(
    actor: User,
    ticket: Ticket,
    into: Ticket,
    *,
    comment: str = "",
    notify_customer: bool = True,
) -> Ticket:
    """Merge ``ticket`` into ``into`` (the survivor) and return the survivor.

    Messages (with their attachments) and timeline events move to the survivor — moved, never
    copied, so each exists exactly once; other apps move their rows (participants) in their
    ``TicketMerged`` handlers. The merged ticket is closed, points to the survivor
    (``merged_into``), and both timelines record the merge. Children of the merged ticket become
    children of the survivor. Unless ``notify_customer`` is off, the customer is told by a
    public reply on the survivor (``comment`` or a default text in their language).
    """
    if ticket.pk == into.pk:
        raise BusinessRuleError(_("A ticket cannot be merged into itself."), field="into")
    source, survivor = _lock(ticket, into)
    _require_staff_writer(actor, source)
    _require_staff_writer(actor, survivor)
    if source.merged_into_id:
        raise BusinessRuleError(
            _("#%(number)s was already merged into #%(into)s.")
            % {"number": source.number, "into": source.merged_into.number},  # type: ignore[union-attr]
        )
    if survivor.merged_into_id:
        raise BusinessRuleError(
            _("#%(number)s was itself merged into #%(into)s; merge into that one.")
            % {"number": survivor.number, "into": survivor.merged_into.number},  # type: ignore[union-attr]
            field="into",
        )
    if survivor.state == State.CLOSED:
        raise BusinessRuleError(
            _("#%(number)s is closed; reopen it or merge the other way round.")
            % {"number": survivor.number},
            field="into",
        )
    same_organization = (
        source.organization_id is not None and source.organization_id == survivor.organization_id
    )
    if source.contact_id != survivor.contact_id and not same_organization:
        raise BusinessRuleError(
            _("#%(a)s and #%(b)s belong to different customers; they cannot be merged.")
            % {"a": source.number, "b": survivor.number},
            field="into",
        )

    Message.objects.filter(ticket=source).update(ticket=survivor)
    TicketEvent.objects.filter(ticket=source).update(ticket=survivor)
    TicketLink.objects.filter(
        Q(source=source, target=survivor) | Q(source=survivor, target=source)
    ).delete()
    already = TicketLink.objects.filter(source=survivor).values("target_id")
    TicketLink.objects.filter(source=source, kind=LinkKind.CHILD).exclude(
        target_id__in=already
    ).update(source=survivor)
    if source.last_customer_message_at and (
        survivor.last_customer_message_at is None
        or source.last_customer_message_at > survivor.last_customer_message_at
    ):
        survivor.last_customer_message_at = source.last_customer_message_at
        survivor.save(update_fields=["last_customer_message_at", "updated_at"])

    old_state = source.state
    source.merged_into = survivor
    _apply_state(source, State.CLOSED)
    source.save()
    _record(source, actor, EventType.MERGED, new_value=f"#{survivor.number}")
    if old_state != State.CLOSED:
        _record(
            source,
            actor,
            EventType.CHANGED,
            field="state",
            old_value=old_state,
            new_value=State.CLOSED,
            reason=REASON_MERGED,
        )
    _record(survivor, actor, EventType.MERGED, old_value=f"#{source.number}")
    index_tickets([source.pk, survivor.pk])
    if old_state != State.CLOSED:
        events.publish(
            events.TicketStateChanged(
                ticket=source, actor=actor, old_state=old_state, new_state=State.CLOSED
            )
        )
    events.publish(events.TicketMerged(ticket=survivor, actor=actor, merged=source))
    if notify_customer:
        add_message(
            actor, survivor, body=comment.strip() or default_merge_comment(source, survivor)
        )
    _notify_live(source, "ticket_changed", fields=["state", "merged_into"])
    _notify_live(survivor, "ticket_changed", fields=["messages"])
    return survivor


# --- split ----------------------------------------------------------------------------------


@transaction.atomic
def split_ticket(actor: User, ticket: Ticket, message: Message, *, subject: str = "") -> Ticket:
    """Move ``message`` (with its attachments and timeline rows) to a new ticket, linked to the
    original as related; the new ticket keeps the customer, group, type, priority, category and
    asset. The original must keep at least one message."""
    (ticket,) = _lock(ticket)
    _require_staff_writer(actor, ticket)
    if message.ticket_id != ticket.pk:
        raise BusinessRuleError(_("This message is not part of this ticket."), field="message")
    if ticket.merged_into_id:
        raise BusinessRuleError(_("A merged ticket cannot be split."))
    if not Message.objects.filter(ticket=ticket).exclude(pk=message.pk).exists():
        raise BusinessRuleError(
            _("This is the ticket's only message; it cannot be split off."), field="message"
        )
    subject = validate_subject(subject or ticket.subject)
    contact = message.author_contact or ticket.contact
    new = Ticket.objects.create(
        number=next_ticket_number(),
        subject=subject,
        state=State.NEW,
        priority=ticket.priority,
        type=ticket.type,
        channel=message.channel,
        contact=contact,
        organization=contact.organization,
        group=ticket.group,
        assignee=ticket.assignee if can_work_ticket(actor, ticket) else None,
        category=ticket.category,
        complexity=ticket.complexity,
        asset=ticket.asset if contact.pk == ticket.contact_id else None,
        created_by=actor,
        last_customer_message_at=message.created_at if message.author_contact_id else None,
    )
    new.tags.set(ticket.tags.all())
    Message.objects.filter(pk=message.pk).update(ticket=new)
    # The message's own timeline rows go with it; the original keeps its "created" row.
    TicketEvent.objects.filter(message=message).exclude(type=EventType.CREATED).update(ticket=new)
    TicketLink.objects.create(source=new, target=ticket, kind=LinkKind.RELATED, created_by=actor)
    _record(new, actor, EventType.SPLIT, old_value=f"#{ticket.number}", message=message)
    _record(ticket, actor, EventType.SPLIT, new_value=f"#{new.number}", is_internal=True)
    index_tickets([ticket.pk, new.pk])
    message.ticket = new
    events.publish(events.TicketCreated(ticket=new, actor=actor, message=message))
    _notify_live(ticket, "ticket_changed", fields=["messages"])
    _notify_live(new, "ticket_created", group_id=new.group_id)
    return new
