"""Credentials for a benchmark run on Kefu: JSON on stdout (run with the run's Kefu environment).

An API token of the admin (the API client), a session of ``agent0`` (agent of group 0, the
console scenarios), the newest ticket of group 0 (ticket page) and the e-mail address of that
ticket's customer (customer e-mail search).
"""

from __future__ import annotations

import json
import os
from importlib import import_module

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kefu.settings")
os.environ["KEFU_DATABASE_POOL"] = "0"

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402

from kefu.accounts.actions import create_api_token  # noqa: E402
from kefu.accounts.models import User  # noqa: E402
from kefu.tickets.models import Ticket  # noqa: E402

admin = User.objects.get(email="admin@bench.example")
agent = User.objects.get(email="agent0@bench.example")
_token, raw = create_api_token(None, admin, name="bench")
store = import_module(settings.SESSION_ENGINE).SessionStore()
store[SESSION_KEY] = str(agent.pk)
store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
store[HASH_SESSION_KEY] = agent.get_session_auth_hash()
store.create()
ticket = Ticket.objects.filter(group__memberships__user=agent).select_related("contact")
ticket = ticket.order_by("-created_at", "-id").first()
assert ticket is not None
print(
    json.dumps(
        {
            "token": raw,
            "cookie": {settings.SESSION_COOKIE_NAME: store.session_key},
            "ticket_id": ticket.pk,
            "customer_email": ticket.contact.email,
            "agent_id": agent.pk,
        }
    )
)
