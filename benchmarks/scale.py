"""Benchmark 2: how the stub scales with the number of orders in its store.

One stub per size, all started one after the other and loaded in interleaved rounds. For each
size: cold start (process spawn -> first 200 on GET list), resident memory
(/proc/<pid>/status VmRSS after the load, VmHWM = peak), and wrk on GET list (default page),
GET list with a filter that matches few orders (`resource_uuid=`: the orders of one resource)
and GET retrieve. Ratios against the smallest size, measured in the same run.
"""

from __future__ import annotations

import json
import statistics
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks import procs, stub, wrk

ROOT = Path(__file__).resolve().parent.parent
SIZES = (1_000, 10_000, 100_000)


@dataclass
class Options:
    sizes: tuple[int, ...] = SIZES
    duration: float = 2.0
    rounds: int = 2
    connections: int = 8
    wrk_path: str | None = "wrk"  # None: only cold start and memory
    spawns: int = 5  # extra cold starts per size (started and stopped alone): the median
    workdir: Path = ROOT / "reports" / "bench"


@dataclass
class Row:
    orders: int
    total: int  # X-Result-Count of the staff list (fixture orders included)
    cold_start_s: float
    rss_mb: float
    peak_mb: float
    rare_filter: str = ""
    rare_matches: int = 0
    results: dict[str, wrk.WrkResult] = field(default_factory=dict)
    cold_start_median_s: float = float("nan")  # of `Options.spawns` more spawns
    cold_starts: list[float] = field(default_factory=list)
    cold_start_cpu_median_s: float = float("nan")  # processor time of the same spawns


