"""Benchmark 1: throughput and latency (wrk) of the stub, the bare-Starlette ceiling and Prism.

One run: start the stub (`waldur-mock serve --orders N`), plan the scenarios against it and
capture its response bytes; start the stub with response validation on (when the default is
off), a bare Starlette app serving the captured bytes on the same uvicorn settings, and Prism
static and dynamic on our spec (dashed UUIDs in paths). Then, scenario by scenario, interleaved
wrk rounds over all of them (best round kept). Servers on one core, wrk on the other (taskset),
loopback only, every server killed at the end.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks import ceiling, procs, stub, wrk
from benchmarks.ceiling import Capture
from mockserver.spec import load_spec

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "openapi" / "marketplace-orders.yaml"

STUB = "stub"  # `waldur-mock serve` as users run it
STUB_VALIDATED = "stub+resp-validation"  # when `serve` does not validate by default
STUB_UNVALIDATED = "stub --no-validate-responses"  # when it does
STUB_DURABLE = "stub --state-file"  # the cost of durability (journal of every change)
STUB_COMPUTED = "stub --no-answer-memo"  # every GET computed, none remembered
STUB_FLOOR = "stub, create canned"  # create's domain work replaced by a replay (benchmarks.floor)
CREATE = "POST create"
CEILING = "starlette ceiling"
PRISM_STATIC = "prism static"
PRISM_DYNAMIC = "prism dynamic"


@dataclass
class Options:
    orders: int = 10_000
    duration: float = 2.0
    rounds: int = 2
    connections: int = 8
    wrk_path: str = "wrk"
    prism_path: str | None = None
    workdir: Path = ROOT / "reports" / "bench"


@dataclass
class Result:
    scenarios: list[str]
    results: dict[str, dict[str, wrk.WrkResult]] = field(default_factory=dict)
    cold_start: dict[str, float] = field(default_factory=dict)
    validated: str = STUB  # the stub column the targets are judged on
    notes: list[str] = field(default_factory=list)


def capture(port: int, plan: stub.Plan) -> list[Capture]:
    """The stub's response to one request of each scenario, byte for byte."""
    out = []
    for sc in plan.scenarios:
        body = sc.body.encode() if sc.body is not None else None
        resp = procs.request(port, sc.method, sc.path, plan.headers, body)
        if resp.status != sc.expect:
            raise RuntimeError(f"capture {sc.name}: {resp.status} {resp.body[:300]!r}")
        path, query = sc.split
        out.append(Capture(sc.method, path, query, resp.status, resp.headers, resp.body))
    return out


@dataclass
class Target:
    name: str
    server: procs.Server
    scenarios: Sequence[stub.Scenario | None]  # None: this target skips that scenario


def measure(
    targets: Sequence[Target], headers: dict[str, str], opts: Options, cpu: int | None
) -> dict[str, dict[str, wrk.WrkResult]]:
    """For each scenario (GETs before POSTs, so creates do not grow the store under the
    lists), `rounds` interleaved wrk runs per target; the best run (highest req/s) is kept:
    interleaving spreads the noise of a shared machine evenly over the targets. Before each run
    every server is left to go idle (`procs.settle`): a server still busy with the previous run
    (Prism above all) would otherwise slow the next target down, always the same one."""
    out: dict[str, dict[str, wrk.WrkResult]] = {t.name: {} for t in targets}
    sessions = [t.server.pid for t in targets]
    settled = 0.0
    for t in targets:  # 1 s warm-up each (JITs, caches, first-request work)
        sc = next(s for s in t.scenarios if s is not None)
        wrk.run(f"http://{procs.HOST}:{t.server.port}{sc.path}",
                wrk.lua_script(sc.method, headers, sc.body), duration=1,
                connections=opts.connections, cpu=cpu, wrk=opts.wrk_path)
    for i in range(len(targets[0].scenarios)):
        for _ in range(opts.rounds):
            for t in targets:
                sc = t.scenarios[i]
                if sc is None:
                    continue
                settled += procs.settle(sessions)
                result, _raw = wrk.run(
                    f"http://{procs.HOST}:{t.server.port}{sc.path}",
                    wrk.lua_script(sc.method, headers, sc.body),
                    duration=opts.duration, connections=opts.connections, cpu=cpu,
                    wrk=opts.wrk_path)
                best = out[t.name].get(sc.name)
                if best is None or result.rps > best.rps:
                    out[t.name][sc.name] = result
        name = targets[0].scenarios[i].name
        print(f"  {name:<28}" + "".join(
            f" {t.name} {out[t.name][name].rps:,.0f}/s" for t in targets if name in out[t.name]),
            flush=True)
    print(f"  (waited {settled:.1f} s in all for the servers to go idle between runs)", flush=True)
    return out


