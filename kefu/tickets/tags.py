"""Administrators tidy the tags agents type (``/tickets/tags/``, ``/api/v1/tags``): add one ahead
of use, rename one everywhere, or merge a misspelt or duplicate tag into another.

Tags are free text on tickets (``update_ticket`` creates a tag on first use), so there is nothing
to deactivate: merging is how a tag goes away, and every ticket that had it gets the other one.
Renaming and merging rewrite the affected tickets' search documents in the same transaction.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from kefu.accounts.access import require_admin
from kefu.accounts.models import User
from kefu.audit.actions import record
from kefu.tickets.actions import normalise_tags
from kefu.tickets.models import Tag, Ticket
from kefu.tickets.search import index_tickets


def _require_admin(actor: User | None) -> None:
    require_admin(actor, _("Only administrators manage tags."))


def _clean_name(name: str, tag: Tag | None) -> str:
    try:
        cleaned = normalise_tags([name])
    except ValidationError as error:
        raise ValidationError({"name": error.message_dict["tags"]}) from None
    if not cleaned:
        raise ValidationError({"name": _("Name the tag.")})
    clash = Tag.objects.annotate(lowered=Lower("name")).filter(lowered=cleaned[0].lower())
    if tag is not None:
        clash = clash.exclude(pk=tag.pk)
    if clash.exists():
        raise ValidationError(
            {
                "name": _("The tag %(name)s exists already; merge into it instead.")
                % {"name": cleaned[0]}
            }
        )
    return cleaned[0]


def _reindex(tag: Tag) -> int:
    ticket_ids = list(
        Ticket.tags.through.objects.filter(tag=tag).values_list("ticket_id", flat=True)
    )
    index_tickets(ticket_ids)
    return len(ticket_ids)


@transaction.atomic
def create_tag(actor: User | None, name: str) -> Tag:
    _require_admin(actor)
    tag = Tag.objects.create(name=_clean_name(name, None))
    record(actor, "tag.created", tag, {"name": [None, tag.name]})
    return tag


@transaction.atomic
def rename_tag(actor: User | None, tag: Tag, name: str) -> Tag:
    """Every ticket with ``tag`` shows the new name (and is found by it)."""
    _require_admin(actor)
    tag = Tag.objects.select_for_update().get(pk=tag.pk)
    old_name, new_name = tag.name, _clean_name(name, tag)
    if new_name == old_name:
        return tag
    tag.name = new_name
    tag.save(update_fields=["name"])
    tickets = _reindex(tag)
    record(actor, "tag.renamed", tag, {"name": [old_name, new_name], "tickets": tickets})
    return tag


@transaction.atomic
def merge_tag(actor: User | None, tag: Tag, into: Tag) -> Tag:
    """Give every ticket tagged ``tag`` the tag ``into`` instead, then remove ``tag``."""
    _require_admin(actor)
    if tag.pk == into.pk:
        raise ValidationError({"into": _("Choose another tag to merge into.")})
    locked = {t.pk: t for t in Tag.objects.select_for_update().filter(pk__in=[tag.pk, into.pk])}
    if len(locked) != 2:
        raise ValidationError({"into": _("That tag no longer exists.")})
    through = Ticket.tags.through
    ticket_ids = list(through.objects.filter(tag_id=tag.pk).values_list("ticket_id", flat=True))
    already = set(
        through.objects.filter(tag_id=into.pk, ticket_id__in=ticket_ids).values_list(
            "ticket_id", flat=True
        )
    )
    through.objects.bulk_create(
        [through(ticket_id=pk, tag_id=into.pk) for pk in ticket_ids if pk not in already]
    )
    through.objects.filter(tag_id=tag.pk).delete()
    index_tickets(ticket_ids)
    record(
        actor,
        "tag.merged",
        into,
        {"merged": tag.name, "into": into.name, "tickets": len(ticket_ids)},
    )
    Tag.objects.filter(pk=tag.pk).delete()
    return into
