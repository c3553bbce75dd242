"""``kefu worker``: run background jobs alone (``kefu run`` already runs them in its process)."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from kefu.lib.jobs import run_pending_jobs
from kefu.lib.loops import make_worker, run_worker

ONCE_MAX_JOBS = 10_000


class Command(BaseCommand):
    help = "Run background jobs (alone, for split deployments)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--once", action="store_true", help="Run the jobs that are ready now, then exit."
        )

    def handle(self, *args, once: bool, **options):
        if once:
            ran = run_pending_jobs(max_jobs=ONCE_MAX_JOBS)
            self.stdout.write(_("Ran %(count)s jobs.") % {"count": ran})
            return
        worker = make_worker()
        # Ctrl-C / SIGTERM: finish the running job, then stop.
        worker.configure_signals()
        self.stdout.write(_("Job worker started (Ctrl-C stops it)."))
        run_worker(worker)
