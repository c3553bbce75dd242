"""Write the API's OpenAPI document to ``docs/openapi.json`` (a test checks it is current)."""

from pathlib import Path

from django.core.management.base import BaseCommand

from kefu.api.openapi import OPENAPI_PATH, openapi_document


class Command(BaseCommand):
    help = "Write the OpenAPI document of /api/v1/ to docs/openapi.json (or --output)."

    def add_arguments(self, parser):
        parser.add_argument("--output", type=Path, default=OPENAPI_PATH, help="where to write it")

    def handle(self, *args, output: Path, **options):
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(openapi_document(), encoding="utf-8")
        self.stdout.write(f"Wrote {output}")
