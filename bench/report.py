"""Render var/bench/results.json (bench/run.py) into docs/benchmarks.md.

Only the part between ``<!-- bench:begin -->`` and ``<!-- bench:end -->`` is rewritten; the rest
of the page (the focused search and e-mail benchmarks, the analysis) is kept as written.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(os.environ.get("BENCH_CACHE", ROOT / "var" / "bench")) / "results.json"
PAGE = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
SCENARIOS = {
    "list_open": "agent list: open tickets, newest first",
    "list_mine": "agent list: my open tickets",
    "ticket_page": "ticket page",
    "search_rare": "search: rare term",
    "search_common": "search: common term",
    "search_chinese": "search: Chinese term",
    "search_email": "search: customer e-mail",
}
GOALS = {
    "create_ceiling": 0.25,
    "create_peer": 5.0,
    "read_peer": 10.0,
    "scaling": 1.5,
    "rss": 200.0,
}


def fmt(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "–"
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def ratio(a: float | None, b: float | None, suffix: str = "×") -> str:
    if not a or not b:
        return "–"
    return f"{a / b:.2f}{suffix}"


def percent(a: float | None, b: float | None) -> str:
    return f"{a / b:.0%}" if a and b else "–"


def size_label(n: int) -> str:
    return f"{n // 1_000_000}M" if n >= 1_000_000 else f"{n // 1000}k"


def render(results: dict) -> str:
    runs = results.get("runs", {})
    m = results.get("machine", {})
    s = results.get("settings", {})
    out: list[str] = []
    w = out.append
    w("## Side by side: Kefu, django-helpdesk and the raw ceiling (`make bench`)")
    w("")
    w(f"Last run: {m.get('date', '?')}. Machine: {m.get('cpu', '?')}, {m.get('memory_gb', '?')} GB "
      f"RAM, Linux {m.get('kernel', '?')}, Python {m.get('python', '?')}, {m.get('postgresql', '?')}, "
      f"SQLite {m.get('sqlite', '?')}, django-helpdesk {m.get('helpdesk', '?')}. Load average when "
      f"the runs finished: " + ", ".join(
          f"{k} {'/'.join(v.get('loadavg', []))}" for k, v in sorted(runs.items())) + ".")  # fmt: skip
    w("")
    w("```sh")
    w(
        "make bench                                   # 10k, 100k, 1M on PostgreSQL; 10k, 100k on SQLite"
    )
    w(
        "make bench BENCH_SIZES=10000,100000          # PostgreSQL sizes (BENCH_SQLITE_SIZES, BENCH_PEER_SIZES)"
    )
    w("make bench BENCH_ARGS=--quick                # short runs, to try the harness")
    w("```")
    w("")
    w(f"Every figure is the median of {s.get('create_runs', '?')} runs: ticket creation (`wrk`) runs "
      f"{s.get('create_seconds', '?')} s per client count after a 1 s warm-up; a latency run is "
      f"{s.get('latency_count', '?')} sequential requests after 2 warm-up requests (at least 5 once "
      f"a run passes 30 s; p50 and p95 of "
      f"each run, then the median over the runs). Seed version {s.get('seed_version', '?')}.")  # fmt: skip
    w("")

    # --- creation ----------------------------------------------------------------------------
    w("### API ticket creation (tickets/s)")
    w("")
    w("| database | tickets | clients | Kefu | raw ceiling | django-helpdesk | Kefu / ceiling | Kefu / django-helpdesk |")  # fmt: skip
    w("|---|---:|---:|---:|---:|---:|---:|---:|")
    for _key, run in sorted(runs.items(), key=lambda kv: (kv[1]["vendor"], kv[1]["tickets"])):
        for c in ("1", "4", "8"):
            kefu = run.get("kefu", {}).get("create", {}).get(c)
            ceiling = run.get("ceiling", {}).get(c)
            peer = run.get("helpdesk", {}).get("create", {}).get(c)
            w(f"| {'PostgreSQL' if run['vendor'] == 'pg' else 'SQLite'} | {size_label(run['tickets'])} "
              f"| {c} | {fmt(kefu)} | {fmt(ceiling)} | {fmt(peer)} | {percent(kefu, ceiling)} "
              f"| {ratio(kefu, peer)} |")  # fmt: skip
    w("")

    # --- latency -----------------------------------------------------------------------------
    pg = {r["tickets"]: r for r in runs.values() if r["vendor"] == "pg"}
    sq = {r["tickets"]: r for r in runs.values() if r["vendor"] == "sqlite"}
    sizes = sorted(pg)
    w("### Agent list, ticket page and search on PostgreSQL (ms, p50 / p95)")
    w("")
    head = ["scenario"] + [f"Kefu {size_label(n)}" for n in sizes]
    peer_sizes = [n for n in sizes if "helpdesk" in pg[n]]
    head += [f"django-helpdesk {size_label(n)}" for n in peer_sizes]
    head += [f"helpdesk / Kefu {size_label(n)}" for n in peer_sizes]
    if len(sizes) > 1:
        head.append(f"Kefu {size_label(sizes[-1])} / {size_label(sizes[0])}")
    w("| " + " | ".join(head) + " |")
    w("|---" + "|---:" * (len(head) - 1) + "|")
    for name, label in SCENARIOS.items():
        row = [label]

        def lat(run: dict, app: str, name=name) -> dict:
            return run.get(app, {}).get("latency", {}).get(name, {})

        for n in sizes:
            x = lat(pg[n], "kefu")
            row.append(f"{fmt(x.get('p50'))} / {fmt(x.get('p95'))}" if x else "–")
        for n in peer_sizes:
            x = lat(pg[n], "helpdesk")
            row.append(f"{fmt(x.get('p50'))} / {fmt(x.get('p95'))}" if x else "–")
        for n in peer_sizes:
            row.append(ratio(lat(pg[n], "helpdesk").get("p50"), lat(pg[n], "kefu").get("p50")))
        if len(sizes) > 1:
            row.append(
                ratio(lat(pg[sizes[-1]], "kefu").get("p50"), lat(pg[sizes[0]], "kefu").get("p50"))
            )
        w("| " + " | ".join(row) + " |")
    w("")
    if sq:
        w("### The same on SQLite (Kefu only; ms, p50 / p95)")
        w("")
        w("| scenario | " + " | ".join(f"Kefu {size_label(n)}" for n in sorted(sq)) + " |")
        w("|---" + "|---:" * len(sq) + "|")
        for name, label in SCENARIOS.items():
            cells = []
            for n in sorted(sq):
                x = sq[n].get("kefu", {}).get("latency", {}).get(name, {})
                cells.append(f"{fmt(x.get('p50'))} / {fmt(x.get('p95'))}" if x else "–")
            w(f"| {label} | " + " | ".join(cells) + " |")
        w("")

    # --- memory ------------------------------------------------------------------------------
    w("### Memory (RSS, MB)")
    w("")
    w("| database | tickets | Kefu web worker | Kefu job worker | django-helpdesk web worker |")
    w("|---|---:|---:|---:|---:|")
    for _key, run in sorted(runs.items(), key=lambda kv: (kv[1]["vendor"], kv[1]["tickets"])):
        k = run.get("kefu", {})
        w(f"| {'PostgreSQL' if run['vendor'] == 'pg' else 'SQLite'} | {size_label(run['tickets'])} | "
          f"{fmt(k.get('web_worker_rss_mb'))} | {fmt(k.get('worker_rss_mb'))} | "
          f"{fmt(run.get('helpdesk', {}).get('web_worker_rss_mb'))} |")  # fmt: skip
    w("")
    w("The web worker figure is the larger of the two uvicorn workers after all scenarios; the job "
      "worker is `kefu worker` on the same database, its peak over 20 s after the creation run "
      "queued its jobs.")  # fmt: skip
    w("")

    # --- ingest and SLA ----------------------------------------------------------------------
    if results.get("ingest"):
        w("### E-mail ingest (bench/email_ingest.py, 500 generated messages, PostgreSQL)")
        w("")
        w("| run | messages | seconds | messages/s | p50 ms | p95 ms |")
        w("|---|---:|---:|---:|---:|---:|")
        for label, x in results["ingest"].items():
            w(
                f"| {label} | {x['messages']} | {x['seconds']} | {x['per_second']} | {x['p50']} | {x['p95']} |"
            )
        w("")
    if results.get("sla"):
        w("### SLA tick (bench/sla_tick.py, PostgreSQL)")
        w("")
        w("| open tickets | due rows | tick seconds | rows/s | claim query p50 / p95 ms |")
        w("|---:|---:|---:|---:|---:|")
        for x in results["sla"]:
            w(f"| {x['tickets']:,} | {x['due']:,} | {x['tick_seconds']:.1f} | "
              f"{x['handled'] / x['tick_seconds']:.0f} | {x['claim_p50_ms']:.2f} / {x['claim_p95_ms']:.2f} |")  # fmt: skip
        w("")

    # --- goals -------------------------------------------------------------------------------
    w("### Goals")
    w("")
    w(goals(pg, results))
    return "\n".join(out)


def goals(pg: dict, results: dict) -> str:
    lines = ["| goal | measured | verdict |", "|---|---|---|"]

    def verdict(ok: bool | None) -> str:
        return "–" if ok is None else ("met" if ok else "**missed**")

    for n, run in sorted(pg.items()):
        kefu = run.get("kefu", {}).get("create", {}).get("4")
        ceiling = run.get("ceiling", {}).get("4")
        peer = run.get("helpdesk", {}).get("create", {}).get("4")
        if kefu and ceiling:
            lines.append(
                f"| API creation ≥ 25 % of the ceiling at 4 clients ({size_label(n)}) | "
                f"{kefu / ceiling:.0%} ({fmt(kefu)} of {fmt(ceiling)}/s) | {verdict(kefu / ceiling >= 0.25)} |"
            )
        if kefu and peer:
            lines.append(
                f"| API creation ≥ 5× django-helpdesk ({size_label(n)}) | {kefu / peer:.2f}× | "
                f"{verdict(kefu / peer >= 5)} |"
            )
    big_peer = max((n for n, r in pg.items() if "helpdesk" in r), default=None)
    if big_peer:
        for name, label in SCENARIOS.items():
            k = pg[big_peer].get("kefu", {}).get("latency", {}).get(name, {}).get("p50")
            p = pg[big_peer].get("helpdesk", {}).get("latency", {}).get(name, {}).get("p50")
            if k and p:
                lines.append(
                    f"| {label} ≥ 10× faster than django-helpdesk ({size_label(big_peer)}) | "
                    f"{p / k:.1f}× | {verdict(p / k >= 10)} |"
                )
    sizes = sorted(pg)
    if len(sizes) > 1 and sizes[-1] >= 1_000_000:
        for name, label in SCENARIOS.items():
            a = pg[sizes[0]].get("kefu", {}).get("latency", {}).get(name, {}).get("p50")
            b = pg[sizes[-1]].get("kefu", {}).get("latency", {}).get(name, {}).get("p50")
            if a and b:
                lines.append(f"| {label}: 1M ≤ 1.5× 10k | {b / a:.2f}× | {verdict(b / a <= 1.5)} |")
    for n, run in sorted(pg.items()):
        rss = run.get("kefu", {}).get("web_worker_rss_mb")
        if rss:
            lines.append(
                f"| web worker ≤ 200 MB ({size_label(n)}) | {rss:.0f} MB | {verdict(rss <= 200)} |"
            )
    sla = results.get("sla") or []
    if len(sla) >= 2:
        per_row = [x["tick_seconds"] / x["due"] * 1000 for x in sla]
        lines.append(
            "| SLA tick cost proportional to due rows | "
            + ", ".join(
                f"{x['due']:,} due: {p:.2f} ms/row" for x, p in zip(sla, per_row, strict=True)
            )
            + f" | {verdict(max(per_row) / min(per_row) <= 1.5)} |"
        )
    return "\n".join(lines)


def main() -> None:
    if not RESULTS.exists():
        sys.exit(f"no results yet: {RESULTS} (run make bench)")
    results = json.loads(RESULTS.read_text())
    text = PAGE.read_text() if PAGE.exists() else "# Benchmarks\n"
    block = f"{BEGIN}\n{render(results)}\n{END}"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        first, _, rest = text.partition("\n")
        text = f"{first}\n\n{block}\n{rest}"
    PAGE.write_text(text)
    print(f"wrote {PAGE}")


if __name__ == "__main__":
    main()
