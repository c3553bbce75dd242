"""``Idempotency-Key``: the same key and body replay the first response instead of acting twice.

Keys are scoped to (user, method, path, key) and kept ``settings.IDEMPOTENCY_KEY_TTL_SECONDS``.

1. The key's row is inserted ``in_flight`` in its own committed transaction. If it exists:
   in flight → ``409``; done with the same body → replay; done with another body → ``422``.
2. The action runs in one transaction together with storing its response, so either both
   happen or neither does — a crash never leaves a done action without its stored response.
3. A 4xx outcome is stored too (retrying the same mistake gives the same answer); a 5xx or an
   unexpected exception deletes the row so that a retry can proceed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.models import User
from kefu.api.errors import Conflict, describe
from kefu.api.models import IdempotencyKey

HEADER = "Idempotency-Key"
IDEMPOTENCY_HELP = (
    "A unique string per intended action (e.g. a UUID). Retrying with the same key and body "
    "returns the first response instead of acting twice; kept 24 hours."
)
MAX_KEY_LENGTH = 255
# An in-flight row this old belongs to a request whose process died (no API request runs this
# long); since its action never committed (step 2), another request may take the key over.
ABANDONED_AFTER = timedelta(minutes=10)

Action = Callable[[], tuple[int, dict[str, Any]]]


def json_response(status: int, content: str, *, replayed: bool = False) -> HttpResponse:
    response = HttpResponse(content, status=status, content_type="application/json")
    if replayed:
        response["Idempotent-Replayed"] = "true"
    return response


def _dump(body: dict[str, Any]) -> str:
    return json.dumps(body, cls=DjangoJSONEncoder, ensure_ascii=False)


def request_fingerprint(raw: bytes) -> str:
    """SHA-256 of the body as canonical JSON, so key order and whitespace do not count."""
    try:
        canonical = json.dumps(
            json.loads(raw or b"null"), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode()
    except ValueError:
        canonical = raw
    return hashlib.sha256(canonical).hexdigest()


def run_idempotent(
    request: HttpRequest, user: User, key: str | None, action: Action
) -> HttpResponse:
    """Run ``action`` (returning status and JSON body) at most once per idempotency key."""
    if key is None:
        status, body = action()
        return json_response(status, _dump(body))
    key = _validate_key(key)
    record = _claim(
        user, request.method or "", request.path, key, request_fingerprint(request.body)
    )
    if record.state == IdempotencyKey.State.DONE:
        return json_response(record.response_status or 200, record.response_body, replayed=True)
    try:
        with transaction.atomic():
            status, body = action()
            content = _dump(body)
            _store(record, status, content)
    except Exception as exc:
        error = describe(exc)
        if error is None or error.status >= 500:
            IdempotencyKey.objects.filter(pk=record.pk).delete()
            raise
        content = _dump(error.body)
        _store(record, error.status, content)
        return json_response(error.status, content)
    return json_response(status, content)


def _validate_key(key: str) -> str:
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ValidationError(
            {
                HEADER: _("The Idempotency-Key must have 1 to %(n)s characters.")
                % {"n": MAX_KEY_LENGTH}
            }
        )
    return key


def _store(record: IdempotencyKey, status: int, content: str) -> None:
    IdempotencyKey.objects.filter(pk=record.pk).update(
        state=IdempotencyKey.State.DONE, response_status=status, response_body=content
    )


def _claim(user: User, method: str, path: str, key: str, fingerprint: str) -> IdempotencyKey:
    """Either a fresh in-flight row for this request, or the done row whose response to replay."""
    scope = {"user": user, "method": method, "path": path, "key": key}
    for _attempt in range(3):
        try:
            with transaction.atomic():
                return IdempotencyKey.objects.create(**scope, request_hash=fingerprint)
        except IntegrityError:
            pass
        existing = IdempotencyKey.objects.filter(**scope).first()
        if existing is None:  # purged between our insert and this read: try again
            continue
        now = timezone.now()
        if existing.created_at < now - timedelta(seconds=settings.IDEMPOTENCY_KEY_TTL_SECONDS):
            IdempotencyKey.objects.filter(pk=existing.pk, created_at=existing.created_at).delete()
            continue
        if existing.state == IdempotencyKey.State.IN_FLIGHT:
            if existing.created_at < now - ABANDONED_AFTER and _take_over(
                existing, fingerprint, now
            ):
                return existing
            raise Conflict(
                _("A request with this Idempotency-Key is still being processed; retry later.")
            )
        if existing.request_hash != fingerprint:
            raise ValidationError(
                {HEADER: _("This Idempotency-Key was already used with a different request body.")}
            )
        return existing
    raise Conflict(_("A request with this Idempotency-Key is still being processed; retry later."))


def _take_over(existing: IdempotencyKey, fingerprint: str, now) -> bool:
    taken = IdempotencyKey.objects.filter(
        pk=existing.pk, state=IdempotencyKey.State.IN_FLIGHT, created_at=existing.created_at
    ).update(created_at=now, request_hash=fingerprint)
    return taken == 1


def purge_expired_idempotency_keys() -> int:
    """Delete keys past their time to live (a ``kefu tick`` function)."""
    cutoff = timezone.now() - timedelta(seconds=settings.IDEMPOTENCY_KEY_TTL_SECONDS)
    deleted, _per_model = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
