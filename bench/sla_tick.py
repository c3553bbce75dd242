"""SLA tick benchmark: the claim query on N open tickets (default 1,000,000) in PostgreSQL.

    .venv/bin/python bench/sla_tick.py --postgres postgres://postgres@127.0.0.1:5432 [--tickets N]

Creates a scratch database ``kefu_bench_sla_<pid>`` (dropped afterwards unless ``--keep``),
migrates it, copies one template ticket and its ``TicketSLA`` row N times in SQL (a third with
nothing to check, 100 due now, the rest due on later days), runs ANALYZE, then prints the plan of
the tick's claim query and its p50/p95 time, and the time of a full ``process_due_slas`` pass.
The plan must read the partial index ``ticketsla_check_due``: the cost follows the due rows, not
the open tickets. Not part of ``make test``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", required=True, help="postgres://user@host:port (no db)")
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=100, help="rows due now")
    parser.add_argument("--json", action="store_true", help="one JSON line of results at the end")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    import psycopg

    name = f"kefu_bench_sla_{os.getpid()}"
    server = args.postgres.rstrip("/")
    with psycopg.connect(server + "/postgres", autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    os.environ["KEFU_DATABASE_URL"] = f"{server}/{name}"
    os.environ.setdefault("KEFU_DATA_DIR", f"/tmp/kefu-bench-sla-{os.getpid()}")
    try:
        subprocess.run(  # noqa: S603 - our own manage.py
            [sys.executable, str(ROOT / "manage.py"), "migrate", "-v", "0"], check=True
        )
        run(args.tickets, args.due, args.json)
    finally:
        if not args.keep:
            with psycopg.connect(server + "/postgres", autocommit=True) as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(count: int, due_now: int = 100, as_json: bool = False) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kefu.settings")
    import django

    django.setup()
    from django.db import connection
    from django.utils import timezone

    from kefu.sla.actions import process_due_slas
    from kefu.sla.actions.clock import due_rows
    from kefu.test import make_cast
    from kefu.tickets.actions import NewTicket, create_ticket

    def _columns(table: str, *, skip: set[str]) -> str:
        with connection.cursor() as cursor:
            description = connection.introspection.get_table_description(cursor, table)
        return ", ".join(column.name for column in description if column.name not in skip)

    cast = make_cast()
    template = create_ticket(
        cast.admin, NewTicket(subject="load", body="x", contact=cast.alice.contact)
    )
    ticket_columns = _columns("tickets_ticket", skip={"id", "number"})
    sla_columns = _columns("sla_ticketsla", skip={"id", "ticket_id", "check_due_at", "next_due_at"})
    now = timezone.now()
    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO tickets_ticket (number, {ticket_columns}) "  # noqa: S608
            f"SELECT 2000000 + n, {ticket_columns} FROM tickets_ticket, "
            "generate_series(1, %s) AS n WHERE id = %s",
            [count, template.pk],
        )
        cursor.execute(
            f"INSERT INTO sla_ticketsla (ticket_id, check_due_at, next_due_at, {sla_columns}) "  # noqa: S608
            "SELECT t.id, CASE WHEN t.number <= 2000000 + %s THEN %s - interval '1 minute' "
            "WHEN t.number %% 3 = 0 THEN NULL "
            "ELSE %s + (1 + t.number %% 30) * interval '1 day' END, "
            f"%s + interval '1 day', {', '.join('s.' + c for c in sla_columns.split(', '))} "
            "FROM tickets_ticket t, sla_ticketsla s WHERE t.number > 2000000 AND s.ticket_id = %s",
            [due_now, now, now, now, template.pk],
        )
        cursor.execute("ANALYZE sla_ticketsla")
    loaded = time.monotonic() - started
    print(f"loaded {count} tickets in {loaded:.1f} s")
    print(due_rows(now).explain(analyze=True))
    timings = []
    for _ in range(50):
        begin = time.perf_counter()
        list(due_rows(now))
        timings.append((time.perf_counter() - begin) * 1000)
    quantiles = statistics.quantiles(timings, n=20)
    print(f"claim query: p50 {statistics.median(timings):.2f} ms, p95 {quantiles[18]:.2f} ms")
    begin = time.perf_counter()
    # Each due row is claimed and acted on (warnings, breaches, escalation) in its transaction.
    handled = 0
    while batch := process_due_slas(now):  # a tick claims TICK_BATCH rows per round
        handled += batch
    seconds = time.perf_counter() - begin
    print(f"process_due_slas handled {handled} rows in {seconds:.2f} s")
    if as_json:
        import json

        print(
            json.dumps(
                {
                    "tickets": count, "due": due_now, "handled": handled, "tick_seconds": seconds,
                    "claim_p50_ms": statistics.median(timings), "claim_p95_ms": quantiles[18],
                }
            )
        )  # fmt: skip


if __name__ == "__main__":
    main()
