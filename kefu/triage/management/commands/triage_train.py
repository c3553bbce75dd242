"""``kefu triage train``: train the triage model on the resolved tickets (here, or in the worker)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kefu.triage.actions import request_training, train_now
from kefu.triage.models import FIELD_LABELS, VersionStatus
from kefu.triage.status import why_not_trained


class Command(BaseCommand):
    help = (
        "Train the learned-triage model on the resolved and closed tickets and make it the "
        "active one; prints the hold-out accuracy of each field."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--in-worker",
            action="store_true",
            help="Queue the training for the job worker instead of running it here.",
        )

    def handle(self, *args, in_worker: bool, **options) -> None:
        if in_worker:
            version = request_training(None)
            self.stdout.write(f"Training of model v{version.version} queued for the job worker.")
            return
        version = train_now(None, progress=lambda line: self.stderr.write(line))
        if version.status != VersionStatus.READY:
            raise CommandError(f"Training model v{version.version} failed: {version.error}")
        self.stdout.write(
            f"Model v{version.version}: {version.ticket_count} tickets, "
            f"{version.duration_seconds} s, stored in {version.file_path or '(nothing to store)'}"
        )
        for name, info in version.metrics.items():
            label = str(FIELD_LABELS[name])
            if not info.get("trained"):
                self.stdout.write(f"  {label}: not trained — {why_not_trained(info)}")
                continue
            accuracy = info.get("accuracy")
            shown = "n/a" if accuracy is None else f"{accuracy:.3f}"
            self.stdout.write(
                f"  {label}: hold-out accuracy {shown} on {info.get('test_size', 0)} tickets "
                f"(most common value: {info.get('baseline_accuracy')}), "
                f"{len(info.get('labels', []))} values"
            )
