"""``api_as(user)``: a test client that sends ``user``'s bearer token with every request."""

from __future__ import annotations

import json
from uuid import uuid4

import pytest
from django.test import Client


class ApiClient:
    def __init__(self, token: str | None):
        self.client = Client()
        self.token = token

    def _headers(self, headers: dict | None) -> dict:
        base = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return {**base, **(headers or {})}

    def get(self, path: str, params: dict | None = None, headers: dict | None = None):
        return self.client.get("/api/v1" + path, params or {}, headers=self._headers(headers))

    def post(self, path: str, data=None, headers: dict | None = None):
        return self._send("post", path, data, headers)

    def patch(self, path: str, data=None, headers: dict | None = None):
        return self._send("patch", path, data, headers)

    def _send(self, method: str, path: str, data, headers: dict | None):
        body = data if isinstance(data, str | bytes) else json.dumps(data)
        return getattr(self.client, method)(
            "/api/v1" + path, body, content_type="application/json", headers=self._headers(headers)
        )


@pytest.fixture
def api_as(cast):
    def factory(user=None, *, token: str | None = None) -> ApiClient:
        return ApiClient(token if token is not None else cast.token(user) if user else None)

    return factory


def error_fields(response) -> list[str | None]:
    return [error["field"] for error in response.json()["errors"]]


@pytest.fixture(autouse=True)
def uploads_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "uploads"


@pytest.fixture(autouse=True)
def fresh_throttle_counters(settings):
    """Token ids repeat between tests (rolled-back rows); their throttle counters must not.

    A fresh key prefix instead of ``cache.clear()``, which on Redis would flush the whole database.
    """
    default = settings.CACHES["default"]
    settings.CACHES = {
        **settings.CACHES,
        "default": {**default, "KEY_PREFIX": f"test-{uuid4().hex}"},
    }