def floor_available() -> bool:
    """The floor column needs this checkout's stub (it patches its create handler)."""
    try:
        from mockserver.orders import responses
    except ImportError:
        return False
    return hasattr(responses, "marketplace_orders_create")


def second_stub() -> tuple[str, str, bool] | None:
    """The other stub column: (its name, the flag, whether it is the validating one), or None
    when `serve` has no such flag. The targets are judged on the stub that validates responses:
    the default one when `serve` validates by default, else the one started with the flag."""
    from mockserver.settings import Settings

    if Settings().validate_responses:
        flag, name, validating = "--no-validate-responses", STUB_UNVALIDATED, False
    else:
        flag, name, validating = "--validate-responses", STUB_VALIDATED, True
    return (name, flag, validating) if flag in stub.serve_help() else None


def run(opts: Options) -> Result:
    """Start every server (one after the other: cold starts are not disturbed), then load them
    in interleaved rounds; every server is stopped on the way out, error or not."""
    opts.workdir.mkdir(parents=True, exist_ok=True)
    scpu, lcpu = procs.pinning()
    token = stub.token()
    other = second_stub()
    res = Result(scenarios=[])
    targets: list[Target] = []

    with ExitStack() as stack:

        def start(name: str, argv: list[str], port: int, headers: dict[str, str]) -> procs.Server:
            print(f"[start {name}]", flush=True)
            log = opts.workdir / f"{name.replace(' ', '-').replace('+', '-')}.log"
            server = stack.enter_context(
                procs.Server(argv, port, stub.LIST, headers, cpu=scpu, log=log,
                             start_timeout=300))
            res.cold_start[name] = server.cold_start_s
            return server

        port = procs.free_port()
        s = start(STUB, stub.serve_argv(port, opts.orders), port, stub.auth(token))
        plan = stub.plan(s.port, token)
        res.notes += plan.notes
        res.scenarios = [sc.name for sc in plan.scenarios]
        captures = capture(s.port, plan)
        targets.append(Target(STUB, s, plan.scenarios))
        if other is not None:
            name, flag, validating = other
            port = procs.free_port()
            argv = stub.serve_argv(port, opts.orders, extra=(flag,))
            targets.append(Target(name, start(name, argv, port, stub.auth(token)),
                                  plan.scenarios))
            if validating:
                res.validated = name
            else:
                res.notes.append("`waldur-mock serve` validates responses by default: the "
                                 "targets are judged on the `stub` column")
        else:
            res.notes.append("no response-validation flag on `waldur-mock serve`: stub as is")
        if "--state-file" in stub.serve_help():
            state = opts.workdir / "durable-state.json"
            for leftover in (state, state.with_name(state.name + ".journal")):
                leftover.unlink(missing_ok=True)
            port = procs.free_port()
            argv = stub.serve_argv(port, opts.orders, extra=("--state-file", str(state)))
            targets.append(Target(STUB_DURABLE, start(STUB_DURABLE, argv, port,
                                                      stub.auth(token)), plan.scenarios))
            res.notes.append("`stub --state-file`: every accepted change journaled and "
                             "fsync'ed within 0.05 s (the cost of durability)")

        computed = stub.without_answer_memo()
        if computed:
            port = procs.free_port()
            argv = stub.serve_argv(port, opts.orders, extra=computed)
            targets.append(Target(STUB_COMPUTED, start(STUB_COMPUTED, argv, port,
                                                       stub.auth(token)), plan.scenarios))
            res.notes.append("`stub --no-answer-memo`: every GET computed (the `stub` column "
                             "answers a repeated GET from memory until the next write)")

        if any(sc.name == CREATE for sc in plan.scenarios) and floor_available():
            port = procs.free_port()
            argv = [sys.executable, "-m", "benchmarks.floor", *stub.serve_args(port, opts.orders)]
            only_create = [sc if sc.name == CREATE else None for sc in plan.scenarios]
            targets.append(Target(STUB_FLOOR, start(STUB_FLOOR, argv, port, stub.auth(token)),
                                  only_create))
            res.notes.append(f"`{STUB_FLOOR}`: `serve` with the create handler's work replaced "
                             "by a replay of its first answer (benchmarks/floor.py): what a "
                             "create costs apart from its domain work")

        cap_file = opts.workdir / "captures.json"
        ceiling.save(captures, cap_file)
        port = procs.free_port()
        argv = [sys.executable, "-m", "benchmarks.ceiling", str(cap_file), "--port", str(port)]
        targets.append(Target(CEILING, start(CEILING, argv, port, {}), plan.scenarios))

        if opts.prism_path is None:
            res.notes.append("Prism not available: its columns are skipped")
        else:
            dashed = [sc.dashed() for sc in plan.scenarios]
            served = opts.workdir / "served-spec.json"  # every area, as the stub serves it
            served.write_text(json.dumps(load_spec()), encoding="utf-8")
            for name, dynamic in ((PRISM_STATIC, False), (PRISM_DYNAMIC, True)):
                port = procs.free_port()
                argv = [opts.prism_path, "mock", "-h", procs.HOST, "-p", str(port),
                        *(["-d"] if dynamic else []), str(served)]
                targets.append(Target(name, start(name, argv, port, stub.auth(token)), dashed))
            res.notes.append("Prism gets dashed UUIDs in paths (it answers 422 to 32 hex digits)")

        res.results = measure(targets, plan.headers, opts, lcpu)
    return res


