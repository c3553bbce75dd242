"""``kefu backup create PATH``: the database, uploads and keys in one verified archive."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from kefu.lib.backup import BackupError, create_backup


class Command(BaseCommand):
    help = "Write a backup (database, uploaded files, keys) to PATH (.tar.gz)."

    def add_arguments(self, parser):
        parser.add_argument("path", help="The archive to write, e.g. kefu-2026-12-02.tar.gz")

    def handle(self, *args, path, **options):
        try:
            manifest = create_backup(Path(path))
        except BackupError as error:
            raise CommandError(str(error)) from None
        files = manifest["files"]
        uploads = sum(1 for name in files if name.startswith("uploads/"))
        keys = [name.split("/", 1)[1] for name in files if name.startswith("keys/")]
        self.stdout.write(
            f"Backup written to {Path(path).resolve()}: {manifest['engine']} database, "
            f"{uploads} uploaded files, keys: {', '.join(keys) or 'none'}."
        )
        if manifest["keys_in_environment"]:
            self.stdout.write(
                "Note: "
                + " and ".join(manifest["keys_in_environment"])
                + " come from the environment and are not in the backup; keep them safe too."
            )
        self.stdout.write("The archive holds customer data and keys: store it encrypted.")
