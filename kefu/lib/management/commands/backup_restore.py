"""``kefu backup restore PATH``: restore a backup into this (fresh) installation."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from kefu.lib.backup import BackupError, current_install, restore_backup, sqlite_install


class Command(BaseCommand):
    help = "Restore a backup made with `kefu backup create` (stop Kefu first)."

    def add_arguments(self, parser):
        parser.add_argument("path", help="The archive to restore.")
        parser.add_argument(
            "--force",
            action="store_true",
            help="Replace existing data (moved aside to pre-restore-<time>/ in the data dir).",
        )
        parser.add_argument(
            "--data-dir",
            default="",
            help="Restore an embedded (SQLite) backup into this directory instead of "
            "KEFU_DATA_DIR.",
        )

    def handle(self, *args, path, force, data_dir, **options):
        install = sqlite_install(Path(data_dir)) if data_dir else current_install()
        try:
            manifest = restore_backup(Path(path), install, force=force)
        except BackupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"Restored the backup of {manifest['created_at']} (Kefu {manifest['kefu_version']}) "
            f"into {install.data_dir}."
        )
        self.stdout.write(
            "Next: run `kefu migrate` (a no-op when versions match), then start Kefu."
        )
