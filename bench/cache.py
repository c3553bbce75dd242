"""Seeded databases, cached so that a rerun does not seed again.

PostgreSQL: the seeded database is kept on the server as ``<prefix>_v<SEED_VERSION>_<n>`` and
dumped to ``var/bench/<prefix>-pg-v<SEED_VERSION>-<n>.dump`` (``pg_dump -Fc``), so a fresh
server restores the dump instead of seeding. Each run works on a copy
(``CREATE DATABASE … TEMPLATE``), migrated to the current schema, which the benchmark may write to.
SQLite: the seeded file is ``var/bench/<prefix>-sqlite-v<SEED_VERSION>-<n>.sqlite3``, copied per run.
A seed that did not finish leaves a ``…_loading`` database / ``.partial`` file that the next run
discards. Changing ``bench/data.py``'s ``SEED_VERSION`` invalidates every cached seed.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("BENCH_CACHE", ROOT / "var" / "bench"))
sys.path.insert(0, str(ROOT / "bench"))

from data import SEED_VERSION  # noqa: E402


def log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def server_sql(server: str, *statements: str) -> list:
    rows: list = []
    with psycopg.connect(server.rstrip("/") + "/postgres", autocommit=True) as conn:
        for statement in statements:
            cursor = conn.execute(statement)
            if cursor.description:
                rows = cursor.fetchall()
    return rows


def database_exists(server: str, name: str) -> bool:
    return bool(server_sql(server, f"SELECT 1 FROM pg_database WHERE datname = '{name}'"))


def pg_seed(server: str, prefix: str, n: int, seed: Callable[[str], None]) -> str:
    """The name of the cached seeded database of n tickets; seeds (``seed(url)``) if needed."""
    name = f"{prefix}_v{SEED_VERSION}_{n}"
    if database_exists(server, name):
        return name
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / f"{name}.lock", "w") as lock:
        if _locked_elsewhere(lock, name):
            fcntl.flock(lock, fcntl.LOCK_EX)  # another run is seeding it: wait for that
        if database_exists(server, name):
            return name
        return _pg_seed(server, prefix, n, seed, name)


def _locked_elsewhere(lock, name: str) -> bool:
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        log(f"another run is seeding {name}; waiting for it")
        return True
    return False


def _pg_seed(server: str, prefix: str, n: int, seed: Callable[[str], None], name: str) -> str:
    dump = CACHE / f"{prefix}-pg-v{SEED_VERSION}-{n}.dump"
    loading = name + "_loading"
    server_sql(
        server, f'DROP DATABASE IF EXISTS "{loading}" WITH (FORCE)', f'CREATE DATABASE "{loading}"'
    )
    url = f"{server.rstrip('/')}/{loading}"
    if dump.exists():
        log(f"restoring {dump.name}")
        subprocess.run(  # noqa: S603, S607
            ["pg_restore", "--no-owner", "-j", "2", "-d", url, str(dump)], check=True
        )
    else:
        log(f"seeding {prefix} with {n:,} tickets on PostgreSQL")
        seed(url)
        log(f"dumping to {dump}")
        partial = dump.with_suffix(".partial")
        subprocess.run(  # noqa: S603, S607
            ["pg_dump", "-Fc", "-Z", "1", "-f", str(partial), url], check=True
        )
        partial.rename(dump)
    server_sql(server, f'ALTER DATABASE "{loading}" RENAME TO "{name}"')
    return name


def pg_work_copy(server: str, template: str, work: str) -> str:
    """A fresh copy of ``template`` named ``work``; returns its URL."""
    server_sql(
        server,
        f'DROP DATABASE IF EXISTS "{work}" WITH (FORCE)',
        f'CREATE DATABASE "{work}" TEMPLATE "{template}"',
    )
    return f"{server.rstrip('/')}/{work}"


def sqlite_seed(prefix: str, n: int, seed: Callable[[Path], None]) -> Path:
    """The cached seeded SQLite file of n tickets; ``seed(data_dir)`` writes data_dir/kefu.sqlite3."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"{prefix}-sqlite-v{SEED_VERSION}-{n}.sqlite3"
    if path.exists():
        return path
    with open(path.with_suffix(".lock"), "w") as lock:
        if _locked_elsewhere(lock, path.name):
            fcntl.flock(lock, fcntl.LOCK_EX)
        if path.exists():
            return path
        return _sqlite_seed(prefix, n, seed, path)


def _sqlite_seed(prefix: str, n: int, seed: Callable[[Path], None], path: Path) -> Path:
    work = CACHE / f"{prefix}-sqlite-v{SEED_VERSION}-{n}.partial"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    log(f"seeding {prefix} with {n:,} tickets on SQLite")
    seed(work)
    source = work / "kefu.sqlite3"
    import sqlite3

    with sqlite3.connect(source) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    source.rename(path)
    shutil.rmtree(work, ignore_errors=True)
    return path


def sqlite_work_copy(cached: Path, data_dir: Path) -> Path:
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    shutil.copyfile(cached, data_dir / "kefu.sqlite3")
    return data_dir
