"""The raw ceiling: Kefu's ticket-creation transaction as plain SQL, no Python web stack.

    <kefu env> .venv/bin/python bench/ceiling.py pg     --clients 1,4,8 --seconds 10 --runs 3
    <kefu env> .venv/bin/python bench/ceiling.py sqlite --clients 1,4,8 --seconds 10 --runs 3

One transaction = take the next ticket number (PostgreSQL: the sequence; SQLite: the counter
row), insert the ticket, its first
message, the ``created`` event, the search document (Kefu writes it in the same transaction), the
SLA row and a queued job row — into the real tables of the benchmark database the environment
points at (``KEFU_DATABASE_URL`` or the SQLite file in ``KEFU_DATA_DIR``). Every column is
listed: the values Kefu would write, model defaults for the rest (bench/loader.py), so new
columns do not break it. PostgreSQL: ``pgbench -n -M prepared -c C -j min(C, 2) -T S``; SQLite:
C processes looping ``BEGIN IMMEDIATE … COMMIT`` in WAL mode with ``synchronous=NORMAL`` (Kefu's
settings). Prints JSON: transactions/s per client count, median of the runs.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kefu.settings")
os.environ["KEFU_DATABASE_POOL"] = "0"

SUBJECT = "打印机开机后黑屏 E42"
BODY = ("您好，我们公司的打印机开机后黑屏，错误代码 E42，请尽快安排工程师上门。" * 6)[:500]


class Raw(str):
    """An SQL expression or a pgbench/sqlite3 variable, written as is."""


def _literal(value, vendor: str) -> str:
    if isinstance(value, Raw):
        return str(value)
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return ("true" if value else "false") if vendor == "postgresql" else str(int(value))
    if isinstance(value, int | float):
        return str(value)
    if hasattr(value, "obj"):  # psycopg Jsonb
        value = json.dumps(value.obj)
    elif isinstance(value, dict | list):
        value = json.dumps(value)
    if hasattr(value, "isoformat"):
        return "now()" if vendor == "postgresql" else ":now"
    return "'" + str(value).replace("'", "''") + "'"


def statements(vendor: str) -> list[str]:
    import django

    django.setup()
    from django_tasks_db.models import DBTaskResult
    from loader import Table

    from kefu.accounts.models import Group
    from kefu.customers.models import Contact
    from kefu.sla.models import TicketSLA
    from kefu.tickets.models import Message, Ticket, TicketEvent, TicketSearchDocument, TicketType
    from kefu.tickets.search import build_document

    now = Raw(":now" if vendor == "sqlite" else "now()")
    contact = Contact.objects.order_by("pk").first()
    assert contact is not None
    group = Group.objects.filter(is_default=True).first() or Group.objects.order_by("pk").first()
    ticket_type = TicketType.objects.order_by("position", "pk").first()

    def insert(model, values: dict, returning: str | None = None) -> str:
        table = Table(model, list(values))
        literal = [
            v if isinstance(v, Raw) or (isinstance(v, str) and v.startswith(":")) else
            _literal(v, vendor)
            for v in values.values()
        ]  # fmt: skip
        defaults = [
            _literal(f() if dynamic else f, vendor)
            for f, dynamic in zip(table.fillers, table.callable, strict=True)
        ]
        sql = (
            f'INSERT INTO "{table.name}" ({", ".join(table.columns)}) '
            f"VALUES ({', '.join(literal + defaults)})"
        )
        return sql + (f" RETURNING {returning}" if returning else "")

    from types import SimpleNamespace

    doc = build_document(
        SimpleNamespace(
            pk=None, number=0, subject=SUBJECT, contact=contact, organization=contact.organization
        ),
        [(BODY, False)],
        [],
    )
    ticket = insert(
        Ticket,
        {
            "number": ":num", "subject": SUBJECT, "state": "new", "priority": "medium",
            "type_id": ticket_type.pk, "channel": "api", "contact_id": contact.pk,
            "organization_id": contact.organization_id, "group_id": group.pk,
            "created_at": now, "updated_at": now, "last_customer_message_at": now,
        },
        "id AS tid",
    )  # fmt: skip
    message = insert(
        Message,
        {
            "ticket_id": ":tid", "author_contact_id": contact.pk, "channel": "api",
            "body_text": BODY, "body_html": f"<p>{BODY}</p>", "created_at": now,
        },
        "id AS mid",
    )  # fmt: skip
    event = insert(
        TicketEvent,
        {"ticket_id": ":tid", "type": "created", "message_id": ":mid", "created_at": now},
    )
    document = insert(
        TicketSearchDocument,
        {
            "ticket_id": ":tid", "subject_terms": doc.subject_terms,
            "public_terms": doc.public_terms, "staff_terms": "", "indexed_at": now,
        },
    )  # fmt: skip
    due = Raw("now() + interval '4 hours'" if vendor == "postgresql" else ":due")
    sla = insert(
        TicketSLA,
        {
            "ticket_id": ":tid", "first_response_due_at": due, "resolution_due_at": due,
            "next_due_at": due, "check_due_at": due, "updated_at": now,
        },
    )  # fmt: skip
    job_id = Raw("gen_random_uuid()" if vendor == "postgresql" else ":uuid")
    job = insert(
        DBTaskResult,
        {
            "id": job_id, "status": "READY", "args_kwargs": {"args": [0], "kwargs": {}},
            "task_path": "kefu.notifications.tasks.send_notification_email",
            "queue_name": "default", "backend_name": "default", "run_after": now,
            "enqueued_at": now,
        },
    )  # fmt: skip
    # The ticket number as Kefu takes it (kefu.tickets.numbers.take_ticket_numbers).
    counter = (
        "SELECT nextval('kefu_ticket_number_seq') AS num"
        if vendor == "postgresql"
        else "UPDATE tickets_ticketnumbercounter SET value = value + 1 WHERE name = 'ticket' "
        "RETURNING value AS num"
    )
    return [counter, ticket, message, event, document, sla, job]


def pgbench(url: str, clients: int, seconds: int) -> float:
    script = ["BEGIN;"]
    for sql in statements("postgresql"):
        gset = " \\gset" if " RETURNING " in sql or sql.startswith("SELECT ") else ";"
        script.append(sql + gset)
    script.append("END;")
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as handle:
        handle.write("\n".join(script) + "\n")
    output = subprocess.run(  # noqa: S603, S607
        [
            "pgbench", "-n", "-M", "prepared", "-c", str(clients), "-j", str(min(clients, 2)),
            "-T", str(seconds), "-f", handle.name, url,
        ],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    os.unlink(handle.name)
    match = re.search(r"tps = ([\d.]+) \(without initial connection time\)", output)
    if not match:
        raise SystemExit(output)
    return float(match.group(1))


def _sqlite_client(path: str, seconds: float, sqls: list[str], result) -> None:
    import sqlite3
    from datetime import UTC, datetime, timedelta

    conn = sqlite3.connect(path, timeout=20, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    done = 0
    stop = time.monotonic() + seconds
    while time.monotonic() < stop:
        now = datetime.now(UTC).replace(tzinfo=None)
        params = {
            "now": now.isoformat(sep=" "), "due": (now + timedelta(hours=4)).isoformat(sep=" "),
            "uuid": uuid.uuid4().hex,
        }  # fmt: skip
        conn.execute("BEGIN IMMEDIATE")
        params["num"] = conn.execute(sqls[0]).fetchone()[0]
        params["tid"] = conn.execute(sqls[1], params).fetchone()[0]
        params["mid"] = conn.execute(sqls[2], params).fetchone()[0]
        for sql in sqls[3:]:
            conn.execute(sql, {k: v for k, v in params.items() if f":{k}" in sql})
        conn.execute("COMMIT")
        done += 1
    result.put(done)


def sqlite_rate(path: str, clients: int, seconds: int, sqls: list[str]) -> float:
    sqls = [re.sub(r" RETURNING (\w+) AS \w+", r" RETURNING \1", s) for s in sqls]
    result: multiprocessing.Queue = multiprocessing.Queue()
    processes = [
        multiprocessing.Process(target=_sqlite_client, args=(path, seconds, sqls, result))
        for _ in range(clients)
    ]
    for process in processes:
        process.start()
    total = sum(result.get() for _ in processes)
    for process in processes:
        process.join()
    return total / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("vendor", choices=["pg", "sqlite"])
    parser.add_argument("--clients", default="1,4,8")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    clients = [int(c) for c in args.clients.split(",")]
    results = {}
    if args.vendor == "pg":
        url = os.environ["KEFU_DATABASE_URL"]
        for c in clients:
            results[c] = statistics.median(pgbench(url, c, args.seconds) for _ in range(args.runs))
    else:
        sqls = statements("sqlite")
        from django.db import connection

        connection.close()
        path = str(Path(os.environ["KEFU_DATA_DIR"]) / "kefu.sqlite3")
        for c in clients:
            results[c] = statistics.median(
                sqlite_rate(path, c, args.seconds, sqls) for _ in range(args.runs)
            )
    print(json.dumps(results))


if __name__ == "__main__":
    main()
