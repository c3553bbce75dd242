"""``kefu tick``: run time-driven work alone (``kefu run`` already runs it in its process)."""

from __future__ import annotations

import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from kefu.lib.loops import run_tick_loop, tick_pass


class Command(BaseCommand):
    help = "Run time-driven work every KEFU_TICK_INTERVAL_SECONDS (alone)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--once",
            action="store_true",
            help="Run one pass of every tick function, print what each did, exit.",
        )

    def handle(self, *args, once: bool, **options):
        if once:
            for name, count in tick_pass().items():
                status = _("failed, see the log") if count < 0 else str(count)
                self.stdout.write(f"{name}: {status}")
            return
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        self.stdout.write(
            _("Tick loop started, every %(seconds)s s (Ctrl-C stops it).")
            % {"seconds": settings.TICK_INTERVAL_SECONDS}
        )
        run_tick_loop(stop, settings.TICK_INTERVAL_SECONDS)
