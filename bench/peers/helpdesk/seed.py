"""Seed django-helpdesk with the benchmark's tickets (bench/data.py), and hand out credentials.

    PEER_DATABASE_URL=postgres://…/db bench/peers/helpdesk/.venv/bin/python seed.py seed 100000
    PEER_DATABASE_URL=postgres://…/db bench/peers/helpdesk/.venv/bin/python seed.py credentials

The same shapes as Kefu's seed, mapped onto django-helpdesk's tables: a group → a queue, an agent
→ a staff user, a ticket → a ticket whose description is the first message (what helpdesk does
itself), each message → a follow-up (the first one "Ticket Opened"), the state change of a
finished ticket → a follow-up with a ``TicketChange``; the customer is the ticket's
``submitter_email`` (helpdesk has no contact or organisation records). Loaded with
bench/loader.py (COPY, indexes built after loading).
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent.parent))  # bench/
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")

import django  # noqa: E402

django.setup()

import data  # noqa: E402 - bench/data.py
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.core.management.color import no_style  # noqa: E402
from django.db import connection  # noqa: E402
from helpdesk.models import FollowUp, Queue, Ticket, TicketChange  # noqa: E402
from loader import Progress, Table, db_datetime, loading  # noqa: E402

STATUS = {"new": 1, "open": 1, "pending_customer": 1, "on_hold": 1, "resolved": 3, "closed": 4}
PRIORITY = {"urgent": 1, "high": 2, "medium": 3, "low": 4}
CHUNK = 2_000


def seed(n: int) -> None:
    started = time.monotonic()
    call_command("migrate", verbosity=0)
    user_model = get_user_model()
    user_model.objects.create_superuser("admin", "admin@bench.example", None)
    queues = [
        Queue.objects.create(
            title=f"Bench group {g}", slug=f"bench-{g}", allow_public_submission=True
        )
        for g in range(data.GROUPS)
    ]
    agents = [
        user_model.objects.create_user(
            f"agent{k}", f"agent{k}@bench.example", None, is_staff=True
        ).pk
        for k in range(data.GROUPS * data.AGENTS_PER_GROUP)
    ]
    _contacts, organisations = data.counts(n)
    tickets = Table(
        Ticket,
        [
            "id", "title", "queue_id", "created", "modified", "submitter_email", "assigned_to_id",
            "status", "on_hold", "description", "resolution", "priority",
        ],
    )  # fmt: skip
    followups = Table(
        FollowUp, ["id", "ticket_id", "date", "title", "comment", "public", "user_id", "new_status"]
    )
    changes = Table(TicketChange, ["followup_id", "field", "old_value", "new_value"])
    progress = Progress("helpdesk", n)
    followup_id = 0
    with loading(["helpdesk_ticket", "helpdesk_followup", "helpdesk_ticketchange"]):
        for start in range(0, n, CHUNK):
            ticket_rows, followup_rows, change_rows = [], [], []
            for i in range(start, min(start + CHUNK, n)):
                shape = data.ticket(i, n)
                _name, email, _phone, _org = data.contact(shape.contact, organisations)
                status = STATUS[shape.state]
                actor = (
                    agents[shape.assignee]
                    if shape.assignee is not None
                    else agents[shape.group * data.AGENTS_PER_GROUP]
                )
                done_at = shape.updated_at + timedelta(hours=1)
                ticket_rows.append(
                    (
                        i + 1, shape.subject[:200], queues[shape.group].pk,
                        db_datetime(shape.created_at),
                        db_datetime(done_at if status > 1 else shape.updated_at), email,
                        None if shape.assignee is None else agents[shape.assignee], status,
                        shape.state == "on_hold", shape.messages[0].body,
                        "Resolved." if status > 1 else None, PRIORITY[shape.priority],
                    )
                )  # fmt: skip
                for m, message in enumerate(shape.messages):
                    followup_id += 1
                    followup_rows.append(
                        (
                            followup_id, i + 1, db_datetime(shape.created_at + message.offset),
                            "Ticket Opened" if m == 0 else ("Comment" if message.internal else "Reply"),
                            message.body, not message.internal,
                            None if message.from_customer else actor, None,
                        )
                    )  # fmt: skip
                if status > 1:
                    followup_id += 1
                    followup_rows.append(
                        (
                            followup_id, i + 1, db_datetime(done_at),
                            "Resolved" if status == 3 else "Closed", "Resolved.", True, actor,
                            status,
                        )
                    )  # fmt: skip
                    change_rows.append((followup_id, "Status", "Open", shape.state.title()))
            tickets.load(ticket_rows)
            followups.load(followup_rows)
            changes.load(change_rows)
            progress.add(len(ticket_rows))
        progress.close()
    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(
            no_style(), [Ticket, FollowUp, TicketChange]
        ):
            cursor.execute(statement)
        cursor.execute("ANALYZE")
    print(
        f"seeded helpdesk with {n:,} tickets in {time.monotonic() - started:.0f} s", file=sys.stderr
    )


def credentials() -> None:
    """JSON on stdout: an API token, session cookies of agent0 and the admin, sample ids."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from rest_framework.authtoken.models import Token

    user_model = get_user_model()
    admin = user_model.objects.get(username="admin")
    agent = user_model.objects.get(username="agent0")

    def session(user) -> str:
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        return store.session_key

    token, _created = Token.objects.get_or_create(user=admin)
    ticket = Ticket.objects.filter(queue__slug="bench-0").order_by("-id").first()
    print(
        json.dumps(
            {
                "token": token.key,
                "cookie": {"sessionid": session(agent)},
                "admin_cookie": {"sessionid": session(admin)},
                "agent_id": agent.pk,
                "ticket_id": ticket.pk,
                "queue_id": Queue.objects.get(slug="bench-0").pk,
            }
        )
    )


if __name__ == "__main__":
    if sys.argv[1] == "seed":
        seed(int(sys.argv[2]))
    elif sys.argv[1] == "migrate":
        call_command("migrate", verbosity=0)
    else:
        credentials()
