"""The OpenAPI document of API v1 as checked into ``docs/openapi.json``."""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from django.utils import translation

OPENAPI_PATH = Path(settings.BASE_DIR) / "docs" / "openapi.json"


def openapi_document() -> str:
    """The generated document as stable, reviewable JSON text (English descriptions)."""
    from kefu.api.urls import api

    with translation.override("en"):
        schema = api.get_openapi_schema(path_prefix="/api/v1/")
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
