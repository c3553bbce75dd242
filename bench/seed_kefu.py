"""Seed a Kefu database with N benchmark tickets (the shapes of bench/data.py).

    KEFU_DATABASE_URL=postgres://…/kefubench_x KEFU_DATA_DIR=… .venv/bin/python bench/seed_kefu.py 100000
    KEFU_DATA_DIR=/tmp/dir .venv/bin/python bench/seed_kefu.py 10000          # SQLite file in the dir

Runs the migrations first, then inserts straight into the tables of the current schema through
bench/loader.py (COPY on PostgreSQL, executemany on SQLite; secondary indexes and the full-text
index dropped during the load and built after it; columns the seeder does not know take their
model defaults). Search documents are built with ``kefu.tickets.search.build_document`` — the
tokenisation the app itself uses — in a process pool. Called by bench/run.py, which caches the
result; also usable alone.
"""

from __future__ import annotations

import functools
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from multiprocessing import Pool
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import data  # noqa: E402 - bench/data.py
from loader import Progress, Table, db_datetime, loading  # noqa: E402

CHUNK = 1_000
DOCUMENT_COLUMNS = ["ticket_id", "subject_terms", "public_terms", "staff_terms", "indexed_at"]
INDEXED_AT = datetime.now(UTC)
BIG_TABLES = [
    "tickets_ticket",
    "tickets_message",
    "tickets_ticketevent",
    "tickets_ticketsearchdocument",
    "customers_contact",
    "customers_organization",
]


@functools.lru_cache(maxsize=200_000)
def _line_terms(line: str):
    from kefu.search.tokens import tokenise

    return tokenise(line)


