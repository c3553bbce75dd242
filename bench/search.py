"""Search benchmark: seed N tickets into a scratch database, then time searches.

    .venv/bin/python bench/search.py --tickets 100000                       # SQLite (temp file)
    .venv/bin/python bench/search.py --tickets 100000 --postgres postgres://postgres@127.0.0.1:5432

PostgreSQL gets a scratch database (``kefu_bench_<pid>``) that is dropped afterwards unless
``--keep``. Tickets, messages and contacts are bulk-inserted; the full-text index is built after
loading (SQLite: FTS5 'rebuild'; PostgreSQL: GIN index created after the rows). Then it measures
p50/p95 of a first results page (ranked ids, tickets, snippets — what the console does) for a rare
term, a common term, a Chinese term and a customer's e-mail address, as an admin (no candidate
list) and as an agent of one of four groups, and the resident memory of a fresh process that has
loaded the whole web application and run a search.
Not part of ``make test``; results go into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import scratch as scratch_files  # noqa: E402 - bench/scratch.py, beside this script

PRODUCTS = [
    "打印机",
    "显示器",
    "洗衣机",
    "空调",
    "冰箱",
    "路由器",
    "扫描仪",
    "笔记本电脑",
    "投影仪",
    "净水器",
]
PROBLEMS = [
    "开机后黑屏",
    "无法联网",
    "报错",
    "噪音很大",
    "漏水",
    "不制冷",
    "卡纸",
    "屏幕闪烁",
    "自动关机",
    "充不上电",
]
TRADITIONAL = ["顯示器無法開機", "螢幕一直閃爍", "網路連線中斷", "請盡快處理"]
ENGLISH = [
    "The printer stopped printing after the firmware update",
    "Screen stays black after power on",
    "Router drops the connection every few minutes",
    "Please send a technician, the unit is leaking water",
    "Invoice for order {n} is missing",
    "Warranty claim for serial number SN-{year}-{n:05d}",
]
CHINESE = [
    "您好，我们公司的{product}{problem}，错误代码 E{code}，请尽快安排工程师上门。",
    "{product}使用不到一个月就{problem}了，能否更换？订单号 {n}。",
    "客户反映{product}{problem}，已经重启过三次，问题依旧。",
    "请问{product}的保修期是多久？序列号 SN-{year}-{n:05d}。",
]
NOTES = [
    "已联系客户，等待回复",
    "转技术支持部处理",
    "internal: customer is a VIP, escalate",
    "备件已寄出",
]
RARE_EVERY = 20_000  # one ticket in this many holds the rare term


def ticket_texts(i: int) -> tuple[str, list[tuple[str, bool]]]:
    rnd = random.Random(i)
    product, problem = rnd.choice(PRODUCTS), rnd.choice(PROBLEMS)
    values = {
        "product": product, "problem": problem, "code": rnd.randint(1, 99), "n": i,
        "year": rnd.randint(2019, 2025),
    }  # fmt: skip
    if rnd.random() < 0.3:
        subject = rnd.choice(ENGLISH).format(**values)
    elif rnd.random() < 0.1:
        subject = rnd.choice(TRADITIONAL)
    else:
        subject = f"{product}{problem}"
    messages = [(rnd.choice(CHINESE).format(**values), False)]
    if rnd.random() < 0.5:
        messages.append(
            (
                rnd.choice(ENGLISH).format(**values) + ". " + rnd.choice(CHINESE).format(**values),
                False,
            )
        )
    if rnd.random() < 0.3:
        messages.append((rnd.choice(NOTES), True))
    if i % RARE_EVERY == 0:
        messages.append(("The display shows zebrafault on startup", False))
    return subject, messages


def document_row(args: tuple[int, str, str, str]) -> tuple[int, str, str, str]:
    from kefu.search.tokens import index_text

    i, contact_name, contact_email, organization = args
    subject, messages = ticket_texts(i)
    public = [body for body, internal in messages if not internal]
    internal = [body for body, internal in messages if internal]
    return (
        i,
        index_text(str(10_000_000 + i), subject),
        index_text(*public, contact_name, contact_email, organization),
        index_text(*internal),
    )


def setup_database(args) -> tuple[str | None, str]:
    return scratch_files.create("bench", args.postgres, log_level="WARNING")


def seed(count: int) -> dict:
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from kefu.accounts.models import Access, Group, Membership, Role, User
    from kefu.customers.models import Contact, Organization
    from kefu.search.backends import backend_for
    from kefu.tickets.models import Message, Ticket, TicketSearchDocument, TicketType
    from kefu.tickets.search import TICKET_INDEX

    call_command("migrate", verbosity=0)
    started = time.monotonic()
    groups = [Group.objects.create(name=f"部门 {g}") for g in range(4)]
    admin = User.objects.create_user("admin@bench.example", "x" * 12, name="Admin", role=Role.ADMIN)
    agent = User.objects.create_user("agent@bench.example", "x" * 12, name="Agent", role=Role.AGENT)
    Membership.objects.create(user=agent, group=groups[0], access=Access.FULL)
    organizations = Organization.objects.bulk_create(
        [Organization(name=f"华东电器{o}有限公司") for o in range(max(count // 100, 1))]
    )
    surnames = "王李张刘陈杨赵黄周吴"
    contacts = Contact.objects.bulk_create(
        [
            Contact(
                name=f"{surnames[c % 10]}{c}",
                email=f"customer{c}@example{c % 97}.com",
                phone=f"+86138{c:08d}",
                organization=organizations[c % len(organizations)] if c % 3 else None,
            )
            for c in range(max(count // 5, 1))
        ],
        batch_size=5000,
    )
    ticket_type = TicketType.objects.first()
    backend = backend_for()
    index_sql = (
        backend.drop_sql(TICKET_INDEX)
        if backend.vendor == "sqlite"
        else [f"DROP INDEX {TICKET_INDEX.gin_index}"]
    )
    with connection.cursor() as cursor:  # build the index after loading
        for statement in index_sql:
            cursor.execute(statement)
    batch = 5000
    now = timezone.now()
    with multiprocessing.Pool() as pool:
        for start in range(0, count, batch):
            ids = range(start, min(start + batch, count))
            tickets, messages, doc_args = [], [], []
            for i in ids:
                contact = contacts[(i * 7919) % len(contacts)]
                organization = contact.organization
                subject, bodies = ticket_texts(i)
                tickets.append(
                    Ticket(
                        number=10_000_000 + i, subject=subject[:255], type=ticket_type,
                        contact=contact, organization=organization, group=groups[i % 4],
                        state=("new", "open", "resolved", "closed")[i % 4],
                    )
                )  # fmt: skip
                doc_args.append(
                    (i, contact.name, contact.email, organization.name if organization else "")
                )
                messages.append(bodies)
            with transaction.atomic():
                created = Ticket.objects.bulk_create(tickets)
                Message.objects.bulk_create(
                    [
                        Message(ticket=t, body_text=body, is_internal=internal, author_contact=None)
                        for t, bodies in zip(created, messages, strict=True)
                        for body, internal in bodies
                    ]
                )
                rows = pool.map(document_row, doc_args, chunksize=250)
                TicketSearchDocument.objects.bulk_create(
                    [
                        TicketSearchDocument(
                            ticket=t, subject_terms=s, public_terms=p, staff_terms=n, indexed_at=now
                        )
                        for t, (_i, s, p, n) in zip(created, rows, strict=True)
                    ]
                )
            print(f"\r  seeded {min(start + batch, count):,}/{count:,}", end="", file=sys.stderr)
    print(file=sys.stderr)
    loaded = time.monotonic() - started
    with connection.cursor() as cursor:
        if backend.vendor == "sqlite":
            for statement in backend.create_sql(TICKET_INDEX):
                cursor.execute(statement)
            backend.rebuild(TICKET_INDEX)
            cursor.execute("ANALYZE")
        else:
            cursor.execute(
                f"CREATE INDEX {TICKET_INDEX.gin_index} ON {TICKET_INDEX.table} "
                f"USING gin ({TICKET_INDEX.vector_column})"
            )
            cursor.execute("ANALYZE")
    indexed = time.monotonic() - started - loaded
    sample = contacts[(4 * 7919) % len(contacts)]  # ticket 4 is in the agent's group
    return {
        "admin": admin, "agent": agent, "email": sample.email,
        "load_seconds": loaded, "index_seconds": indexed,
    }  # fmt: skip


def measure(setup: dict, runs: int) -> list[tuple[str, str, float, float, int]]:
    from kefu.search.query import parse
    from kefu.tickets.models import Ticket
    from kefu.tickets.search import apply_query, ranked_page

    queries = {
        "rare term": "zebrafault",
        "common term": "printer",
        "Chinese term": "显示器",
        "Chinese phrase": "开机后黑屏",
        "customer e-mail": setup["email"],
    }
    results = []
    for role in ("admin", "agent"):
        user = setup[role]
        for label, query in queries.items():
            timings, found = [], 0
            for _ in range(runs):
                started = time.perf_counter()
                parsed = parse(query)
                tickets = apply_query(
                    user,
                    Ticket.objects.visible_to(user).select_related("contact", "group"),
                    parsed,
                )
                page = ranked_page(user, tickets, parsed, limit=25)
                found = len(page.hits)
                timings.append((time.perf_counter() - started) * 1000)
            timings.sort()
            p95 = timings[min(len(timings) - 1, int(len(timings) * 0.95))]
            results.append((role, f"{label} `{query}`", statistics.median(timings), p95, found))
    return results


RSS_PROBE = """
import os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kefu.settings")
import django; django.setup()
from django.urls import resolve
import kefu.asgi  # the whole web application: URLconf, views, API
resolve("/tickets/")
from kefu.accounts.models import User
from kefu.search.query import parse
from kefu.tickets.models import Ticket
from kefu.tickets.search import apply_query, ranked_page
user = User.objects.get(email="agent@bench.example")
parsed = parse("显示器 printer")
ranked_page(user, apply_query(user, Ticket.objects.visible_to(user), parsed), parsed, limit=25)
heavy = [m for m in ("jieba", "sklearn", "numpy", "pkuseg", "thulac") if m in sys.modules]
rss = [l for l in open("/proc/self/status") if l.startswith("VmRSS")][0].split()[1]
print(int(rss) // 1024, ",".join(heavy) or "none")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--postgres", help="postgres://user@host:port (a scratch DB is made)")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database/file")
    args = parser.parse_args()
    scratch, data_dir = setup_database(args)
    import django

    django.setup()
    from django.db import connection

    try:
        print(f"Seeding {args.tickets:,} tickets on {connection.vendor}", file=sys.stderr)
        setup = seed(args.tickets)
        results = measure(setup, args.runs)
        probe = subprocess.run(  # noqa: S603 - our own interpreter
            [sys.executable, "-c", RSS_PROBE], capture_output=True, text=True, env=os.environ,
            cwd=ROOT, check=True,
        )  # fmt: skip
        rss_mb, heavy = probe.stdout.split()
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    "SELECT pg_size_pretty(pg_total_relation_size('tickets_ticketsearchdocument'))"
                )
                size = cursor.fetchone()[0]
            else:
                size = f"{os.path.getsize(Path(data_dir) / 'kefu.sqlite3') / 2**20:.0f} MB (whole file)"
        print(f"\n{args.tickets:,} tickets on {connection.vendor}: loaded in "
              f"{setup['load_seconds']:.0f} s, index built in {setup['index_seconds']:.0f} s; "
              f"search tables {size}")  # fmt: skip
        print("| user | query | p50 ms | p95 ms | hits on page 1 |")
        print("|---|---|---:|---:|---:|")
        for role, label, p50, p95, found in results:
            print(f"| {role} | {label} | {p50:.1f} | {p95:.1f} | {found} |")
        print(f"\nWeb process RSS after loading the app and searching: {rss_mb} MB; "
              f"segmenter/ML modules loaded: {heavy}")  # fmt: skip
    finally:
        connection.close()
        if not args.keep:
            scratch_files.drop(scratch, data_dir, args.postgres)


if __name__ == "__main__":
    main()
