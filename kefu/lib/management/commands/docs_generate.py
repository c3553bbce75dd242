"""``kefu docs generate``: rewrite the documentation sections generated from the registries."""

from django.core.management.base import BaseCommand, CommandError

from kefu.lib.docs import GENERATE_COMMAND, stale_docs, write_docs


class Command(BaseCommand):
    help = (
        "Rewrite the generated sections of the docs (jobs, tick functions, domain event "
        "handlers) from the registries; --check only reports whether they are current."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--check",
            action="store_true",
            help="Change nothing; fail when a generated section is out of date.",
        )

    def handle(self, *args, check: bool = False, **options) -> None:
        if check:
            stale = stale_docs()
            if stale:
                raise CommandError(f"out of date: {', '.join(stale)}; run `{GENERATE_COMMAND}`")
            self.stdout.write("The generated docs are current.")
            return
        changed = write_docs()
        self.stdout.write(f"Rewrote {', '.join(changed)}." if changed else "Nothing to change.")