@functools.lru_cache(maxsize=60_000)
def _body_terms(body: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    ordered: list[str] = []
    extra: dict[str, None] = {}
    for line in body.split("\n"):
        if line:
            terms = _line_terms(line)
            ordered.extend(terms.ordered)
            extra.update(terms.extra)
    return tuple(ordered), tuple(extra)


def _index_text(*texts: str) -> str:
    """``kefu.search.tokens.index_text`` line by line with a cache: the generated bodies repeat
    their lines, and a line break ends every chunk, so the terms are the same."""
    ordered: list[str] = []
    extra: dict[str, None] = {}
    for text in texts:
        if text:
            body_ordered, body_extra = _body_terms(text)
            ordered.extend(body_ordered)
            extra.update(dict.fromkeys(body_extra))
    return " ".join([*ordered, *extra])


def _documents(job: tuple[int, int, int]) -> list[tuple]:
    """Search-document rows of tickets start…stop-1 (runs in a pool process)."""
    import kefu.tickets.search
    from kefu.tickets.search import build_document

    kefu.tickets.search.index_text = _index_text  # type: ignore[assignment] - this process only
    start, stop, n = job
    contacts, organisations = data.counts(n)
    rows = []
    for i in range(start, stop):
        shape = data.ticket(i, n)
        name, email, phone, org = data.contact(shape.contact, organisations)
        ticket = SimpleNamespace(
            pk=i + 1, number=shape.number, subject=shape.subject,
            contact=SimpleNamespace(name=name, email=email, phone=phone, wechat_id=None),
            organization=SimpleNamespace(name=data.organisation_name(org)) if org is not None else None,
        )  # fmt: skip
        doc = build_document(ticket, [(m.body, m.internal) for m in shape.messages], [])
        rows.append(
            (i + 1, doc.subject_terms, doc.public_terms, doc.staff_terms, db_datetime(INDEXED_AT))
        )
    from django.db import connection

    if connection.vendor != "postgresql":
        return rows
    # PostgreSQL computes the stored tsvector while copying: do it from this process, so that
    # the server work runs beside the main process's COPY of the other tables.
    from kefu.tickets.models import TicketSearchDocument

    connection.ensure_connection()
    if not getattr(_documents, "replica", False):
        with connection.connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")
        _documents.replica = True  # type: ignore[attr-defined]
    Table(TicketSearchDocument, DOCUMENT_COLUMNS).load(rows)
    return []


def seed(n: int) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.core.management.color import no_style
    from django.db import connection

    from kefu.accounts.models import Access, Group, Membership, Role, User
    from kefu.customers.models import Contact, Organization
    from kefu.search.backends import backend_for
    from kefu.tickets.models import (
        Message,
        Ticket,
        TicketEvent,
        TicketSearchDocument,
        TicketType,
    )
    from kefu.tickets.numbers import continue_ticket_numbers_after
    from kefu.tickets.search import TICKET_INDEX

    started = time.monotonic()
    call_command("migrate", verbosity=0)
    print(f"  migrated in {time.monotonic() - started:.0f} s", file=sys.stderr)
    if Ticket.objects.exists():
        raise SystemExit("the database already holds tickets; seed an empty one")
    groups = [
        Group.objects.create(name=f"Bench group {g}", is_default=g == 0) for g in range(data.GROUPS)
    ]
    User.objects.create_user("admin@bench.example", None, name="Bench Admin", role=Role.ADMIN)
    agents = []
    for k in range(data.GROUPS * data.AGENTS_PER_GROUP):
        agent = User.objects.create_user(
            f"agent{k}@bench.example", None, name=f"Agent {k}", role=Role.AGENT
        )
        Membership.objects.create(
            user=agent, group=groups[k // data.AGENTS_PER_GROUP], access=Access.FULL
        )
        agents.append(agent.pk)
    ticket_type = TicketType.objects.order_by("position", "pk").first()
    assert ticket_type is not None
    contacts, organisations = data.counts(n)
    backend = backend_for()
    fts_sql = backend.drop_sql(TICKET_INDEX) if backend.vendor == "sqlite" else []
    with connection.cursor() as cursor:
        for statement in fts_sql:
            cursor.execute(statement)

    with loading(BIG_TABLES):
        org_ids = [o + 1 for o in range(organisations)]
        Table(Organization, ["id", "name"]).load(
            ((o + 1, data.organisation_name(o)) for o in range(organisations)),
            Progress("organisations", organisations),
        )
        progress = Progress("contacts", contacts)
        Table(Contact, ["id", "name", "email", "phone", "organization_id"]).load(
            (
                (c + 1, name, email, phone, None if org is None else org_ids[org])
                for c in range(contacts)
                for name, email, phone, org in [data.contact(c, organisations)]
            ),
            progress,
        )
        progress.close()
        tickets = Table(
            Ticket,
            [
                "id", "number", "subject", "state", "priority", "type_id", "channel",
                "contact_id", "organization_id", "group_id", "assignee_id", "created_at",
                "updated_at", "last_customer_message_at", "first_response_at", "resolved_at",
                "closed_at",
            ],
        )  # fmt: skip
        messages = Table(
            Message,
            [
                "id", "ticket_id", "is_internal", "author_user_id", "author_contact_id",
                "channel", "body_text", "created_at",
            ],
        )  # fmt: skip
        events = Table(
            TicketEvent,
            [
                "ticket_id", "type", "actor_id", "field", "old_value", "new_value",
                "message_id", "is_internal", "created_at",
            ],
        )  # fmt: skip
        documents = Table(TicketSearchDocument, DOCUMENT_COLUMNS)
        message_id = 0
        progress = Progress("tickets", n)
        jobs = [(s, min(s + CHUNK, n), n) for s in range(0, n, CHUNK)]
        spent = {"wait": 0.0, "rows": 0.0, "copy": 0.0, "docs": 0.0}
        connection.close()  # the pool processes must not share the parent's connection
        with Pool(max(1, min(2, os.cpu_count() or 1))) as pool:
            connection.ensure_connection()
            with connection.cursor() as cursor:
                cursor.execute(
                    "SET session_replication_role = replica"
                    if connection.vendor == "postgresql"
                    else "PRAGMA foreign_keys = OFF"
                )
            results = pool.imap(_documents, jobs)
            for start, stop, _n in jobs:
                mark = time.monotonic()
                docs = next(results)
                spent["wait"] += time.monotonic() - mark
                mark = time.monotonic()
                ticket_rows, message_rows, event_rows = [], [], []
                for i in range(start, stop):
                    shape = data.ticket(i, n)
                    _name, _email, _phone, org = data.contact(shape.contact, organisations)
                    assignee = None if shape.assignee is None else agents[shape.assignee]
                    created = shape.created_at
                    replies = [m for m in shape.messages if not m.from_customer and not m.internal]
                    first_response = created + replies[0].offset if replies else None
                    last_customer = max(
                        created + m.offset for m in shape.messages if m.from_customer
                    )
                    done_at = shape.updated_at + timedelta(hours=1)
                    resolved = done_at if shape.state in ("resolved", "closed") else None
                    closed = done_at if shape.state == "closed" else None
                    ticket_rows.append(
                        (
                            i + 1, shape.number, shape.subject, shape.state, shape.priority,
                            ticket_type.pk, shape.channel, shape.contact + 1,
                            None if org is None else org_ids[org], groups[shape.group].pk,
                            assignee, db_datetime(created),
                            db_datetime(closed or resolved or shape.updated_at),
                            db_datetime(last_customer), db_datetime(first_response),
                            db_datetime(resolved), db_datetime(closed),
                        )
                    )  # fmt: skip
                    actor = assignee or agents[shape.group * data.AGENTS_PER_GROUP]
                    for m, message in enumerate(shape.messages):
                        message_id += 1
                        at = db_datetime(created + message.offset)
                        message_rows.append(
                            (
                                message_id, i + 1, message.internal,
                                None if message.from_customer else actor,
                                shape.contact + 1 if message.from_customer else None,
                                shape.channel if message.from_customer else "web",
                                message.body, at,
                            )
                        )  # fmt: skip
                        if m == 0:
                            kind = "created"
                        elif message.internal:
                            kind = "note_added"
                        else:
                            kind = "customer_replied" if message.from_customer else "replied"
                        event_actor = None if message.from_customer else actor
                        event_rows.append(
                            (i + 1, kind, event_actor, "", "", "", message_id, message.internal, at)
                        )
                    if shape.state != "new":
                        event_rows.append(
                            (
                                i + 1, "changed", actor, "state", "new", shape.state, None, False,
                                db_datetime(closed or resolved or created + timedelta(minutes=30)),
                            )
                        )  # fmt: skip
                spent["rows"] += time.monotonic() - mark
                mark = time.monotonic()
                tickets.load(ticket_rows)
                messages.load(message_rows)
                events.load(event_rows)
                spent["copy"] += time.monotonic() - mark
                mark = time.monotonic()
                if docs:
                    documents.load(docs)
                spent["docs"] += time.monotonic() - mark
                progress.add(stop - start)
        progress.close()
        print("  seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in spent.items()), file=sys.stderr)
    loaded = time.monotonic() - started
    with connection.cursor() as cursor:
        if backend.vendor == "sqlite":
            for statement in backend.create_sql(TICKET_INDEX):
                cursor.execute(statement)
            backend.rebuild(TICKET_INDEX)
        for statement in connection.ops.sequence_reset_sql(
            no_style(), [Organization, Contact, Ticket, Message, TicketEvent]
        ):
            cursor.execute(statement)
    continue_ticket_numbers_after(data.NUMBER_BASE + n)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        if connection.vendor == "postgresql":
            cursor.execute("VACUUM (ANALYZE) tickets_ticket")
    print(
        f"seeded {n:,} tickets on {connection.vendor}: rows {loaded:.0f} s, "
        f"total {time.monotonic() - started:.0f} s",
        file=sys.stderr,
    )


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kefu.settings")
    os.environ.setdefault("KEFU_LOG_LEVEL", "WARNING")
    os.environ["KEFU_DATABASE_POOL"] = "0"
    seed(int(sys.argv[1]))
