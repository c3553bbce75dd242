"""``kefu run``: web server, job worker and tick loop in one process.

One process on purpose: with the embedded set-up (no Redis) the in-memory channel layer only
reaches browsers connected to this process, so realtime events from jobs and ticks must be
published here too. The command lives with the demo because ``--demo`` loads it; the loops it
runs are ``kefu.lib.loops``.
"""

from __future__ import annotations

import errno
import os
import signal
import socket
import threading
from collections.abc import Callable

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.utils.translation import gettext as _

from kefu.accounts.models import User
from kefu.demo.load import demo_logins, load_demo
from kefu.lib.loops import make_worker, run_tick_loop, run_worker

SHUTDOWN_WAIT_SECONDS = 10


class Command(BaseCommand):
    help = "Start the web server, job worker and tick loop in one process."

    def add_arguments(self, parser):
        parser.add_argument(
            "--demo",
            action="store_true",
            help="Load the demo data on first start (when no user exists yet).",
        )
        parser.add_argument(
            "--port",
            type=int,
            default=settings.PORT,
            help="Port to listen on (default: KEFU_PORT or 8000).",
        )
        parser.add_argument(
            "--host",
            default=settings.HOST,
            help="Address to listen on (default: KEFU_HOST or 127.0.0.1).",
        )

    def handle(self, *args, demo: bool, port: int, host: str, **options):
        _check_port_free(host, port)
        self._migrate_if_needed()
        if demo:
            self._load_demo_on_first_start()
        url = f"http://{_display_host(host)}:{port}/"
        if "KEFU_SITE_URL" not in os.environ:
            # Links in e-mails must point where this process really listens.
            settings.SITE_URL = url.rstrip("/")
        logins = demo_logins() if demo else []
        connections.close_all()  # the server and the loops open their own, per thread
        _serve(host, port, announce=lambda: self._print_banner(url, host, logins))

    def _migrate_if_needed(self) -> None:
        connection = connections[DEFAULT_DB_ALIAS]
        executor = MigrationExecutor(connection)
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            self.stdout.write(_("Applying database migrations…"))
            call_command("migrate", interactive=False, verbosity=0)
        connection.close()

    def _load_demo_on_first_start(self) -> None:
        if not User.objects.exists():
            self.stdout.write(_("First start: loading the demo data…"))
            load_demo()

    def _print_banner(self, url: str, host: str, logins: list[tuple[str, str, str]]) -> None:
        write = self.stdout.write
        write("")
        write(_("Kefu is running at %(url)s  (Ctrl-C stops it)") % {"url": url})
        if logins:
            write(_("Demo logins (e-mail / password):"))
            for role, email, password in logins:
                write(f"  {role:<14} {email:<28} {password}")
        if settings.HTTPS:
            write(
                _(
                    "Note: KEFU_HTTPS is on, so browsers keep the login cookie only over HTTPS. "
                    "Serving plain HTTP (http://192.168.x.x)? Set KEFU_HTTPS=0."
                )
            )
        if host in ("0.0.0.0", "::"):  # noqa: S104 - only compared, to print a hint
            write(
                _(
                    "Listening on all interfaces: add this machine's name or address to "
                    "KEFU_ALLOWED_HOSTS (now: %(hosts)s)."
                )
                % {"hosts": ", ".join(settings.ALLOWED_HOSTS)}
            )
        write("")
        self.stdout.flush()


def _display_host(host: str) -> str:
    if host in ("0.0.0.0", "::", ""):  # noqa: S104 - only compared, to print a reachable URL
        return "localhost"
    return f"[{host}]" if ":" in host else host


def _check_port_free(host: str, port: int) -> None:
    """Fail before migrating and loading data when another program holds the port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    probe = socket.socket(family, socket.SOCK_STREAM)
    probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        probe.bind((host, port))
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise CommandError(
                _(
                    "Port %(port)s on %(host)s is already in use; choose another with --port or KEFU_PORT."
                )
                % {"port": port, "host": host}
            ) from None
        raise CommandError(
            _("Cannot listen on %(host)s:%(port)s: %(error)s")
            % {"host": host, "port": port, "error": error.strerror}
        ) from None
    finally:
        probe.close()


def _serve(host: str, port: int, announce: Callable[[], None]) -> None:
    """Serve HTTP in this (main) thread with the worker and tick loop beside it; ``announce``
    runs once the server is listening, so its message ends up below the start-up log.
    """
    import uvicorn

    config = uvicorn.Config(
        "kefu.asgi:application",
        host=host,
        port=port,
        lifespan="off",
        server_header=False,
        log_level="info",
        # uvicorn would otherwise believe X-Forwarded-For from any loopback client; Kefu reads it
        # itself, from KEFU_TRUSTED_PROXIES only (kefu/lib/client_address.py).
        proxy_headers=False,
    )
    server = uvicorn.Server(config)
    worker = make_worker()
    stop = threading.Event()
    threads = [
        threading.Thread(target=run_worker, args=(worker,), name="kefu-worker", daemon=True),
        threading.Thread(
            target=run_tick_loop,
            args=(stop, settings.TICK_INTERVAL_SECONDS),
            name="kefu-tick",
            daemon=True,
        ),
        threading.Thread(
            target=_announce_when_started,
            args=(server, stop, announce),
            name="kefu-announce",
            daemon=True,
        ),
    ]
    # uvicorn catches SIGINT/SIGTERM to shut down gracefully, then re-raises the signal with the
    # handlers it found; no-op handlers let us stop the threads ourselves instead of dying there.
    previous = {sig: signal.signal(sig, lambda *_: None) for sig in (signal.SIGINT, signal.SIGTERM)}
    for thread in threads:
        thread.start()
    try:
        server.run()
    finally:
        worker.running = False
        stop.set()
        for thread in threads:
            thread.join(timeout=SHUTDOWN_WAIT_SECONDS)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _announce_when_started(server, stop: threading.Event, announce: Callable[[], None]) -> None:
    while not server.started:
        if stop.wait(0.1):
            return
    announce()
