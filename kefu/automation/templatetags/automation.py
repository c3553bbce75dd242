"""``{% automation_ticket_tools ticket %}``: the ticket page's macro menu and canned-response
search, for staff who may work the ticket."""

from __future__ import annotations

from django import template

from kefu.automation.access import usable
from kefu.automation.models import Macro

register = template.Library()


@register.inclusion_tag("automation/_ticket_tools.html", takes_context=True)
def automation_ticket_tools(context, ticket):
    user = context["request"].user
    return {
        "ticket": ticket,
        "macros": list(usable(Macro, user).order_by("name")[:100]),
        "csrf_token": context.get("csrf_token"),
    }
