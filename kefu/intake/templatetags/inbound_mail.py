"""Template helpers for messages that came by e-mail, so the tickets and portal templates can fold
quoted history and link the original mail without the tickets code importing intake."""

from __future__ import annotations

from django import template

from kefu.intake.models import InboundEmail
from kefu.lib.quoting import split_reply
from kefu.tickets.models import Message, Ticket

register = template.Library()


@register.inclusion_tag("intake/_email_body.html")
def email_body(message: Message) -> dict:
    """The new text, with quoted history and signature in a collapsed block; the stored
    (sanitised) HTML when there is nothing to fold."""
    return {"message": message, "split": split_reply(message.body_text)}


@register.simple_tag
def raw_mail_message_ids(ticket: Ticket) -> set[int]:
    """Ids of the ticket's messages whose original mail is stored (one query per timeline)."""
    rows = (
        InboundEmail.objects.filter(ticket_message__ticket=ticket)
        .exclude(raw="")
        .values_list("ticket_message_id", flat=True)
    )
    return set(rows)
