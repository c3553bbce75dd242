"""Shared pytest fixtures: the cast, ticket factory, API client, and service requirements."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import pytest

from kefu.test import Cast, make_cast

REQUIRE_ALL = os.environ.get("KEFU_REQUIRE_ALL") == "1"


def skip_or_fail(reason: str) -> None:
    """Skip when a service is missing, unless KEFU_REQUIRE_ALL=1 turns the skip into a failure."""
    if REQUIRE_ALL:
        pytest.fail(f"KEFU_REQUIRE_ALL=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture
def cast(db) -> Cast:
    return make_cast()


@pytest.fixture
def make_ticket(cast):
    from kefu.tickets.actions import NewTicket, create_ticket

    def factory(
        customer=None,
        *,
        group=None,
        subject="Printer shows E23 打印机报错",
        body="It stopped printing.",
        **kwargs,
    ):
        customer = customer or cast.alice
        creator = kwargs.pop("actor", None) or cast.admin
        return create_ticket(
            creator,
            NewTicket(
                subject=subject,
                body=body,
                contact=customer.contact,
                group=group or cast.cs,
                **kwargs,
            ),
        )

    return factory


@pytest.fixture
def fresh_counters(settings):
    """Throttle counters (kefu.lib.counters) that start at zero and vanish after the test.

    A fresh key prefix instead of ``cache.clear()``, which on Redis would flush the whole database.
    """
    from uuid import uuid4

    default = settings.CACHES["default"]
    settings.CACHES = {**settings.CACHES, "default": {**default, "KEY_PREFIX": uuid4().hex}}


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def scratch_database(name: str) -> Iterator[str | None]:
    """On PostgreSQL (KEFU_DATABASE_URL set): a fresh database beside the configured one for a
    server subprocess, dropped afterwards; yields its URL. On SQLite: ``None`` (the subprocess
    uses a file in its own data directory)."""
    base_url = os.environ.get("KEFU_DATABASE_URL")
    if not base_url:
        yield None
        return
    import psycopg

    from kefu.lib.env import database_from_url

    scratch = f"{database_from_url(base_url)['NAME']}_{name}_{os.getpid()}"
    admin_dsn = base_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_dsn, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{scratch}"')
        connection.execute(f'CREATE DATABASE "{scratch}"')
    try:
        yield base_url.rsplit("/", 1)[0] + "/" + scratch
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')


class ScriptedSMTP:
    """An aiosmtpd handler that answers with queued replies (``"451 4.3.0 try later"``), then
    250, and keeps each accepted or refused DATA, so a test sees what every attempt sent."""

    def __init__(self) -> None:
        self.rcpt_replies: list[str] = []
        self.data_replies: list[str] = []
        self.attempts: list[bytes] = []
        self.delivered: list[bytes] = []

    async def handle_RCPT(self, server, session, envelope, address, options):  # noqa: N802
        if self.rcpt_replies:
            return self.rcpt_replies.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.attempts.append(envelope.content)
        if self.data_replies:
            return self.data_replies.pop(0)
        self.delivered.append(envelope.content)
        return "250 OK"


@pytest.fixture
def smtp_server(settings):
    """A real SMTP listener on loopback that the site's default connection sends to."""
    from aiosmtpd.controller import Controller

    handler = ScriptedSMTP()
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    try:
        yield handler
    finally:
        controller.stop()


@pytest.fixture(scope="session")
def live_kefu(tmp_path_factory):
    """A real ``kefu run --demo`` (uvicorn, worker, tick) on its own file or scratch database.

    Yields the base URL. On PostgreSQL a scratch database beside the configured one is created and
    dropped afterwards, so the server never touches the test database.
    """
    import subprocess
    import sys
    import time
    from pathlib import Path
    from urllib.request import urlopen

    data_dir = tmp_path_factory.mktemp("kefu-live")
    port = _free_port()
    env = {
        **os.environ,
        "KEFU_DATA_DIR": str(data_dir),
        "KEFU_HTTPS": "0",
        "KEFU_DEBUG": "0",
        "KEFU_PORT": str(port),
        "KEFU_SITE_URL": f"http://127.0.0.1:{port}",
        "KEFU_LOG_LEVEL": "WARNING",
        "KEFU_TICK_INTERVAL_SECONDS": "2",
        # Its own Redis keys: other servers' throttle counts for 127.0.0.1 must not reach it.
        "KEFU_REDIS_PREFIX": f"{os.environ.get('KEFU_REDIS_PREFIX', 'kefu')}-live-{port}",
    }
    scratch = ExitStack()
    scratch_url = scratch.enter_context(scratch_database("live"))
    if scratch_url:
        env["KEFU_DATABASE_URL"] = scratch_url
    kefu = str(Path(sys.executable).with_name("kefu"))
    log_path = data_dir / "server.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(  # noqa: S603 - our own command
            [kefu, "run", "--demo", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            if process.poll() is not None:
                pytest.fail(f"kefu run exited early:\n{log_path.read_text()[-3000:]}")
            try:
                with urlopen(url + "/readyz", timeout=2) as response:  # noqa: S310 - loopback
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"kefu run did not become ready:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.5)
        yield url
    finally:
        import signal

        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(process.pid, signal.SIGKILL)
        scratch.close()


CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium driven by Playwright (never a downloaded browser)."""
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "1"  # Playwright's sync API runs an event loop
    if not os.path.exists(CHROMIUM):
        skip_or_fail(f"{CHROMIUM} is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("playwright is not installed")
    # launch() always starts from a fresh temporary profile (Playwright refuses --user-data-dir).
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        try:
            yield browser
        finally:
            browser.close()


class PrivateRedis:
    """A redis-server of the test's own on a spare loopback port, which the test may stop."""

    def __init__(self, directory) -> None:
        import shutil

        binary = shutil.which("redis-server")
        if binary is None:
            skip_or_fail("redis-server is not installed (apt-get install redis-server)")
        self.binary = str(binary)
        self.directory = str(directory)
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.start()

    def start(self) -> None:
        """Start (again) on the same port, empty: it keeps nothing on disk."""
        import subprocess
        import time

        import redis

        self.process = subprocess.Popen(  # noqa: S603 - the distribution's redis-server
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
            + ["--appendonly", "no", "--dir", self.directory],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url, socket_connect_timeout=1)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.RedisError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.stop()
                    pytest.fail("the private redis-server did not start")
                time.sleep(0.05)
        client.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@pytest.fixture
def private_redis(tmp_path):
    server = PrivateRedis(tmp_path)
    try:
        yield server
    finally:
        server.stop()
