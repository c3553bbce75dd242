"""Triage training benchmark: N generated resolved tickets (default 100,000), then one training.

    .venv/bin/python bench/triage_train.py [--tickets 100000] [--postgres postgres://postgres@127.0.0.1:5432]

Seeds a scratch database (SQLite in a temporary data directory, or a scratch PostgreSQL database)
with tickets from the demo's template generator (``kefu.triage.demo.generate``, Chinese and
English, six categories over three groups), written in bulk batches of 5,000 without search
documents. Then it trains twice in fresh child processes (``kefu triage train`` with the default
memory budget, then streaming with a zero budget) and prints the wall time, each child's peak
resident memory and the per-field hold-out accuracy. The template texts
are short (about 60–150 characters); hashing time grows with text length (capped at 3,000
characters per ticket). Not part of ``make test``; results go into docs/triage.md.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import scratch as scratch_files  # noqa: E402 - bench/scratch.py, beside this script

BATCH = 5000
# The child process that trains: ``kefu triage train`` with an optional memory budget.
TRAIN = """
import sys, django
django.setup()
from kefu.triage import engine
if sys.argv[1]:
    engine.CACHE_NNZ = int(sys.argv[1])
from django.core.management import call_command
call_command("triage_train")
import resource
print(f"peak RSS of this training process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
"""


def seed(count: int) -> None:
    import django

    django.setup()
    from django.db import transaction

    from kefu.accounts.models import Group, Role, User
    from kefu.customers.models import Contact
    from kefu.triage.demo import DEMO_COUNTS, create_history, generate

    groups = {
        key: Group.objects.get_or_create(name=name, defaults={"is_default": key == "cs"})[0]
        for key, name in (("cs", "客服部"), ("aftersales", "售后服务部"), ("tech", "技术支持部"))
    }
    agent = User.objects.create_user(
        "bench-agent@kefu.example", "x" * 12, name="Bench", role=Role.AGENT
    )
    zh = Contact.objects.create(name="张伟", email="zw@bench.example", language="zh-hans")
    en = Contact.objects.create(name="Emma", email="emma@bench.example", language="en")
    scale = sum(DEMO_COUNTS.values())
    started = time.monotonic()
    done = 0
    while done < count:
        size = min(BATCH, count - done)
        counts = {key: max(1, round(n * size / scale)) for key, n in DEMO_COUNTS.items()}
        examples = generate(counts, seed=done)[:size]
        with transaction.atomic():
            create_history(
                examples,
                groups=groups,
                agents={key: agent for key in groups},
                contacts={"zh": [zh], "en": [en]},
                seed=done,
                index=False,
            )
        done += len(examples)
        print(f"\rseeded {done:,} tickets", end="", file=sys.stderr, flush=True)
    print(f"\nseeded {done:,} tickets in {time.monotonic() - started:.0f} s", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--postgres", help="postgres://user@host:port (no database name)")
    args = parser.parse_args()
    name, data_dir = scratch_files.create("triage", args.postgres)
    try:
        subprocess.run(  # noqa: S603 - our own manage.py
            [sys.executable, str(ROOT / "manage.py"), "migrate", "--run-syncdb", "-v", "0"],
            check=True,
        )
        seed(args.tickets)
        # Once with the default memory budget, once streaming (budget 0: every epoch reads the
        # tickets from the database again and trains with partial_fit).
        for budget in (None, 0):
            started = time.monotonic()
            subprocess.run(  # noqa: S603 - our own interpreter and snippet
                [sys.executable, "-c", TRAIN, "" if budget is None else str(budget)],
                check=True,
                cwd=ROOT,
            )
            seconds = time.monotonic() - started
            mode = "default budget" if budget is None else "streaming"
            print(f"training ({mode}): {seconds:.1f} s wall")
    finally:
        scratch_files.drop(name, data_dir, args.postgres)


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kefu.settings")
    main()
