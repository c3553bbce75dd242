"""Environment and seeding of Kefu for the benchmark runner (bench/run.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import cache

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
TMP = Path(os.environ.get("BENCH_TMP", "/tmp/kefu-bench"))  # noqa: S108 - scratch, not secrets


def kefu_env(*, database_url: str | None = None, data_dir: Path | None = None) -> dict[str, str]:
    """Environment for a Kefu process on a benchmark database (PostgreSQL URL or SQLite dir)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEFU_")}
    data_dir = data_dir or TMP / "kefu-data"
    data_dir.mkdir(parents=True, exist_ok=True)
    env.update(
        DJANGO_SETTINGS_MODULE="kefu.settings",
        KEFU_DATA_DIR=str(data_dir),
        KEFU_LOG_LEVEL="WARNING",
        KEFU_HTTPS="0",
        KEFU_DEBUG="0",
        KEFU_ALLOWED_HOSTS="127.0.0.1,localhost",
        KEFU_API_THROTTLE_PER_MINUTE="100000000",
        KEFU_SECRET_KEY="bench-secret-key-not-for-production-0123456789abcdef",
        KEFU_EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
    )
    if database_url:
        env["KEFU_DATABASE_URL"] = database_url
    return env


def _run_seed(n: int, env: dict[str, str]) -> None:
    subprocess.run(  # noqa: S603 - our own interpreter and script
        [PYTHON, str(ROOT / "bench" / "seed_kefu.py"), str(n)],
        env={**env, "KEFU_DATABASE_POOL": "0"},
        cwd=ROOT,
        check=True,
    )


def pg_database(server: str, n: int) -> str:
    """URL of a fresh, migrated working copy of the cached Kefu seed of n tickets."""
    template = cache.pg_seed(
        server, "kefubench", n, lambda url: _run_seed(n, kefu_env(database_url=url))
    )
    url = cache.pg_work_copy(server, template, f"kefubench_run_{n}")
    migrate(kefu_env(database_url=url))
    return url


def sqlite_data_dir(n: int) -> Path:
    """A data dir holding a fresh, migrated copy of the cached SQLite seed of n tickets."""
    cached = cache.sqlite_seed("kefubench", n, lambda work: _run_seed(n, kefu_env(data_dir=work)))
    data_dir = cache.sqlite_work_copy(cached, TMP / f"kefu-sqlite-{n}")
    migrate(kefu_env(data_dir=data_dir))
    return data_dir


def migrate(env: dict[str, str]) -> None:
    subprocess.run(  # noqa: S603
        [PYTHON, str(ROOT / "manage.py"), "migrate", "-v", "0"],
        env={**env, "KEFU_DATABASE_POOL": "0"},
        cwd=ROOT,
        check=True,
    )


if __name__ == "__main__":  # seed (and cache) only: python bench/kefu_env.py pg 1000000
    vendor, size = sys.argv[1], int(sys.argv[2])
    server = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
    print(pg_database(server, size) if vendor == "pg" else sqlite_data_dir(size))
