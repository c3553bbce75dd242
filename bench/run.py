"""``make bench``: Kefu vs django-helpdesk vs the raw database ceiling, at several sizes.

    .venv/bin/python bench/run.py [--sizes 10000,100000,1000000] [--sqlite-sizes 10000,100000]
                                  [--peer-sizes 10000,100000] [--quick] [--skip ingest,sla,...]

For each size: restore (or seed and cache, bench/cache.py) the seeded databases, start Kefu
(``uvicorn kefu.asgi:application --workers 2``) and, up to ``--peer-sizes``, django-helpdesk
2.6 (same server command, its own virtualenv bench/peers/helpdesk/.venv, its own database on
the same PostgreSQL server), run the same scenarios with the same client (bench/client.py),
then the plain-SQL ceiling (bench/ceiling.py: pgbench / sqlite3 WAL). Once per run: e-mail
ingest (bench/email_ingest.py) and the SLA tick (bench/sla_tick.py). Results are merged into
``var/bench/results.json`` (so a later run of one size adds to an earlier run of the others)
and rendered into docs/benchmarks.md by bench/report.py.

Environment: ``BENCH_PG`` (default postgres://postgres@127.0.0.1:5432, needs CREATE DATABASE),
``BENCH_PORT`` (first of two ports, default 8180), ``BENCH_CACHE`` (default var/bench),
``BENCH_TMP`` (default /tmp/kefu-bench).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import cache  # noqa: E402
import client  # noqa: E402
import data  # noqa: E402
import kefu_env  # noqa: E402
from cache import log  # noqa: E402

SERVER = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
PORT = int(os.environ.get("BENCH_PORT", "8180"))
PEER = HERE / "peers" / "helpdesk"
PEER_PYTHON = PEER / ".venv" / "bin" / "python"
RESULTS = cache.CACHE / "results.json"
CLIENTS = (1, 4, 8)


class Settings:
    skip: set[str] = set()
    create_seconds = 8
    create_runs = 3
    latency_count = 15
    latency_runs = 3


# --- set-up -----------------------------------------------------------------------------------


def ensure_tools(need_peer: bool) -> None:
    if shutil.which("pgbench") is None:
        log("pgbench is missing: installing Debian's postgresql-client")
        subprocess.run(["apt-get", "install", "-y", "postgresql-client"], check=True)  # noqa: S607
    if shutil.which("wrk") is None:
        log("wrk is missing: installing Debian's wrk (the creation scenario's load client)")
        subprocess.run(["apt-get", "install", "-y", "wrk"], check=False)  # noqa: S607
    if need_peer and not PEER_PYTHON.exists():
        log("creating the django-helpdesk virtualenv in bench/peers/helpdesk/.venv")
        subprocess.run([sys.executable, "-m", "venv", str(PEER / ".venv")], check=True)  # noqa: S603
        subprocess.run(  # noqa: S603
            [str(PEER_PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
             "-r", str(PEER / "requirements.txt")],
            check=True,
        )  # fmt: skip


def peer_env(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KEFU_", "DJANGO_"))}
    env.update(PEER_DATABASE_URL=database_url, DJANGO_SETTINGS_MODULE="settings")
    return env


def peer_database(n: int) -> str:
    def seed(url: str) -> None:
        subprocess.run(  # noqa: S603
            [str(PEER_PYTHON), str(PEER / "seed.py"), "seed", str(n)],
            env={**peer_env(url), "PEER_DATABASE_POOL": "0"}, cwd=PEER, check=True,
        )  # fmt: skip

    template = cache.pg_seed(SERVER, "peerbench", n, seed)
    return cache.pg_work_copy(SERVER, template, f"peerbench_run_{n}")


def credentials(command: list[str], env: dict[str, str], cwd: Path) -> dict:
    output = subprocess.run(  # noqa: S603
        command, env={**env, "KEFU_DATABASE_POOL": "0", "PEER_DATABASE_POOL": "0"}, cwd=cwd,
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return json.loads(output.strip().splitlines()[-1])


class Server:
    """``uvicorn <app> --workers 2`` in its own process group."""

    def __init__(self, python: str, app: str, env: dict[str, str], cwd: Path, port: int):
        self.port = port
        self.process = subprocess.Popen(  # noqa: S603
            [python, "-m", "uvicorn", app, "--workers", "2", "--host", "127.0.0.1",
             "--port", str(port), "--no-access-log", "--log-level", "warning"],
            env=env, cwd=cwd, start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                asyncio.run(client.Connection(self.base).request("GET", "/"))
                if len(self.worker_pids()) >= 2:
                    return
            except OSError:
                pass
            if self.process.poll() is not None:
                raise SystemExit(f"the server for {app} exited with {self.process.returncode}")
            time.sleep(0.5)
        self.stop()
        raise SystemExit(f"the server for {app} did not start")

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def worker_pids(self) -> list[int]:
        output = subprocess.run(  # noqa: S603, S607
            ["ps", "-o", "pid=", "--ppid", str(self.process.pid)], capture_output=True, text=True
        ).stdout
        return [int(p) for p in output.split()]

    def worker_rss_mb(self) -> float:
        return max((rss_mb(pid) for pid in self.worker_pids()), default=0.0)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


# --- scenarios --------------------------------------------------------------------------------


def cookie_header(cookies: dict[str, str]) -> str:
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


def kefu_scenarios(creds: dict) -> dict:
    q = urllib.parse.quote

    def page(path: str, expect: bytes | None = None):
        async def action(connection):
            await client.get_ok(connection, path, expect)

        return action

    return {
        "list_open": page("/tickets/?view=open"),
        "list_mine": page("/tickets/?view=mine"),
        "ticket_page": page(f"/tickets/{creds['ticket_id']}/"),
        "search_rare": page(f"/tickets/?view=recent&q={data.RARE_TERM}"),
        "search_common": page(f"/tickets/?view=recent&q={data.COMMON_TERM}"),
        "search_chinese": page(f"/tickets/?view=recent&q={q(data.CHINESE_TERM)}"),
        "search_email": page(f"/tickets/?view=recent&q={q(creds['customer_email'])}"),
    }


def peer_scenarios(creds: dict) -> dict:
    """django-helpdesk renders its list page, then the browser fetches the rows as JSON."""
    q = urllib.parse.quote
    datatables: dict[str, str] = {}
    rows = "draw=1&start=0&length=25&order%5B0%5D%5Bcolumn%5D=5&order%5B0%5D%5Bdir%5D=desc"

    def listing(path: str):
        async def action(connection):
            response = await client.get_ok(connection, path)
            if path not in datatables:
                match = client.DATATABLES_RE.search(response.body)
                if not match:
                    raise client.HttpError(f"no DataTables URL in {path}")
                datatables[path] = f"/datatables_ticket_list/{match.group(1).decode()}?{rows}"
            await client.get_ok(connection, datatables[path])

        return action

    async def ticket(connection):
        await client.get_ok(connection, f"/tickets/{creds['ticket_id']}/")

    everything = "status=1&status=2&status=3&status=4&sort=created&sortreverse=on"
    return {
        "list_open": listing("/tickets/?status=1&status=2&sort=created&sortreverse=on"),
        "list_mine": listing(
            f"/tickets/?status=1&status=2&assigned_to={creds['agent_id']}&sort=created&sortreverse=on"
        ),
        "ticket_page": ticket,
        "search_rare": listing(f"/tickets/?q={data.RARE_TERM}&{everything}"),
        "search_common": listing(f"/tickets/?q={data.COMMON_TERM}&{everything}"),
        "search_chinese": listing(f"/tickets/?q={q(data.CHINESE_TERM)}&{everything}"),
        "search_email": listing(f"/tickets/?q={q(creds['customer_email'])}&{everything}"),
    }


def measure_latencies(server: Server, headers: dict, scenarios: dict) -> dict:
    results = {}
    for name, action in scenarios.items():
        runs = [
            asyncio.run(client.latencies(server.base, headers, action, Settings.latency_count))
            for _ in range(Settings.latency_runs)
        ]
        results[name] = client.summarise(runs)
        log(f"  {name}: p50 {results[name]['p50']:.1f} ms, p95 {results[name]['p95']:.1f} ms")
    return results


def measure_creation(server: Server, headers: dict, make_request) -> dict:
    results = {}
    for clients_ in CLIENTS:
        rates = []
        for _ in range(Settings.create_runs):
            outcome = (
                client.wrk_throughput(
                    server.base, headers, make_request, clients_, Settings.create_seconds
                )
                if shutil.which("wrk")
                else asyncio.run(
                    client.throughput(
                        server.base, headers, make_request, clients_, Settings.create_seconds
                    )
                )
            )
            if outcome["errors"] or not outcome["ok"]:
                log(f"  creation at {clients_} clients: statuses {outcome['statuses']}")
            rates.append(outcome["per_second"])
        rates.sort()
        results[str(clients_)] = rates[len(rates) // 2]
        log(f"  create at {clients_} clients: {results[str(clients_)]:.1f} tickets/s")
    return results


def kefu_create_request(email_pool: int):
    def make(i: int) -> tuple[str, str, bytes]:
        body = {
            "subject": f"打印机开机后黑屏 E{i % 97}",
            "body": ("您好，我们公司的打印机开机后黑屏，请尽快安排工程师上门。" * 6)[:500],
            "customer": {"email": f"customer{i % email_pool}@example{i % email_pool % 97}.com"},
        }
        return "POST", "/api/v1/tickets", json.dumps(body).encode()

    return make


def peer_create_request(queue_id: int, email_pool: int):
    def make(i: int) -> tuple[str, str, bytes]:
        body = {
            "queue": queue_id, "title": f"打印机开机后黑屏 E{i % 97}",
            "description": ("您好，我们公司的打印机开机后黑屏，请尽快安排工程师上门。" * 6)[:500],
            "submitter_email": f"customer{i % email_pool}@example{i % email_pool % 97}.com",
            "priority": 3,
        }  # fmt: skip
        return "POST", "/api/tickets/", json.dumps(body).encode()

    return make


def run_app(label: str, server: Server, creds: dict, scenarios: dict, create, auth: dict) -> dict:
    result: dict = {}
    if "latency" not in Settings.skip:
        log(f"{label}: latency scenarios")
        headers = {"Cookie": cookie_header(creds["cookie"])}
        result["latency"] = measure_latencies(server, headers, scenarios)
    log(f"{label}: ticket creation through the API")
    result["create"] = measure_creation(
        server, {**auth, "Content-Type": "application/json"}, create
    )
    result["web_worker_rss_mb"] = server.worker_rss_mb()
    return result


def kefu_worker_rss(env: dict[str, str], seconds: float = 20) -> float:
    """RSS of ``kefu worker`` after it has run the jobs the creation scenario queued."""
    process = subprocess.Popen(  # noqa: S603
        [kefu_env.PYTHON, str(ROOT / "manage.py"), "worker"], env=env, cwd=ROOT,
        start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    peak = 0.0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and process.poll() is None:
        peak = max(peak, rss_mb(process.pid))
        time.sleep(1)
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(20)
    return peak


def ceiling(env: dict[str, str], vendor: str) -> dict:
    log(f"raw ceiling ({vendor})")
    output = subprocess.run(  # noqa: S603
        [kefu_env.PYTHON, str(HERE / "ceiling.py"), vendor, "--clients",
         ",".join(map(str, CLIENTS)), "--seconds", str(Settings.create_seconds),
         "--runs", str(Settings.create_runs)],
        env={**env, "KEFU_DATABASE_POOL": "0"}, cwd=ROOT, capture_output=True, text=True,
        check=True,
    ).stdout  # fmt: skip
    result = json.loads(output.strip().splitlines()[-1])
    log(f"  ceiling: {result}")
    return result


def size_run(n: int, vendor: str, with_peer: bool, skip: set[str]) -> dict:
    result: dict = {"tickets": n, "vendor": vendor}
    started = time.monotonic()
    if vendor == "pg":
        url = kefu_env.pg_database(SERVER, n)
        env = kefu_env.kefu_env(database_url=url)
    else:
        env = kefu_env.kefu_env(data_dir=kefu_env.sqlite_data_dir(n))
    result["prepare_seconds"] = time.monotonic() - started
    creds = credentials([kefu_env.PYTHON, str(HERE / "kefu_prepare.py")], env, ROOT)
    if "kefu" not in skip:
        server = Server(kefu_env.PYTHON, "kefu.asgi:application", env, ROOT, PORT)
        try:
            contacts, _orgs = data.counts(n)
            result["kefu"] = run_app(
                f"Kefu {vendor} {n:,}", server, creds, kefu_scenarios(creds),
                kefu_create_request(contacts), {"Authorization": f"Bearer {creds['token']}"},
            )  # fmt: skip
        finally:
            server.stop()
    if "worker" not in skip and "kefu" in result:
        result["kefu"]["worker_rss_mb"] = kefu_worker_rss(env)
    if "ceiling" not in skip:
        result["ceiling"] = ceiling(env, "pg" if vendor == "pg" else "sqlite")
    if with_peer and vendor == "pg":
        peer_url = peer_database(n)
        penv = peer_env(peer_url)
        subprocess.run(  # noqa: S603
            [str(PEER_PYTHON), str(PEER / "seed.py"), "migrate"],
            env={**penv, "PEER_DATABASE_POOL": "0"}, cwd=PEER, check=True,
        )  # fmt: skip
        pcreds = credentials([str(PEER_PYTHON), str(PEER / "seed.py"), "credentials"], penv, PEER)
        pcreds["customer_email"] = creds["customer_email"]
        server = Server(str(PEER_PYTHON), "asgi:application", penv, PEER, PORT + 1)
        try:
            contacts, _orgs = data.counts(n)
            result["helpdesk"] = run_app(
                f"django-helpdesk {n:,}", server, pcreds, peer_scenarios(pcreds),
                peer_create_request(pcreds["queue_id"], contacts),
                {"Authorization": f"Token {pcreds['token']}"},
            )  # fmt: skip
        finally:
            server.stop()
    return result


def once_scenarios(skip: set[str], sla_tickets: int) -> dict:
    results: dict = {}
    if "ingest" not in skip:
        log("e-mail ingest (bench/email_ingest.py, PostgreSQL)")
        output = subprocess.run(  # noqa: S603
            [kefu_env.PYTHON, str(HERE / "email_ingest.py"), "--messages", "500",
             "--postgres", SERVER],
            env=kefu_env.kefu_env(), cwd=ROOT, capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        for line in output.splitlines():
            cells = [c.strip() for c in line.strip("|").split("|")]
            if len(cells) >= 6 and cells[0].startswith(("ingest", "parse")):
                results.setdefault("ingest", {})[cells[0]] = {
                    "messages": cells[1], "seconds": cells[2], "per_second": cells[3],
                    "p50": cells[4], "p95": cells[5],
                }  # fmt: skip
        log(f"  {results.get('ingest')}")
    if "sla" not in skip:
        for due in (1_000, 10_000):
            log(f"SLA tick: {due:,} due rows among {sla_tickets:,} open (bench/sla_tick.py)")
            output = subprocess.run(  # noqa: S603
                [kefu_env.PYTHON, str(HERE / "sla_tick.py"), "--postgres", SERVER,
                 "--tickets", str(sla_tickets), "--due", str(due), "--json"],
                env=kefu_env.kefu_env(), cwd=ROOT, capture_output=True, text=True, check=True,
            ).stdout  # fmt: skip
            results.setdefault("sla", []).append(json.loads(output.strip().splitlines()[-1]))
            log(f"  {results['sla'][-1]}")
    return results


def seed_only(sizes: list[int], sqlite_sizes: list[int], peer_sizes: set[int]) -> None:
    """Seed (or restore) and cache every database a run of these sizes needs."""
    for n in sorted(sizes):
        log(f"=== seeding: Kefu pg {n:,} ===")
        kefu_env.pg_database(SERVER, n)
        if n in peer_sizes:
            log(f"=== seeding: django-helpdesk pg {n:,} ===")
            peer_database(n)
    for n in sorted(sqlite_sizes):
        log(f"=== seeding: Kefu sqlite {n:,} ===")
        kefu_env.sqlite_data_dir(n)


def machine() -> dict:
    def first(command: list[str]) -> str:
        try:
            out = subprocess.run(command, capture_output=True, text=True, check=False).stdout  # noqa: S603
            return out.strip().splitlines()[0] if out.strip() else ""
        except OSError:
            return ""

    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")), platform.processor(),
    )  # fmt: skip
    mem = int(Path("/proc/meminfo").read_text().split()[1]) // 1024 // 1024
    pg = cache.server_sql(SERVER, "SELECT version()")[0][0].split(" on ")[0]
    shared = cache.server_sql(SERVER, "SHOW shared_buffers")[0][0]
    return {
        "cpu": f"{os.cpu_count()} × {cpu}", "memory_gb": mem, "kernel": platform.release(),
        "python": platform.python_version(), "postgresql": f"{pg} (shared_buffers {shared})",
        "sqlite": first([kefu_env.PYTHON, "-c", "import sqlite3; print(sqlite3.sqlite_version)"]),
        "helpdesk": first([str(PEER_PYTHON), "-c",
                           "import importlib.metadata as m; print(m.version('django-helpdesk'))"]),
        "loadavg": Path("/proc/loadavg").read_text().split()[:3],
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--sqlite-sizes", default="10000,100000")
    parser.add_argument("--peer-sizes", default="10000,100000")
    parser.add_argument("--skip", default="", help="kefu,latency,ingest,sla,ceiling,worker,peer")
    parser.add_argument("--quick", action="store_true", help="short runs, to try the harness")
    parser.add_argument("--no-report", action="store_true")
    parser.add_argument(
        "--seed-only", action="store_true", help="seed and cache the databases, measure nothing"
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    sqlite_sizes = [int(s) for s in args.sqlite_sizes.split(",") if s]
    peer_sizes = {int(s) for s in args.peer_sizes.split(",") if s}
    skip = set(filter(None, args.skip.split(",")))
    Settings.skip = skip
    if args.quick:
        Settings.create_seconds, Settings.create_runs = 3, 1
        Settings.latency_count, Settings.latency_runs = 5, 1
    ensure_tools(need_peer="peer" not in skip and bool(peer_sizes & set(sizes)))
    if args.seed_only:
        seed_only(sizes, sqlite_sizes, peer_sizes if "peer" not in skip else set())
        return
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results.setdefault("runs", {})
    results["machine"] = machine()
    results["settings"] = {
        "create_seconds": Settings.create_seconds, "create_runs": Settings.create_runs,
        "latency_count": Settings.latency_count, "latency_runs": Settings.latency_runs,
        "seed_version": data.SEED_VERSION,
    }  # fmt: skip

    def save() -> None:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(results, indent=1, ensure_ascii=False))

    plan = [(n, "sqlite") for n in sqlite_sizes] + [(n, "pg") for n in sizes]
    for n, vendor in sorted(plan, key=lambda p: (p[1] != "pg", p[0])):
        log(f"=== {vendor} {n:,} tickets ===")
        # Merged into the earlier result of this size, so a partial rerun (--skip kefu,…)
        # keeps the parts it did not measure again.
        entry = results["runs"].get(f"{vendor}-{n}", {})
        fresh = size_run(n, vendor, "peer" not in skip and n in peer_sizes, skip)
        for app in ("kefu", "helpdesk"):  # one level deeper: keeps e.g. the worker's RSS
            if app in fresh and app in entry:
                fresh[app] = {**entry[app], **fresh[app]}
        entry.update(fresh)
        entry["loadavg"] = Path("/proc/loadavg").read_text().split()[:3]
        entry["finished"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        results["runs"][f"{vendor}-{n}"] = entry
        save()
    once = once_scenarios(skip, 1_000_000 if not args.quick else 100_000)
    results.update(once)
    save()
    if not args.no_report:
        subprocess.run([sys.executable, str(HERE / "report.py")], check=True)  # noqa: S603


if __name__ == "__main__":
    main()
