"""The safe placeholder syntax of admin-written texts: ``{{ customer.name }}``, nothing else.

Triggers, time rules, macros and canned responses are written by admins and agents and stored in
the database, so they are never given to the Django template engine (which could reach any
attribute or tag). This renderer knows a fixed whitelist of names, substitutes them in one pass
(a value that itself looks like ``{{ … }}`` stays literal text) and produces plain text; the
output layer escapes it (replies and notes go through ``text_to_html``, e-mails through the
auto-escaping templates). Unknown names are rejected when the text is saved.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*\}\}")
TEMPLATE_SYNTAX = re.compile(r"\{\{|\}\}|\{%|%\}")


def _name(obj: Any) -> str:
    return str(obj) if obj is not None else ""


def _ticket_url(ticket: Any) -> str:
    return settings.SITE_URL + reverse("tickets:detail", args=[ticket.pk])


def _portal_url(ticket: Any) -> str:
    return settings.SITE_URL + reverse("portal:ticket", args=[ticket.pk])


# name → (description, how to get the value from (ticket, agent))
Getter = Callable[[Any, Any], str]
PLACEHOLDERS: dict[str, tuple[Any, Getter]] = {
    "ticket.number": (gettext_lazy("ticket number"), lambda t, a: str(t.number)),
    "ticket.subject": (gettext_lazy("subject"), lambda t, a: t.subject),
    "ticket.state": (gettext_lazy("state"), lambda t, a: str(t.get_state_display())),
    "ticket.priority": (gettext_lazy("priority"), lambda t, a: str(t.get_priority_display())),
    "ticket.type": (gettext_lazy("ticket type"), lambda t, a: _name(t.type)),
    "ticket.channel": (gettext_lazy("channel"), lambda t, a: str(t.get_channel_display())),
    "ticket.group": (gettext_lazy("group"), lambda t, a: _name(t.group)),
    "ticket.assignee": (gettext_lazy("assignee"), lambda t, a: _name(t.assignee)),
    "ticket.url": (gettext_lazy("link for staff"), lambda t, a: _ticket_url(t)),
    "ticket.portal_url": (gettext_lazy("link for the customer"), lambda t, a: _portal_url(t)),
    "customer.name": (gettext_lazy("customer name"), lambda t, a: t.contact.name),
    "customer.email": (gettext_lazy("customer e-mail"), lambda t, a: t.contact.email or ""),
    "customer.phone": (gettext_lazy("customer phone"), lambda t, a: t.contact.phone or ""),
    "organization.name": (gettext_lazy("organisation"), lambda t, a: _name(t.organization)),
    "agent.name": (
        gettext_lazy("the agent (who applies a macro; the assignee for rules)"),
        lambda t, a: _name(a),
    ),
    "agent.email": (gettext_lazy("the agent's e-mail"), lambda t, a: a.email if a else ""),
    "site.name": (gettext_lazy("site name"), lambda t, a: settings.SITE_NAME),
}


def placeholder_help() -> str:
    return ", ".join("{{ %s }}" % name for name in PLACEHOLDERS)  # noqa: UP031 - literal braces


def validate_template(text: str, *, field: str | None = None) -> str:
    """Raise a ``ValidationError`` naming every unknown placeholder or stray template syntax."""
    unknown = [m.group(1) for m in PLACEHOLDER.finditer(text) if m.group(1) not in PLACEHOLDERS]
    if unknown:
        message = _("Unknown placeholder %(names)s. Available: %(allowed)s") % {
            "names": ", ".join("{{ %s }}" % name for name in dict.fromkeys(unknown)),  # noqa: UP031
            "allowed": placeholder_help(),
        }
        raise ValidationError({field: message} if field else message)
    if TEMPLATE_SYNTAX.search(PLACEHOLDER.sub("", text)):
        message = _(
            "Only placeholders such as {{ customer.name }} are allowed; remove the other braces "
            "or tags."
        )
        raise ValidationError({field: message} if field else message)
    return text


def render(text: str, ticket: Any, agent: Any = None) -> str:
    """Substitute the whitelisted placeholders for ``ticket`` (one pass, plain text out)."""

    def substitute(match: re.Match[str]) -> str:
        entry = PLACEHOLDERS.get(match.group(1))
        if entry is None:  # validated on save; an old row keeps the text visible, not an error
            return match.group(0)
        return entry[1](ticket, agent)

    return PLACEHOLDER.sub(substitute, text)
