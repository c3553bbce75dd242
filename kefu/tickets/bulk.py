"""Actions over many tickets at once (the list's bulk actions) and "take next".

A bulk action applies the single-ticket action to each ticket in its own transaction, so every
ticket's timeline records its change and one ticket's refusal (no permission, an open child, …)
neither stops nor undoes the others; the result names each failure and why.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from kefu.accounts.access import group_ids_for, require_staff, workable_group_ids
from kefu.accounts.models import User
from kefu.lib.console import ACTION_ERRORS
from kefu.lib.errors import BusinessRuleError
from kefu.tickets.actions import add_message, update_ticket
from kefu.tickets.models import State, Ticket
from kefu.tickets.relations import merge_ticket

MAX_BULK_TICKETS = 500
BULK_FIELDS = frozenset({"state", "priority", "group", "assignee", "add_tags", "remove_tags"})
REASON_TOOK_NEXT = gettext_noop("took next")


@dataclass(frozen=True)
class BulkFailure:
    ticket_id: int
    number: int | None
    message: str


@dataclass
class BulkResult:
    succeeded: list[Ticket] = field(default_factory=list)
    failed: list[BulkFailure] = field(default_factory=list)


def error_text(error: Exception) -> str:
    if isinstance(error, ValidationError):
        if hasattr(error, "error_dict"):
            return "; ".join(
                f"{name}: {' '.join(messages)}" if name != "__all__" else " ".join(messages)
                for name, messages in error.message_dict.items()
            )
        return " ".join(error.messages)
    if isinstance(error, BusinessRuleError):
        return error.message
    return str(error) or _("You are not allowed to do this.")


def bulk_update_tickets(
    actor: User,
    ticket_ids: Iterable[int],
    *,
    reason: str = "",
    merge_into: Ticket | None = None,
    **changes: Any,
) -> BulkResult:
    """Apply ``changes`` (``state``, ``priority``, ``group``, ``assignee``, ``add_tags``,
    ``remove_tags``) to each ticket with ``update_ticket``, or merge each into ``merge_into``.

    Tickets the actor cannot see fail as "not found"; the rest fail with the action's own
    message. A merge tells the customer once, on the survivor, listing every merged ticket.
    """
    ids = list(dict.fromkeys(int(pk) for pk in ticket_ids))
    if not ids:
        raise ValidationError({"tickets": _("Select at least one ticket.")})
    if len(ids) > MAX_BULK_TICKETS:
        raise ValidationError(
            {"tickets": _("At most %(n)s tickets at once.") % {"n": MAX_BULK_TICKETS}}
        )
    unknown = set(changes) - BULK_FIELDS
    if unknown:
        raise ValidationError({name: _("This field cannot be changed.") for name in unknown})
    if merge_into is None and not changes:
        raise ValidationError({"__all__": _("Choose what to change.")})
    if merge_into is not None and changes:
        raise ValidationError({"merge_into": _("Merge on its own, without other changes.")})
    visible = {
        ticket.pk: ticket
        for ticket in Ticket.objects.visible_to(actor)
        .select_related("group", "contact")
        .filter(pk__in=ids)
    }
    result = BulkResult()
    merged: list[Ticket] = []
    for pk in ids:
        ticket = visible.get(pk)
        if ticket is None:
            result.failed.append(BulkFailure(pk, None, _("No such ticket.")))
            continue
        if merge_into is not None and ticket.pk == merge_into.pk:
            continue  # the survivor is among the selected tickets
        try:
            if merge_into is not None:
                merge_ticket(actor, ticket, merge_into, notify_customer=False)
                merged.append(ticket)
            else:
                update_ticket(actor, ticket, reason=reason, **changes)
        except ACTION_ERRORS as error:
            result.failed.append(BulkFailure(pk, ticket.number, error_text(error)))
        else:
            result.succeeded.append(ticket)
    if merged and merge_into is not None:
        add_message(actor, merge_into, body=_merged_notice(merged, merge_into))
    return result


def _merged_notice(merged: list[Ticket], survivor: Ticket) -> str:
    survivor = Ticket.objects.select_related("contact").get(pk=survivor.pk)
    with translation.override(survivor.contact.language or settings.LANGUAGE_CODE):
        return _(
            "Your requests %(numbers)s have been merged into this one, #%(number)s. We continue "
            "here; you need not do anything."
        ) % {
            "numbers": ", ".join(f"#{ticket.number}" for ticket in merged),
            "number": survivor.number,
        }


# --- take next ------------------------------------------------------------------------------

TAKE_NEXT_ATTEMPTS = 5


def take_next_ticket(actor: User) -> Ticket | None:
    """Assign the oldest unassigned new or open ticket of the actor's groups to the actor.

    Agents take from groups where they have full access, supervisors from all their groups,
    administrators from their groups (or from every group when they are in none). Two agents
    pressing the button together get different tickets: on PostgreSQL the candidate row is
    locked with ``SKIP LOCKED`` so the second agent skips to the next ticket; on SQLite write
    transactions are serialised (``BEGIN IMMEDIATE``), and the row is re-checked under the lock.
    """
    require_staff(actor, _("Only staff take tickets."))
    group_ids = workable_group_ids(actor)
    if group_ids is None:
        group_ids = group_ids_for(actor) or None
    for _attempt in range(TAKE_NEXT_ATTEMPTS):
        with transaction.atomic():
            candidates = Ticket.objects.filter(
                assignee=None, state__in=[State.NEW, State.OPEN], merged_into=None
            )
            if group_ids is not None:
                candidates = candidates.filter(group_id__in=group_ids)
            candidates = candidates.order_by("created_at", "id")
            if connection.features.has_select_for_update_skip_locked:
                candidates = candidates.select_for_update(skip_locked=True, of=("self",))
            ticket = candidates.first()
            if ticket is None:
                return None
            # Re-read under the lock: another agent may have taken it since the query's snapshot.
            ticket = Ticket.objects.select_for_update(of=("self",)).get(pk=ticket.pk)
            if ticket.assignee_id is not None:
                continue
            return update_ticket(actor, ticket, assignee=actor, reason=REASON_TOOK_NEXT)
    return None
