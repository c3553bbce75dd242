"""A real Kefu deployment on loopback for concurrency tests: ``kefu migrate``, two uvicorn web
processes, a separate ``kefu worker`` and ``kefu tick``, an administrator's API token, and a
look into its database (its own SQLite file, or a scratch PostgreSQL database; with
KEFU_REDIS_URL set it uses Redis under its own key prefix).

Web, worker and tick are separate processes so that a test can kill the worker alone.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from urllib.request import urlopen

from kefu.conftest import _free_port, scratch_database

KEFU = str(Path(sys.executable).with_name("kefu"))
ADMIN_EMAIL = "stack-admin@kefu.example"
READY_SECONDS = 120


class LiveStack:
    def __init__(self, data_dir: Path, *, smtp_port: int | None = None, web_workers: int = 2):
        self.data_dir = data_dir
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.web_workers = web_workers
        self.env = {
            **os.environ,
            "KEFU_DATA_DIR": str(data_dir),
            "KEFU_HTTPS": "0",
            "KEFU_DEBUG": "0",
            "KEFU_SITE_URL": self.url,
            "KEFU_LOG_LEVEL": "WARNING",
            "KEFU_TICK_INTERVAL_SECONDS": "1",
            # A killed worker's job is back in the queue within seconds, not 15 minutes.
            "KEFU_JOB_STALE_AFTER_SECONDS": "5",
            "KEFU_API_THROTTLE_PER_MINUTE": "100000",
            "KEFU_AUTO_MAIL_PER_ADDRESS_PER_HOUR": "1000",
        }
        self.env.pop("KEFU_REQUIRE_ALL", None)
        if os.environ.get("KEFU_REDIS_URL"):
            prefix = os.environ.get("KEFU_REDIS_PREFIX", "kefu")
            self.env["KEFU_REDIS_PREFIX"] = f"{prefix}-stack-{os.getpid()}-{self.port}"
        if smtp_port is not None:
            self.env["KEFU_SMTP_URL"] = f"smtp://127.0.0.1:{smtp_port}"
        self.database_url: str | None = None
        self.processes: dict[str, subprocess.Popen] = {}
        self.token = ""
        self._cleanup = ExitStack()

    # --- life cycle ---------------------------------------------------------------------------

    def __enter__(self) -> LiveStack:
        self._cleanup.__enter__()
        self.database_url = self._cleanup.enter_context(scratch_database(f"stack{self.port}"))
        if self.database_url:
            self.env["KEFU_DATABASE_URL"] = self.database_url
        self._cleanup.callback(self._stop_all)
        self.kefu("migrate", "--no-input")
        self.kefu(
            "user",
            "create",
            "--email",
            ADMIN_EMAIL,
            "--name",
            "Stack admin",
            "--role",
            "admin",
            "--group",
            "Support",  # the first group is the default one, where new tickets go
        )
        self.token = self.kefu("token", "create", ADMIN_EMAIL).stdout.decode().split()[-1]
        self.start_web()
        self.start("worker")
        self.start("tick")
        self._wait_until_ready()
        return self

    def __exit__(self, *exc_info) -> None:
        self._cleanup.__exit__(*exc_info)

    def kefu(self, *args: str, input: bytes | None = None, check: bool = True):
        """Run one ``kefu`` command against this deployment."""
        return subprocess.run(  # noqa: S603 - our own command
            [KEFU, *args],
            env=self.env,
            input=input,
            capture_output=True,
            timeout=120,
            check=check,
        )

    def start_web(self) -> None:
        self._spawn(
            "web",
            [
                sys.executable,
                "-m",
                "uvicorn",
                "kefu.asgi:application",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                str(self.web_workers),
                "--lifespan",
                "off",
                "--log-level",
                "warning",
                "--backlog",
                "2048",
            ],
        )

    def start(self, command: str) -> None:
        """Start ``kefu worker`` or ``kefu tick``."""
        self._spawn(command, [KEFU, command])

    def kill(self, name: str) -> None:
        """SIGKILL the process (group): no clean-up, as when a machine dies."""
        process = self.processes.pop(name)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def _spawn(self, name: str, argv: list[str]) -> None:
        log = open(self.data_dir / f"{name}.log", "ab")  # noqa: SIM115 - closed with the stack
        self._cleanup.callback(log.close)
        self.processes[name] = subprocess.Popen(  # noqa: S603 - our own command
            argv, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + READY_SECONDS
        while True:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited early:\n{self.log(name)}")
            try:
                with urlopen(self.url + "/readyz", timeout=2) as response:  # noqa: S310 - loopback
                    if response.status == 200:
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the web server did not become ready:\n{self.log('web')}")
            time.sleep(0.3)

    def _stop_all(self) -> None:
        for process in self.processes.values():
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=15)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        self.processes.clear()

    def log(self, name: str) -> str:
        path = self.data_dir / f"{name}.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    # --- looking into its database ------------------------------------------------------------

    def rows(self, sql: str, *params: object) -> list[tuple]:
        """Run one read-only query (``%s`` placeholders) on the deployment's database."""
        if self.database_url:
            import psycopg

            with psycopg.connect(self.database_url) as postgres:
                return postgres.execute(sql, params).fetchall()  # type: ignore[arg-type]
        sqlite = sqlite3.connect(self.data_dir / "kefu.sqlite3", timeout=30)
        try:
            return sqlite.execute(sql.replace("%s", "?"), params).fetchall()
        finally:
            sqlite.close()

    def count(self, sql: str, *params: object) -> int:
        return int(self.rows(sql, *params)[0][0])

    def contacts_with_email(self, address: str) -> int:
        return self.count("select count(*) from customers_contact where lower(email) = %s", address)

    def tickets_of(self, address: str) -> int:
        return self.count(
            "select count(*) from tickets_ticket t join customers_contact c on c.id = t.contact_id"
            " where lower(c.email) = %s",
            address,
        )
