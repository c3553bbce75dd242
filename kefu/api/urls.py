"""API v1: one router per resource, bearer-token auth, and JSON errors for everything.

Mounted at ``/api/v1/`` by ``kefu/urls.py``; the OpenAPI document is at ``/api/v1/openapi.json``
(a copy is kept in ``docs/openapi.json``) and the interactive docs at ``/api/v1/docs``.
"""

from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import HttpError, ValidationError

from kefu.api import (
    assets,
    attachments,
    audit,
    automation,
    categories,
    contacts,
    custom_fields,
    email,
    events,
    groups,
    messages,
    notifications,
    organizations,
    privacy,
    products,
    routing,
    sla,
    tags,
    ticket_types,
    tickets,
    triage,
    users,
)
from kefu.api.auth import BearerToken
from kefu.api.errors import handle_exception
from kefu.api.parser import TextCheckingParser

api = NinjaAPI(
    title="Kefu API",
    version="1",
    description=(
        "Tickets, messages and their timeline for integrations. Authenticate with "
        "`Authorization: Bearer <token>` (create one with `kefu token create EMAIL`). "
        "Errors are `{detail, errors: [{field, message}]}`. See docs/api.md."
    ),
    urls_namespace="api",
    auth=BearerToken(),
    parser=TextCheckingParser(),
)
# One handler for every exception: known errors get their status, anything else a JSON 500 —
# never ninja's or Django's HTML/traceback pages. Handlers are looked up along the exception's
# MRO, so ninja's own defaults for these classes must be replaced one by one.
for exception_class in (Exception, Http404, HttpError, ValidationError):
    api.add_exception_handler(exception_class, handle_exception)  # type: ignore[arg-type]

api.add_router("/tickets", tickets.router)
api.add_router("/tickets", messages.router)
api.add_router("/tickets", events.router)
api.add_router("/attachments", attachments.router)
api.add_router("", groups.router)
api.add_router("", users.router)
api.add_router("", audit.router)
api.add_router("", privacy.router)
api.add_router("", contacts.router)
api.add_router("", organizations.router)
api.add_router("", products.router)
api.add_router("", assets.router)
api.add_router("", email.router)
api.add_router("", sla.router)
api.add_router("", notifications.router)
api.add_router("", custom_fields.router)
api.add_router("", categories.router)
api.add_router("", ticket_types.router)
api.add_router("", tags.router)
api.add_router("", routing.router)
api.add_router("", automation.router)
api.add_router("", triage.router)
