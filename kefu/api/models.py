"""Stored responses for ``Idempotency-Key`` requests."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class IdempotencyKey(models.Model):
    """One client-chosen key for one (user, method, path) and the response it produced.

    The row is inserted in the request's own transaction, before its work, and marked ``done``
    with the response in that transaction: the unique constraint makes a concurrent duplicate
    wait for the first request and replay its response (``kefu/api/idempotency.py``), and a
    request that dies takes its uncommitted row with it.
    """

    class State(models.TextChoices):
        IN_FLIGHT = "in_flight", "in flight"
        DONE = "done", "done"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=255)
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    state = models.CharField(max_length=10, choices=State.choices, default=State.IN_FLIGHT)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    # The exact JSON text sent the first time, so a replay is byte-for-byte the same response.
    response_body = models.TextField(blank=True)
    # Indexed for the tick that purges expired keys.
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "method", "path", "key"], name="one_idempotency_key_per_request"
            )
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.path} {self.key} ({self.state})"
