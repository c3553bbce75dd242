"""E-mail ingest benchmark: parse + thread + store, messages per second.

    .venv/bin/python bench/email_ingest.py --messages 2000                     # SQLite (temp file)
    .venv/bin/python bench/email_ingest.py --messages 2000 --postgres postgres://postgres@127.0.0.1:5432
    .venv/bin/python bench/email_ingest.py --corpus ../shared/corpus/mail       # + real mail

Generates N raw messages (70 % new mails, 30 % replies whose In-Reply-To/References point at an
earlier generated mail; Chinese and English text, 20 % with an HTML alternative, 5 % with a
50 KB attachment; a pool of N/4 senders) and feeds them one by one through
``kefu.intake.actions.ingest_email`` with a mailbox, exactly as the IMAP fetch job does (each
ingest is its own transaction and also records the acknowledgement to send, whose job is
enqueued but not run). PostgreSQL gets a scratch database (``kefu_ingestbench_<pid>``) that is
dropped afterwards unless ``--keep``. Not part of ``make test``; results go into
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import scratch as scratch_files  # noqa: E402 - bench/scratch.py, beside this script

SUBJECTS = [
    "打印机开机后黑屏",
    "洗衣机漏水，请安排上门维修",
    "发票没有收到",
    "The router drops the connection every few minutes",
    "Warranty claim for serial SN-2024-{n:05d}",
    "空调不制冷 错误代码 E{code}",
]
BODIES = [
    "您好，我们公司的设备出现故障，错误代码 E{code}，请尽快安排工程师上门。订单号 {n}。",
    "Hello, the unit stopped working after the firmware update. Order {n}, code E{code}.",
    "客户反映问题依旧，已经重启过三次。序列号 SN-2024-{n:05d}。",
]


def generate(count: int, seed: int = 7) -> list[bytes]:
    rnd = random.Random(seed)
    senders = [f"customer{i}@example{i % 50}.com" for i in range(max(count // 4, 1))]
    sent: list[tuple[str, str, str]] = []  # (message id, sender, subject) of new mails
    raws = []
    for n in range(count):
        message = EmailMessage()
        values = {"n": n, "code": rnd.randint(1, 99)}
        if sent and rnd.random() < 0.3:
            parent_id, sender, subject = rnd.choice(sent)
            message["Subject"] = f"Re: {subject}"
            message["In-Reply-To"] = parent_id
            message["References"] = parent_id
        else:
            sender = rnd.choice(senders)
            subject = rnd.choice(SUBJECTS).format(**values)
            message["Subject"] = subject
        message_id = f"<bench.{n}.{seed}@example.com>"
        if "In-Reply-To" not in message:
            sent.append((message_id, sender, subject))
        message["From"] = f"客户 {n % 997} <{sender}>"
        message["To"] = "support@bench.example"
        message["Message-ID"] = message_id
        body = "\n\n".join(rnd.choice(BODIES).format(**values) for _ in range(rnd.randint(1, 4)))
        message.set_content(body)
        if rnd.random() < 0.2:
            message.add_alternative(f"<p>{body}</p><p><b>谢谢</b></p>", subtype="html")
        if rnd.random() < 0.05:
            message.add_attachment(
                rnd.randbytes(50_000), maintype="application", subtype="pdf", filename="报告.pdf"
            )
        raws.append(message.as_bytes())
    return raws


def setup_database(args) -> tuple[str | None, str]:
    return scratch_files.create("ingestbench", args.postgres, log_level="ERROR")


def run(raws: list[bytes], mailbox) -> tuple[float, list[float], dict[str, int]]:
    from collections import Counter

    from kefu.intake.actions import ingest_email

    outcomes: Counter = Counter()
    timings = []
    started = time.perf_counter()
    for raw in raws:
        began = time.perf_counter()
        outcomes[ingest_email(raw, mailbox).outcome] += 1
        timings.append((time.perf_counter() - began) * 1000)
    return time.perf_counter() - started, timings, dict(outcomes)


def report(label: str, total: float, timings: list[float], outcomes: dict[str, int]) -> None:
    timings = sorted(timings)
    p95 = timings[min(len(timings) - 1, int(len(timings) * 0.95))]
    print(
        f"| {label} | {len(timings):,} | {total:.1f} | {len(timings) / total:.0f} | "
        f"{statistics.median(timings):.1f} | {p95:.1f} | "
        + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items()))
        + " |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--postgres", help="postgres://user@host:port (a scratch DB is made)")
    parser.add_argument("--corpus", help="a directory of real mail (*.box / *.eml, recursive)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database/file")
    args = parser.parse_args()
    scratch, data_dir = setup_database(args)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from kefu.accounts.models import Group
    from kefu.intake.email.parse import parse_email
    from kefu.intake.models import Mailbox

    try:
        call_command("migrate", verbosity=0)
        group = Group.objects.create(name="客服部", is_default=True)
        mailbox = Mailbox(
            name="Bench", email_address="support@bench.example", imap_host="127.0.0.1",
            imap_user="bench", smtp_host="127.0.0.1", group=group,
        )  # fmt: skip
        mailbox.save()
        raws = generate(args.messages)
        size = sum(len(raw) for raw in raws) / len(raws) / 1024
        print(f"{connection.vendor}: {len(raws):,} generated messages, {size:.1f} KB on average")
        print("| run | messages | seconds | messages/s | p50 ms | p95 ms | outcomes |")
        print("|---|---:|---:|---:|---:|---:|---|")
        began = time.perf_counter()
        parse_timings = []
        for raw in raws:
            one = time.perf_counter()
            parse_email(raw)
            parse_timings.append((time.perf_counter() - one) * 1000)
        report("parse only (generated)", time.perf_counter() - began, parse_timings, {})
        report("ingest (generated)", *run(raws, mailbox))
        report("ingest again (all duplicates)", *run(raws, mailbox))
        if args.corpus:
            files = sorted(p for p in Path(args.corpus).rglob("*") if p.suffix in (".box", ".eml"))
            report("ingest (corpus)", *run([p.read_bytes() for p in files], mailbox))
    finally:
        connection.close()
        if not args.keep:
            scratch_files.drop(scratch, data_dir, args.postgres)


if __name__ == "__main__":
    main()
