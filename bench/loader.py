"""Bulk loading of generated rows into Django tables, for the benchmark seeders.

Only needs Django (it is imported by Kefu's seeder and by the django-helpdesk peer's seeder,
each in its own virtual environment). A seeder supplies the columns it cares about; every other
concrete field of the model takes its Python default (``default=``, ``blank`` text → ``""``,
``null=True`` → NULL, ``auto_now`` → now), so a column that another engineer adds to a model
later does not break the seeder. A new NOT NULL column without any default stops the load with
its name.

PostgreSQL rows go through ``COPY … FROM STDIN`` with foreign-key triggers off
(``session_replication_role = replica``); SQLite rows through ``executemany`` with
``foreign_keys=OFF``. ``without_indexes`` drops the secondary indexes of the loaded tables and
builds them again after the load.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from django.db import connection, models

_NOW = datetime.now(UTC)


class Progress:
    """A one-line progress bar on stderr (no dependency)."""

    def __init__(self, label: str, total: int):
        self.label, self.total, self.done = label, max(total, 1), 0
        self.started = self.last = time.monotonic()

    def add(self, count: int) -> None:
        self.done += count
        now = time.monotonic()
        if now - self.last >= 0.5 or self.done >= self.total:
            self.last = now
            self.draw(now)

    def draw(self, now: float) -> None:
        share = min(self.done / self.total, 1.0)
        bar = "#" * int(share * 30)
        elapsed = now - self.started
        eta = elapsed / share - elapsed if share > 0 else 0
        sys.stderr.write(
            f"\r  {self.label:<14} [{bar:<30}] {self.done:>10,}/{self.total:,} "
            f"{elapsed:6.0f} s  eta {eta:5.0f} s"
        )
        sys.stderr.flush()

    def close(self) -> None:
        self.draw(time.monotonic())
        sys.stderr.write("\n")


def db_datetime(value: datetime | None) -> Any:
    """A datetime as the database driver wants it in a raw row."""
    if value is None:
        return None
    if connection.vendor == "sqlite":
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")
    return value


class Table:
    """The column plan of one model: supplied columns first, the rest filled with defaults."""

    def __init__(self, model: type[models.Model], supplied: Iterable[str]):
        self.model = model
        self.name = model._meta.db_table
        self.supplied = list(supplied)
        fields = {f.attname: f for f in model._meta.concrete_fields}
        unknown = [name for name in self.supplied if name not in fields]
        if unknown:
            raise SystemExit(f"{self.name}: the seeder supplies unknown columns {unknown}")
        self.columns = [fields[name].column for name in self.supplied]
        self.fillers: list[Callable[[], Any] | Any] = []
        self.callable: list[bool] = []
        for attname, field in fields.items():
            if attname in self.supplied:
                continue
            if field.primary_key and isinstance(field, models.AutoField | models.BigAutoField):
                continue
            self.columns.append(field.column)
            value, dynamic = self._default(field)
            self.fillers.append(value)
            self.callable.append(dynamic)

    def _default(self, field: models.Field) -> tuple[Any, bool]:
        if field.has_default():
            if callable(field.default):
                return (lambda f=field: self._prep(f, f.get_default())), True
            return self._prep(field, field.get_default()), False
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            return db_datetime(_NOW), False
        if field.null:
            return None, False
        if field.empty_strings_allowed and isinstance(field, models.CharField | models.TextField):
            return "", False
        raise SystemExit(
            f"{self.name}.{field.column} is NOT NULL without a default: teach the seeder "
            f"(bench/seed_kefu.py) a value for it"
        )

    @staticmethod
    def _prep(field: models.Field, value: Any) -> Any:
        if isinstance(field, models.JSONField):
            if connection.vendor == "postgresql":
                from psycopg.types.json import Jsonb

                return Jsonb(value)
            return json.dumps(value)
        if isinstance(field, models.DateTimeField):
            return db_datetime(value)
        return field.get_db_prep_save(value, connection)

    def complete(self, row: tuple) -> tuple:
        if not self.fillers:
            return row
        extra = tuple(
            filler() if dynamic else filler
            for filler, dynamic in zip(self.fillers, self.callable, strict=True)
        )
        return row + extra

    def load(self, rows: Iterable[tuple], progress: Progress | None = None) -> int:
        """Insert ``rows`` (tuples in the order of ``supplied``); returns how many."""
        count = 0
        columns = ", ".join(f'"{c}"' for c in self.columns)
        if connection.vendor == "postgresql":
            raw = connection.connection
            with raw.cursor() as cursor:
                with cursor.copy(f'COPY "{self.name}" ({columns}) FROM STDIN') as copy:
                    for row in rows:
                        copy.write_row(self.complete(row))
                        count += 1
                        if progress and count % 1000 == 0:
                            progress.add(1000)
        else:
            marks = ", ".join("?" * len(self.columns))
            sql = f'INSERT INTO "{self.name}" ({columns}) VALUES ({marks})'
            raw = connection.connection
            for batch in _batches(rows, 5000):
                if raw.isolation_level is None and not raw.in_transaction:
                    raw.execute("BEGIN")
                raw.executemany(sql, [self.complete(row) for row in batch])
                raw.commit()
                count += len(batch)
                if progress:
                    progress.add(len(batch))
        if progress:
            progress.add(count % 1000 if connection.vendor == "postgresql" else 0)
        return count


def _batches(rows: Iterable[tuple], size: int) -> Iterator[list[tuple]]:
    batch: list[tuple] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


@contextlib.contextmanager
def loading(tables: list[str]):
    """Fast-load mode: secondary indexes dropped (rebuilt on exit), FK checks off."""
    connection.ensure_connection()
    raw = connection.connection
    saved: list[str] = []
    if connection.vendor == "postgresql":
        with raw.cursor() as cursor:
            cursor.execute(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i "
                "WHERE i.schemaname = 'public' AND i.tablename = ANY(%s) AND NOT EXISTS ("
                "  SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
                [tables],
            )
            for name, definition in cursor.fetchall():
                saved.append(definition)
                cursor.execute(f'DROP INDEX "{name}"')
            cursor.execute("SET session_replication_role = replica")
            cursor.execute("SET maintenance_work_mem = '512MB'")
        raw.commit()
    else:
        placeholders = ", ".join("?" * len(tables))
        rows = raw.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "  # noqa: S608
            f"AND tbl_name IN ({placeholders})",
            tables,
        ).fetchall()
        raw.commit()
        raw.execute("PRAGMA foreign_keys = OFF")
        raw.execute("PRAGMA synchronous = OFF")
        for name, definition in rows:
            saved.append(definition)
            raw.execute(f'DROP INDEX "{name}"')
        raw.commit()
    try:
        yield
    finally:
        connection.ensure_connection()  # the caller may have reconnected meanwhile
        raw = connection.connection
        raw.commit()
        progress = Progress("indexes", len(saved))
        with (
            raw.cursor()
            if connection.vendor == "postgresql"
            else contextlib.nullcontext(raw) as cursor
        ):
            for definition in saved:
                cursor.execute(definition)
                progress.add(1)
            if connection.vendor == "postgresql":
                cursor.execute("SET session_replication_role = DEFAULT")
        progress.close()
        raw.commit()
        if connection.vendor == "sqlite":
            raw.execute("PRAGMA foreign_keys = ON")
            raw.execute("PRAGMA synchronous = NORMAL")
