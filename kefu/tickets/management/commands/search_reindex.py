"""``kefu search reindex``: rebuild every ticket's search document, resumably."""

from __future__ import annotations

import sys
import time

from django.core.management.base import BaseCommand, CommandParser

from kefu.tickets.search import reindex_next_batch, reindex_progress
from kefu.tickets.tasks import reindex_tickets


class Command(BaseCommand):
    help = (
        "Rebuild the search index of all tickets. An interrupted run resumes where it stopped; "
        "--restart starts from the first ticket."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=500, help="Tickets per transaction.")
        parser.add_argument("--restart", action="store_true", help="Ignore the checkpoint.")
        parser.add_argument(
            "--in-worker",
            action="store_true",
            help="Queue the work for the job worker instead of doing it here.",
        )

    def handle(self, *args, batch_size: int, restart: bool, in_worker: bool, **options) -> None:
        if batch_size < 1:
            self.stderr.write("--batch-size must be at least 1")
            sys.exit(2)
        if in_worker:
            if restart:
                reindex_next_batch(0, restart=True)
            reindex_tickets.enqueue(batch_size)
            self.stdout.write("Reindexing queued for the job worker.")
            return
        started = time.monotonic()
        count = reindex_next_batch(batch_size, restart=restart)
        done, total = reindex_progress()
        while count:
            self._progress(done, total, started)
            count = reindex_next_batch(batch_size)
            done += count
        self._progress(total if total else 0, total, started)
        self.stderr.write("")
        self.stdout.write(f"Indexed {total} tickets.")

    def _progress(self, done: int, total: int, started: float) -> None:
        width = 30
        share = done / total if total else 1.0
        bar = "#" * int(share * width)
        rate = done / max(time.monotonic() - started, 1e-6)
        self.stderr.write(
            f"\r[{bar:<{width}}] {done:,}/{total:,} tickets, {rate:,.0f}/s", ending=""
        )
        self.stderr.flush()
