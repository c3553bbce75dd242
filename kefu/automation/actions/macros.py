"""Applying macros to tickets and inserting canned responses."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext as _

from kefu.accounts.models import User
from kefu.automation.access import usable
from kefu.automation.actions.engine import in_site_language
from kefu.automation.models import CannedResponse, Macro
from kefu.automation.placeholders import render
from kefu.automation.rules import field_changes
from kefu.tickets.access import can_work_ticket
from kefu.tickets.actions import add_message, update_ticket
from kefu.tickets.models import Ticket


@transaction.atomic
def apply_macro(actor: User, ticket: Ticket, macro: Macro) -> Ticket:
    """The macro's reply (or note) first, then its field changes, whose timeline entries name
    the macro as their reason. All or nothing."""
    if not can_work_ticket(actor, ticket):
        raise PermissionDenied(_("You can read this ticket but not change it."))
    if not usable(Macro, actor).filter(pk=macro.pk).exists():
        raise PermissionDenied(_("You cannot use this macro."))
    if macro.reply_body:
        add_message(
            actor,
            ticket,
            body=render(macro.reply_body, ticket, actor),
            internal=macro.reply_internal,
        )
    changes = field_changes(macro.actions, ticket, agent=actor)
    if changes:
        reason = in_site_language(lambda: _("Macro: %(name)s") % {"name": macro.name})
        ticket = update_ticket(actor, ticket, reason=reason, **changes)
    Macro.objects.filter(pk=macro.pk).update(used_count=F("used_count") + 1)
    return ticket


def search_canned_responses(user: User, query: str, *, limit: int = 10) -> QuerySet:
    """Usable canned responses whose title or text contains ``query`` (any script; substring
    match, so Chinese needs no word segmentation). The most used first."""
    items = usable(CannedResponse, user)
    query = " ".join(query.split())
    for word in query.split(" ") if query else []:
        items = items.filter(Q(title__icontains=word) | Q(body__icontains=word))
    return items.order_by("-used_count", "title")[:limit]


def use_canned_response(
    actor: User, item: CannedResponse, ticket: Ticket, *, count: bool = True
) -> str:
    """The text to insert into ``ticket``'s reply box, placeholders filled; ``count`` records
    the use (the most used come first in searches)."""
    if count:
        CannedResponse.objects.filter(pk=item.pk).update(used_count=F("used_count") + 1)
    return render(item.body, ticket, actor)