def status_mb(pid: int, key: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def _count(port: int, query: str, headers: dict[str, str]) -> int:
    resp = procs.request(port, "GET", f"{stub.LIST}?{query}page_size=1", headers)
    if resp.status != 200:
        raise RuntimeError(f"GET ?{query}: {resp.status} {resp.body[:200]!r}")
    count = resp.header("X-Result-Count")
    return int(count) if count is not None else len(json.loads(resp.body))


def few_filter(port: int, headers: dict[str, str], page: list[dict[str, Any]]) -> str:
    """A filter matching few orders: the orders of one marketplace resource (indexed in the
    backend), else the rarest state."""
    for order in page:
        if order.get("marketplace_resource_uuid"):
            return f"resource_uuid={order['marketplace_resource_uuid']}"
    counts = {st: _count(port, f"state={st}&", headers) for st in stub.STATES}
    present = {st: c for st, c in counts.items() if c > 0}
    return "state=" + min(present, key=lambda st: (present[st], st))


def spawn_cold_starts(n: int, headers: dict[str, str], count: int, cpu: int | None,
                      workdir: Path) -> list[tuple[float, float]]:
    """`count` spawns of the stub with `n` orders, one at a time (nothing else of ours
    running), each stopped once it answered its first 200: their cold starts (wall, CPU)."""
    out = []
    for _ in range(count):
        port = procs.free_port()
        with procs.Server(stub.serve_argv(port, n), port, stub.LIST, headers, cpu=cpu,
                          log=workdir / f"spawn-{n}.log", start_timeout=600) as s:
            out.append((s.cold_start_s, s.cold_start_cpu_s))
    return out


def run(opts: Options) -> list[Row]:
    """Start one stub per size, one after the other (each cold start undisturbed), then load
    them in interleaved rounds (best round kept); memory is read after the load."""
    opts.workdir.mkdir(parents=True, exist_ok=True)
    scpu, lcpu = procs.pinning()
    headers = stub.auth(stub.token())
    rows: list[Row] = []
    paths: list[dict[str, str]] = []
    medians: dict[int, list[tuple[float, float]]] = {}
    for n in opts.sizes:  # before any server of this part runs: undisturbed
        if opts.spawns:
            print(f"[{opts.spawns} cold starts with {n:,} orders]", flush=True)
            medians[n] = spawn_cold_starts(n, headers, opts.spawns, scpu, opts.workdir)
            print("  " + ", ".join(f"{t:.2f}" for t, _ in medians[n]) + " s (CPU "
                  + ", ".join(f"{c:.2f}" for _, c in medians[n]) + " s)", flush=True)
    with ExitStack() as stack:
        servers = []
        for n in opts.sizes:
            port = procs.free_port()
            print(f"[start stub with {n:,} orders]", flush=True)
            s = stack.enter_context(procs.Server(  # every GET computed: how the store scales
                stub.serve_argv(port, n, extra=stub.without_answer_memo()), port, stub.LIST,
                headers, cpu=scpu,
                log=opts.workdir / f"scale-{n}.log", start_timeout=600))
            servers.append(s)
            row = Row(n, _count(port, "", headers), s.cold_start_s, s.rss_mb(),
                      status_mb(s.pid, "VmHWM"))
            page = json.loads(procs.request(port, "GET", stub.LIST, headers).body)
            row.rare_filter = few_filter(port, headers, page)
            row.rare_matches = _count(port, row.rare_filter + "&", headers)
            paths.append({
                "GET list": stub.LIST,
                "GET list (few match)": f"{stub.LIST}?{row.rare_filter}",
                "GET retrieve": f"{stub.LIST}{page[0]['uuid']}/",
            })
            if medians.get(n):
                row.cold_starts = [t for t, _ in medians[n]]
                row.cold_start_median_s = statistics.median(row.cold_starts)
                row.cold_start_cpu_median_s = statistics.median(c for _, c in medians[n])
            rows.append(row)
            print(f"  cold start {row.cold_start_s:.2f} s, RSS {row.rss_mb:.0f} MiB, "
                  f"{row.total:,} orders visible", flush=True)
        if opts.wrk_path:
            script = wrk.lua_script("GET", headers)
            for s, p in zip(servers, paths, strict=True):
                wrk.run(f"http://{procs.HOST}:{s.port}{p['GET list']}", script, duration=1,
                        connections=opts.connections, cpu=lcpu, wrk=opts.wrk_path)
            for name in paths[0]:
                for _ in range(opts.rounds):
                    for s, p, row in zip(servers, paths, rows, strict=True):
                        result, _raw = wrk.run(
                            f"http://{procs.HOST}:{s.port}{p[name]}", script,
                            duration=opts.duration, connections=opts.connections, cpu=lcpu,
                            wrk=opts.wrk_path)
                        best = row.results.get(name)
                        if best is None or result.rps > best.rps:
                            row.results[name] = result
                print(f"  {name:<22}" + "".join(
                    f" {r.orders:,}: p50 {r.results[name].p50_ms:.2f} ms" for r in rows),
                    flush=True)
        for s, row in zip(servers, rows, strict=True):
            row.rss_mb = s.rss_mb()
            row.peak_mb = status_mb(s.pid, "VmHWM")
    return rows


def tables(rows: list[Row]) -> tuple[list[list[str]], list[list[str]]]:
    """(latency per size with ratios to the smallest, cold start and memory per size)."""
    base = rows[0]
    names = list(base.results)
    lat = [["orders", *(f"{n} p50 / p99 ms" for n in names), *(f"{n} p50 x{base.orders}"
                                                            for n in names)]]
    for r in rows:
        cells = []
        ratios = []
        for n in names:
            res = r.results.get(n)
            cells.append("-" if res is None else f"{res.p50_ms:.2f} / {res.p99_ms:.2f}")
            b = base.results.get(n)
            ratios.append("-" if res is None or b is None else f"{res.p50_ms / b.p50_ms:.2f}")
        lat.append([f"{r.orders:,}", *cells, *ratios])
    mem = [["orders", "orders visible", "cold start s (one-shot)", "cold start s (median)",
            "VmRSS MiB", "VmHWM MiB", "few-match filter", "cold start CPU s (median)"]]
    for r in rows:
        median, cpu = r.cold_start_median_s, r.cold_start_cpu_median_s
        mem.append([
            f"{r.orders:,}",
            f"{r.total:,}",
            f"{r.cold_start_s:.2f}",
            "-" if median != median else f"{median:.2f} (of {len(r.cold_starts)})",
            f"{r.rss_mb:.0f}",
            f"{r.peak_mb:.0f}",
            f"?{r.rare_filter} ({r.rare_matches:,} match)",
            "-" if cpu != cpu else f"{cpu:.2f}",
        ])
    return lat, mem
