"""Finding ``@mentions`` of staff in an internal note.

A person is mentioned by ``@`` followed by their e-mail address's local part (``@wang`` for
wang@example.com — what the note box's autocomplete inserts), their full name, or their full name
without spaces (``@王小明``). Only staff who can see the ticket are candidates, so a mention of
anyone else is simply not a mention.
"""

from __future__ import annotations

import re

from django.db.models import Q, QuerySet

from kefu.accounts.models import Role, User
from kefu.tickets.models import Ticket

# What may follow a mention: anything but the characters of an e-mail local part or a Latin
# name, so "@wang," and "@王小明请看" match while "@wangwei" does not match "@wang".
_CONTINUES = re.compile(r"[A-Za-z0-9._+\-]")


def staff_who_can_see(ticket: Ticket) -> QuerySet[User]:
    """Active staff who see ``ticket``: administrators and members of its group (the staff half
    of ``Ticket.objects.visible_to``)."""
    return (
        User.objects.staff()
        .filter(Q(role=Role.ADMIN) | Q(memberships__group_id=ticket.group_id))
        .distinct()
    )


def handles(user: User) -> set[str]:
    names = {user.email.split("@")[0].lower()}
    name = " ".join((user.name or "").split()).lower()
    if name:
        names |= {name, name.replace(" ", "")}
    return {handle for handle in names if handle}


def _mentions(text: str, handle: str) -> bool:
    start = 0
    while (found := text.find("@" + handle, start)) != -1:
        end = found + 1 + len(handle)
        before_ok = found == 0 or not _CONTINUES.match(text[found - 1])
        after_ok = end == len(text) or not _CONTINUES.match(text[end])
        if before_ok and after_ok:
            return True
        start = found + 1
    return False


def mentioned_users(text: str, ticket: Ticket) -> list[User]:
    """Staff who can see ``ticket`` and are mentioned in ``text``."""
    if "@" not in text:
        return []
    lowered = text.lower()
    return [
        user
        for user in staff_who_can_see(ticket)
        if any(_mentions(lowered, handle) for handle in handles(user))
    ]