def _fmt_rps(r: wrk.WrkResult | None) -> str:
    if r is None:
        return "-"
    return f"{r.rps:,.0f}" + ("" if r.ok else f" ({r.non_2xx + r.socket_errors} err)")


def _fmt_lat(r: wrk.WrkResult | None) -> str:
    return "-" if r is None else f"{r.p50_ms:.2f} / {r.p99_ms:.2f}"


def _ratio(a: wrk.WrkResult | None, b: wrk.WrkResult | None) -> str:
    if a is None or b is None or b.rps == 0:
        return "-"
    return f"{a.rps / b.rps:.2f}"


def create_budget(res: Result, need: float = 0.40) -> str | None:
    """Where a served create's time goes, from the floor column: the server is pinned to one
    core and saturated, so 10^6 / req/s is its time per request in µs. The stub's HTTP side is
    floor - ceiling, its domain work stub - floor; `need` x the ceiling leaves
    1/(need * ceiling) - 1/ceiling for both together."""
    got = [res.results.get(t, {}).get(CREATE) for t in (res.validated, STUB_FLOOR, CEILING)]
    if any(r is None or r.rps <= 0 for r in got):
        return None
    stub_us, floor_us, ceiling_us = (1e6 / r.rps for r in got)  # type: ignore[union-attr]
    budget = ceiling_us / need - ceiling_us
    return (f"A served create, in µs of the server's core per request (10^6 / req/s): the "
            f"ceiling {ceiling_us:.0f}; the stub's HTTP side {floor_us - ceiling_us:.0f} "
            f"(`{STUB_FLOOR}` - ceiling); its domain work {stub_us - floor_us:.0f} "
            f"(`{res.validated}` - `{STUB_FLOOR}`). {need:g}x the ceiling leaves "
            f"{budget:.0f} µs above the ceiling for both together.")


def tables(res: Result) -> tuple[list[list[str]], list[list[str]]]:
    """(req/s with the target ratios, p50 / p99 latency in ms)."""
    targets = list(res.results)
    judged = res.validated
    rps = [["scenario", *targets, f"{judged} / ceiling", f"{judged} / prism static"]]
    lat = [["p50 / p99 ms", *targets]]
    for sc in res.scenarios:
        row = {t: res.results[t].get(sc) for t in targets}
        rps.append([
            sc,
            *(_fmt_rps(row[t]) for t in targets),
            _ratio(row.get(judged), row.get(CEILING)),
            _ratio(row.get(judged), row.get(PRISM_STATIC)),
        ])
        lat.append([sc, *(_fmt_lat(row[t]) for t in targets)])
    return rps, lat
