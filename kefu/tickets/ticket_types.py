"""Administrators keep the list of ticket types (``/tickets/types/``, ``/api/v1/ticket-types``).

Types are never deleted: tickets keep a deactivated type, and forms and the API no longer offer it.
The key is what the API and imports use, so it is fixed once the type exists; the name is shown
(and translated when it is one of the built-in names).
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from kefu.accounts.access import require_admin
from kefu.accounts.models import User
from kefu.audit.actions import changes_since, record, snapshot
from kefu.tickets.models import TicketType

KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
AUDITED_FIELDS = ("key", "name", "position", "is_active")


@transaction.atomic
def save_ticket_type(
    actor: User | None,
    ticket_type: TicketType | None = None,
    *,
    key: str | None = None,
    name: str,
    position: int = 0,
    is_active: bool = True,
) -> TicketType:
    """Create (``ticket_type=None``, with a ``key``) or change a ticket type."""
    require_admin(actor, _("Only administrators manage ticket types."))
    creating = ticket_type is None
    ticket_type = ticket_type or TicketType()
    before = snapshot(ticket_type, AUDITED_FIELDS)
    if creating:
        key = (key or "").strip().lower()
        if not KEY_PATTERN.match(key):
            raise ValidationError(
                {
                    "key": _(
                        "A key starts with a letter and has at most 40 lower-case letters, "
                        "digits, - and _."
                    )
                }
            )
        if TicketType.objects.filter(key=key).exists():
            raise ValidationError({"key": _("A ticket type with this key exists already.")})
        ticket_type.key = key
    elif key is not None and key != ticket_type.key:
        raise ValidationError({"key": _("The key of a ticket type cannot change.")})
    name = " ".join((name or "").split())
    if not name or len(name) > 100:
        raise ValidationError({"name": _("Give a name of at most 100 characters.")})
    if position < 0:
        raise ValidationError({"position": _("Use a number of 0 or more.")})
    others_active = TicketType.objects.filter(is_active=True).exclude(pk=ticket_type.pk)
    if not is_active and not others_active.exists():
        raise ValidationError(
            {"is_active": _("Keep at least one ticket type active: new tickets need one.")}
        )
    ticket_type.name = name
    ticket_type.position = position
    ticket_type.is_active = is_active
    ticket_type.save()
    action = "ticket_type.created" if creating else "ticket_type.updated"
    record(actor, action, ticket_type, changes_since(before, ticket_type))
    return ticket_type
