"""Template helpers for the portal: states in words a customer understands."""

from __future__ import annotations

from django import template
from django.utils.translation import pgettext_lazy

from kefu.tickets.models import State

register = template.Library()

CUSTOMER_STATE_LABELS = {
    State.NEW: pgettext_lazy("ticket state for customers", "Received"),
    State.OPEN: pgettext_lazy("ticket state for customers", "In progress"),
    State.PENDING_CUSTOMER: pgettext_lazy("ticket state for customers", "Waiting for your reply"),
    State.ON_HOLD: pgettext_lazy("ticket state for customers", "In progress"),
    State.RESOLVED: pgettext_lazy("ticket state for customers", "Solved"),
    State.CLOSED: pgettext_lazy("ticket state for customers", "Closed"),
}


@register.filter
def customer_state(state: str) -> str:
    """The customer-facing label of a ticket state (``on_hold`` is staff detail: "In progress")."""
    label = CUSTOMER_STATE_LABELS.get(State(state)) if state in State.values else None
    return str(label or state)


@register.simple_tag
def portal_signup_open() -> bool:
    """Whether visitors may create a portal account (``KEFU_PORTAL_SIGNUP``)."""
    from kefu.portal.signup import is_enabled

    return is_enabled()
