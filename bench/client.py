"""The one HTTP client of the benchmark: keep-alive HTTP/1.1 on asyncio streams, no dependency.

Used the same way against Kefu and django-helpdesk: ``throughput`` runs C concurrent clients
POSTing for a fixed time (each on its own connection); ``latencies`` times sequential requests
(a "request" may be several HTTP calls, e.g. django-helpdesk's list page plus its DataTables
JSON call, which the browser needs before the agent sees a ticket).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import statistics
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit


class HttpError(Exception):
    pass


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)


class Connection:
    """One keep-alive connection to host:port."""

    def __init__(self, base: str, headers: dict[str, str] | None = None):
        parts = urlsplit(base)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.headers = {"Host": f"{self.host}:{self.port}", "Connection": "keep-alive"}
        self.headers.update(headers or {})
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _connect(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def close(self) -> None:
        if self.writer:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except ConnectionError:
                pass
            self.writer = self.reader = None

    async def request(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> Response:
        for attempt in (1, 2):
            if self.writer is None:
                await self._connect()
            try:
                return await self._request(method, path, body, headers or {})
            except (ConnectionError, asyncio.IncompleteReadError):
                await self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def _request(self, method, path, body, headers) -> Response:
        assert self.writer is not None and self.reader is not None
        lines = [f"{method} {path} HTTP/1.1"]
        for name, value in {**self.headers, **headers, "Content-Length": str(len(body))}.items():
            lines.append(f"{name}: {value}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        await self.writer.drain()
        status_line = await self.reader.readuntil(b"\r\n")
        status = int(status_line.split()[1])
        response_headers: dict[str, str] = {}
        while True:
            line = await self.reader.readuntil(b"\r\n")
            if line == b"\r\n":
                break
            name, _, value = line.decode("latin-1").partition(":")
            response_headers[name.strip().lower()] = value.strip()
        if "content-length" in response_headers:
            data = await self.reader.readexactly(int(response_headers["content-length"]))
        elif response_headers.get("transfer-encoding", "").lower() == "chunked":
            parts = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    await self.reader.readuntil(b"\r\n")
                    break
                parts.append(await self.reader.readexactly(size))
                await self.reader.readexactly(2)
            data = b"".join(parts)
        else:
            data = await self.reader.read()
            await self.close()
        if response_headers.get("connection", "").lower() == "close":
            await self.close()
        return Response(status, response_headers, data)


async def throughput(
    base: str,
    headers: dict[str, str],
    make_request: Callable[[int], tuple[str, str, bytes]],
    clients: int,
    seconds: float,
    warmup: float = 1.0,
) -> dict:
    """C clients, each sending requests back to back; requests/s counted after a warm-up."""
    counter = iter(range(10**9))
    done = 0
    errors = 0
    statuses: dict[int, int] = {}
    started = time.monotonic()
    measure_from = started + warmup
    stop_at = measure_from + seconds

    async def one_client() -> None:
        nonlocal done, errors
        connection = Connection(base, headers)
        try:
            while time.monotonic() < stop_at:
                method, path, body = make_request(next(counter))
                response = await connection.request(method, path, body)
                statuses[response.status] = statuses.get(response.status, 0) + 1
                if time.monotonic() >= measure_from:
                    if 200 <= response.status < 300:
                        done += 1
                    else:
                        errors += 1
        finally:
            await connection.close()

    await asyncio.gather(*(one_client() for _ in range(clients)))
    return {"per_second": done / seconds, "ok": done, "errors": errors, "statuses": statuses}


def wrk_throughput(
    base: str,
    headers: dict[str, str],
    make_request: Callable[[int], tuple[str, str, bytes]],
    clients: int,
    seconds: float,
    variants: int = 2000,
) -> dict:
    """The same measurement with Debian's ``wrk`` (written in C; ``-t min(clients, 2)``): the
    load client then takes little CPU from the server it measures, and its connections spread
    over the server's workers (this asyncio client's, opened at once, often all land on one).
    The requests cycle through ``variants`` bodies made by ``make_request``; a 1 s warm-up run
    comes first. A request may take 30 s (wrk's default, 2 s, counts SQLite's writers waiting
    for the write lock under its 20 s busy timeout as errors)."""

    def lua(text: str) -> str:
        return "[==[" + text + "]==]"

    lines = [f"wrk.headers[ {lua(k)} ] = {lua(v)}" for k, v in headers.items()]
    # Formatted in init(), after wrk has set the Host header (h11 refuses a request without).
    lines += ["local specs = {}", "requests = {}"]
    for i in range(variants):
        method, path, body = make_request(i)
        lines.append(f"specs[{i + 1}] = {{{lua(method)}, {lua(path)}, {lua(body.decode())}}}")
    lines += [
        "function init(args)",
        "  for i, r in ipairs(specs) do requests[i] = wrk.format(r[1], r[2], nil, r[3]) end",
        "end",
        "local n = 0",
        "function request() n = n % #requests + 1; return requests[n] end",
        "function done(summary, latency, requests)",
        '  io.write(string.format("WRK %d %d %d %d\\n", summary.requests, summary.duration,',
        "    summary.errors.status, summary.errors.connect + summary.errors.read"
        " + summary.errors.write + summary.errors.timeout))",
        "end",
    ]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write("\n".join(lines) + "\n")
    try:
        threads = str(min(clients, 2))

        def run(duration: float) -> list[int]:
            output = subprocess.run(  # noqa: S603, S607
                ["wrk", "-t", threads, "-c", str(clients), "-d", f"{duration:g}s",
                 "--timeout", "30s", "-s", script.name, base],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            line = next((x for x in output.stdout.splitlines() if x.startswith("WRK ")), None)
            if line is None:
                raise RuntimeError(f"wrk printed no summary: {output.stderr[-500:]}")
            return [int(x) for x in line.split()[1:]]

        run(1)
        total, micros, bad_status, socket_errors = run(seconds)
    finally:
        os.unlink(script.name)
    ok = total - bad_status
    return {
        "per_second": ok / (micros / 1e6),
        "ok": ok,
        "errors": bad_status + socket_errors,
        "statuses": {"non-2xx": bad_status} if bad_status else {},
        "client": "wrk",
    }


async def latencies(
    base: str,
    headers: dict[str, str],
    action: Callable[[Connection], Awaitable[None]],
    count: int,
    warmup: int = 2,
    budget: float = 30.0,
) -> list[float]:
    """Milliseconds of ``count`` sequential runs of ``action`` on one connection (fewer, but at
    least 5, when they take longer than ``budget`` seconds: a multi-second search)."""
    connection = Connection(base, headers)
    timings: list[float] = []
    started = time.monotonic()
    try:
        for i in range(count + warmup):
            began = time.perf_counter()
            await action(connection)
            if i >= warmup:
                timings.append((time.perf_counter() - began) * 1000)
            if len(timings) >= 5 and time.monotonic() - started > budget:
                break
    finally:
        await connection.close()
    return timings


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def summarise(runs: list[list[float]]) -> dict:
    """Median over repeated runs of each run's p50 and p95."""
    return {
        "p50": statistics.median(statistics.median(r) for r in runs),
        "p95": statistics.median(percentile(r, 0.95) for r in runs),
        "samples": sum(len(r) for r in runs),
    }


async def get_ok(connection: Connection, path: str, expect: bytes | None = None) -> Response:
    response = await connection.request("GET", path)
    if response.status != 200:
        raise HttpError(f"GET {path}: {response.status} {response.body[:300]!r}")
    if expect is not None and expect not in response.body:
        raise HttpError(f"GET {path}: {expect!r} not in the page")
    return response


DATATABLES_RE = re.compile(rb"datatables_ticket_list/([A-Za-z0-9_=\-]+)")
