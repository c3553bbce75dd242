"""A throwaway data directory and database for one benchmark run (shared by the bench scripts).

Call ``create`` before ``django.setup()``: it points ``KEFU_DATA_DIR`` (and, for PostgreSQL,
``KEFU_DATABASE_URL``) at the scratch copies. ``drop`` removes them again.
"""

from __future__ import annotations

import os
import shutil
import tempfile


def create(prefix: str, postgres: str | None, log_level: str = "WARNING") -> tuple[str | None, str]:
    data_dir = tempfile.mkdtemp(prefix=f"kefu-{prefix}-")
    os.environ["KEFU_DATA_DIR"] = data_dir
    os.environ["KEFU_LOG_LEVEL"] = log_level
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kefu.settings")
    scratch = None
    if postgres:
        import psycopg

        scratch = f"kefu_{prefix}_{os.getpid()}"
        with psycopg.connect(postgres.rstrip("/") + "/postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{scratch}"')
        os.environ["KEFU_DATABASE_URL"] = postgres.rstrip("/") + "/" + scratch
        os.environ["KEFU_DATABASE_POOL"] = "0"
    return scratch, data_dir


def drop(scratch: str | None, data_dir: str, postgres: str | None) -> None:
    shutil.rmtree(data_dir, ignore_errors=True)
    if scratch and postgres:
        import psycopg

        with psycopg.connect(postgres.rstrip("/") + "/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
