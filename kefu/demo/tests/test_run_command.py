"""``kefu run`` and friends as real processes, the way ``make run`` starts them.

Each test module gets a fresh installation: a temporary data directory (SQLite) or, when the
suite runs on PostgreSQL, a scratch database of its own that is dropped afterwards.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from django.conf import settings

START_TIMEOUT_SECONDS = 120  # first start migrates and hashes the demo passwords (Argon2)
STOP_TIMEOUT_SECONDS = 30
LOGIN_LINE = re.compile(
    r"^\s+(?P<role>\S+)\s+(?P<email>\S+@\S+)\s+(?P<password>\S+)\s*$", re.MULTILINE
)


def kefu_command() -> list[str]:
    script = Path(sys.executable).with_name("kefu")
    return [str(script)] if script.exists() else [sys.executable, "-m", "kefu.cli"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def install_env(tmp_path_factory) -> Iterator[dict[str, str]]:
    """Environment variables of a brand-new installation."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST_")}
    env.update(
        KEFU_DATA_DIR=str(tmp_path_factory.mktemp("kefu-data")),
        KEFU_HTTPS="0",
        PYTHONUNBUFFERED="1",
    )
    env.pop("KEFU_SITE_URL", None)
    env.pop("KEFU_TESTING", None)
    if env.get("KEFU_REDIS_URL"):
        # Its own key prefix: throttle counts of other installations on the same Redis (a login
        # test's failed attempts from 127.0.0.1) must not lock this one out.
        env["KEFU_REDIS_PREFIX"] = (
            f"{env.get('KEFU_REDIS_PREFIX', 'kefu')}-run-{uuid.uuid4().hex[:12]}"
        )
    database_url = os.environ.get("KEFU_DATABASE_URL")
    if not database_url:
        yield env
        return
    import psycopg

    name = f"kefu_run_{uuid.uuid4().hex[:12]}"
    server_url = urlsplit(database_url)._replace(path="/postgres", query="").geturl()
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    env["KEFU_DATABASE_URL"] = urlsplit(database_url)._replace(path=f"/{name}").geturl()
    try:
        yield env
    finally:
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def kefu(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*kefu_command(), *args],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )


class RunningKefu:
    """A ``kefu run`` subprocess whose output goes to a file (a pipe could fill up and block it)."""

    def __init__(self, env: dict[str, str], log_path: Path, *args: str):
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self._log = log_path.open("w")
        self.process = subprocess.Popen(
            [*kefu_command(), "run", "--port", str(self.port), *args],
            env=env,
            cwd=settings.BASE_DIR,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )

    @property
    def output(self) -> str:
        return self.log_path.read_text()

    def wait_until(self, condition, what: str, timeout: float = START_TIMEOUT_SECONDS) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(
                    f"kefu run exited ({self.process.returncode}) before {what}:\n{self.output}"
                )
            if condition():
                return
            time.sleep(0.25)
        pytest.fail(f"kefu run: no {what} after {timeout} s:\n{self.output}")

    def responds(self, path: str) -> bool:
        try:
            return httpx.get(self.base_url + path, timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> int:
        """Ctrl-C, as a person would; returns the exit code."""
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=STOP_TIMEOUT_SECONDS)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
        self._log.close()


@pytest.fixture
def start_kefu(install_env, tmp_path):
    started: list[RunningKefu] = []

    def start(*args: str) -> RunningKefu:
        running = RunningKefu(install_env, tmp_path / f"kefu-run-{len(started)}.log", *args)
        started.append(running)
        return running

    yield start
    for running in started:
        running.kill()


def test_plain_kefu_run_migrates_serves_and_loads_no_demo(start_kefu, install_env):
    kefu_process = start_kefu()
    kefu_process.wait_until(lambda: kefu_process.responds("/readyz"), "ready database (/readyz)")
    kefu_process.wait_until(lambda: "Kefu is running at" in kefu_process.output, "start-up message")
    assert f"http://127.0.0.1:{kefu_process.port}/" in kefu_process.output
    assert "Demo logins" not in kefu_process.output
    assert kefu_process.stop() == 0

    users = kefu(
        install_env,
        "manage",
        "shell",
        "-c",
        "from kefu.accounts.models import User; print(User.objects.count())",
    )
    assert users.stdout.strip().splitlines()[-1] == "0", users.stderr


def test_kefu_run_demo_prints_logins_that_work_over_http(start_kefu):
    kefu_process = start_kefu("--demo")
    kefu_process.wait_until(lambda: kefu_process.responds("/healthz"), "answer on /healthz")
    kefu_process.wait_until(lambda: "Demo logins" in kefu_process.output, "demo logins")
    kefu_process.wait_until(lambda: kefu_process.responds("/readyz"), "ready database (/readyz)")
    output = kefu_process.output
    assert f"http://127.0.0.1:{kefu_process.port}/" in output
    logins = {
        match["role"]: (match["email"], match["password"]) for match in LOGIN_LINE.finditer(output)
    }
    assert {"Administrator", "Supervisor", "Agent", "Customer"} <= set(logins)

    email, password = logins["Administrator"]
    with httpx.Client(base_url=kefu_process.base_url, timeout=10) as browser:
        login_page = browser.get("/accounts/login/")
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login_page.text)
        assert csrf, login_page.text
        response = browser.post(
            "/accounts/login/",
            data={"csrfmiddlewaretoken": csrf[1], "email": email, "password": password},
        )
        assert response.status_code == 302, response.text
        tickets = browser.get(response.headers["location"], follow_redirects=True)
    assert tickets.url.path == "/tickets/"
    assert tickets.status_code == 200
    assert "打印机开机后黑屏报错 E23" in tickets.text
    assert kefu_process.stop() == 0


def test_kefu_run_refuses_a_port_in_use_with_one_line(install_env):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = kefu(install_env, "run", "--port", str(port))
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"kefu: error: Port {port} on 127.0.0.1 is already in use; choose another with --port or KEFU_PORT."
    )


def test_worker_and_tick_run_one_pass_with_once(install_env):
    assert kefu(install_env, "migrate").returncode == 0
    worker = kefu(install_env, "worker", "--once")
    assert worker.returncode == 0, worker.stderr
    assert re.search(r"Ran \d+ jobs", worker.stdout)
    tick = kefu(install_env, "tick", "--once")
    assert tick.returncode == 0, tick.stderr
    assert re.search(r"^reap_stale_jobs: 0$", tick.stdout, re.MULTILINE)


def test_a_malformed_setting_is_one_clear_line(install_env):
    result = kefu({**install_env, "KEFU_PORT": "eighty"}, "migrate")
    assert result.returncode == 1
    assert result.stderr.strip() == "kefu: error: KEFU_PORT must be an integer, got 'eighty'"
