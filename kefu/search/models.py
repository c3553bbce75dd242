"""Bookkeeping of the search indexes (the indexed documents live in the apps that own them)."""

from __future__ import annotations

from django.db import models


class ReindexCheckpoint(models.Model):
    """How far a full reindex got: rebuilding resumes after ``last_id`` instead of starting over.

    ``finished_at`` is set when a run reached the end; the next run then starts from the beginning.
    """

    name = models.CharField(max_length=60, unique=True)
    last_id = models.BigIntegerField(default=0)
    done = models.BigIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} after {self.last_id}"
