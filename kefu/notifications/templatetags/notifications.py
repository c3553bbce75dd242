"""``{% notification_bell %}``: the navigation's bell. Its unread count is fetched by the page
right after loading (and again on every live ``notification`` event), so rendering a console page
costs no query for it."""

from __future__ import annotations

from django import template

register = template.Library()


@register.inclusion_tag("notifications/_bell.html", takes_context=True)
def notification_bell(context):
    request = context.get("request")
    user = getattr(request, "user", None)
    shown = user is not None and user.is_authenticated and user.is_staff_member
    return {"hidden": not shown, "lazy": True, "unread": None}
