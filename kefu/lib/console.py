"""The console shell every staff page shares: full pages with the navigation's counts, htmx
detection, and an action's error shown on the form that caused it.

It lives in ``lib`` so that every app's views may use it; ``lib`` knows no app, so the counts the
navigation shows come from the apps that own them (``register_navigation_count`` in
``AppConfig.ready()``; tickets registers ``my_open_count``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from kefu.lib.errors import BusinessRuleError
from kefu.lib.guards import require_staff_page

# What an action raises for input or rules the user can fix; views show it on the form.
ACTION_ERRORS = (ValidationError, BusinessRuleError, PermissionDenied)

NavigationCount = Callable[[Any], int]
_navigation_counts: dict[str, NavigationCount] = {}


def register_navigation_count(name: str, count: NavigationCount) -> None:
    """``count(user)`` becomes the template variable ``name`` on every full console page."""
    _navigation_counts[name] = count


def staff_console_view(view: Callable) -> Callable:
    """Console pages: anonymous users go to the login page, customers get a 404."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        require_staff_page(request.user)
        return view(request, *args, **kwargs)

    return login_required(wrapper)


def is_htmx(request) -> bool:
    # A history restore asks for the whole page even though it comes from htmx.
    return request.headers.get("HX-Request") == "true" and not request.headers.get(
        "HX-History-Restore-Request"
    )


def render_console(request, template: str, context: dict, *, status: int = 200) -> HttpResponse:
    """Render a full console page, with the counts the navigation shows."""
    counts = {name: count(request.user) for name, count in _navigation_counts.items()}
    return render(request, template, {**counts, **context}, status=status)


def add_action_error(form, error: Exception, field_map: dict[str, str] | None = None) -> None:
    """Turn an action's error into form errors, keeping what the user typed."""
    field_map = field_map or {}

    def target(name: str | None) -> str | None:
        name = field_map.get(name or "", name)
        return name if name in form.fields else None

    if isinstance(error, ValidationError) and hasattr(error, "error_dict"):
        for name, errors in error.message_dict.items():
            form.add_error(target(name), errors)
    elif isinstance(error, ValidationError):
        form.add_error(None, error.messages)
    elif isinstance(error, BusinessRuleError):
        form.add_error(target(error.field), error.message)
    else:
        form.add_error(None, str(error) or _("You are not allowed to do this."))
