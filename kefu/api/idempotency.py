"""``Idempotency-Key``: the same key and body replay the first response instead of acting twice.

Keys are scoped to (user, method, path, key) and kept ``settings.IDEMPOTENCY_KEY_TTL_SECONDS``.

1. The key's row is inserted in the request's own transaction, before the action runs in that
   transaction; the action's result (or its 4xx error) is stored in the same row before commit.
   So the key exists for others only together with a finished action and its stored response,
   and a request that dies — a 5xx, an exception, a killed process — takes its key with it: the
   database rolls the transaction back as soon as the connection is gone, and a retry proceeds.
2. A concurrent request with the same key waits for the first one's transaction at the unique
   index (PostgreSQL; SQLite runs one write transaction at a time anyway), at most
   ``CLAIM_WAIT_SECONDS``, then replays the stored response — or answers ``409`` if the first
   is still running. A done key with another body is ``422``.
3. A 4xx outcome is stored too (retrying the same mistake gives the same answer): the action's
   writes are rolled back to a savepoint and the key row keeps the error.
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
from django.db import IntegrityError, OperationalError, transaction
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
# How long a request waits for another one holding the same key before answering 409.
CLAIM_WAIT_SECONDS = 5
LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE for an expired lock_timeout
# Only rows committed in flight by an older Kefu: this old, their process died.
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
    scope = {"user": user, "method": request.method or "", "path": request.path, "key": key}
    fingerprint = request_fingerprint(request.body)
    with transaction.atomic():
        record, is_ours = _claim(scope, fingerprint)
        if is_ours:
            try:
                with transaction.atomic():
                    status, body = action()
                    content = _dump(body)
            except Exception as exc:
                error = describe(exc)
                if error is None or error.status >= 500:
                    raise  # the whole transaction, key row included, rolls back
                status, content = error.status, _dump(error.body)
            _store(record, status, content)
    if not is_ours:
        return json_response(record.response_status or 200, record.response_body, replayed=True)
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


def _still_running() -> Conflict:
    return Conflict(_("A request with this Idempotency-Key is still being processed; retry later."))


def _insert_waiting_briefly(scope: dict[str, Any], fingerprint: str) -> IdempotencyKey:
    """Insert the key row; behind another transaction's uncommitted row for the same key,
    PostgreSQL waits for that transaction — here at most ``CLAIM_WAIT_SECONDS``."""
    connection = transaction.get_connection()
    if connection.vendor != "postgresql":
        return IdempotencyKey.objects.create(**scope, request_hash=fingerprint)
    # The caller's savepoint undoes this SET when the insert fails; after a success it is reset,
    # so only the claim waits briefly and the action's own locks wait as long as they always did.
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL lock_timeout = '{CLAIM_WAIT_SECONDS}s'")
        record = IdempotencyKey.objects.create(**scope, request_hash=fingerprint)
        cursor.execute("SET LOCAL lock_timeout TO DEFAULT")
    return record


def _claim(scope: dict[str, Any], fingerprint: str) -> tuple[IdempotencyKey, bool]:
    """``(row, True)``: the key is this request's now (its row is in our transaction).
    ``(row, False)``: the key is done; replay ``row``'s response."""
    for _attempt in range(3):
        try:
            with transaction.atomic():
                return _insert_waiting_briefly(scope, fingerprint), True
        except IntegrityError:
            pass
        except OperationalError as error:
            if getattr(error.__cause__, "sqlstate", None) == LOCK_NOT_AVAILABLE:
                raise _still_running() from None
            raise
        existing = IdempotencyKey.objects.filter(**scope).first()
        if existing is None:  # purged, or its owner rolled back, after our insert: try again
            continue
        now = timezone.now()
        if existing.created_at < now - timedelta(seconds=settings.IDEMPOTENCY_KEY_TTL_SECONDS):
            IdempotencyKey.objects.filter(pk=existing.pk, created_at=existing.created_at).delete()
            continue
        if existing.state == IdempotencyKey.State.IN_FLIGHT:
            # Committed in flight: only an earlier Kefu version wrote these (it claimed keys in a
            # transaction of their own). Its owner may still be running, or may have died.
            if existing.created_at < now - ABANDONED_AFTER and _take_over(
                existing, fingerprint, now
            ):
                return existing, True
            raise _still_running()
        if existing.request_hash != fingerprint:
            raise ValidationError(
                {HEADER: _("This Idempotency-Key was already used with a different request body.")}
            )
        return existing, False
    raise _still_running()


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
