"""`python -m benchmarks` (what `make bench` runs): every benchmark, tables, target verdicts.

    python -m benchmarks --setup --write-docs            # everything, as `make bench`
    python -m benchmarks --only throughput --duration 2  # one part, shorter runs
"""

from __future__ import annotations

import argparse
import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from benchmarks import connexion_cost, contract, report, scale, throughput, tools

ROOT = Path(__file__).resolve().parent.parent
PARTS = ("throughput", "scale", "contract", "connexion")


@dataclass(frozen=True)
class Verdict:
    target: str
    measured: str
    met: bool | None  # None: not measured


def _sizes(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in text.split(",") if x.strip())


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--setup", action="store_true", help="install wrk (apt, root) and Prism (npm)")
    p.add_argument("--only", default=",".join(PARTS), help=f"comma-separated subset of {PARTS}")
    p.add_argument("--duration", type=float, default=2.0, help="seconds of load per wrk run")
    p.add_argument("--rounds", type=int, default=2,
                   help="interleaved wrk runs per target and scenario (the best is kept)")
    p.add_argument("--connections", type=int, default=8)
    p.add_argument("--orders", type=int, default=10_000, help="orders for the throughput part")
    p.add_argument("--sizes", type=_sizes, default=scale.SIZES, help="orders per scale step")
    p.add_argument("--spawns", type=int, default=5,
                   help="extra cold starts per scale size (their median is the judged figure)")
    p.add_argument("--contract-timeout", type=float, default=900.0)
    p.add_argument("--out", type=Path, default=ROOT / "reports" / "bench")
    p.add_argument("--write-docs", action="store_true",
                   help="replace the results section of docs/performance.md")
    return p.parse_args(argv)


def _r(res: throughput.Result, target: str, scenario: str) -> Any:
    return res.results.get(target, {}).get(scenario)


MIB = 1024 * 1024  # scale.Row.rss_mb is in MiB (/proc kB / 1024); the target is in MB


def verdicts(
    tp: throughput.Result | None, sc: list[scale.Row] | None, orders: int = 10_000
) -> list[Verdict]:
    out: list[Verdict] = []
    if tp is not None:
        judged = tp.validated
        writes = [s for s in tp.scenarios if s.startswith("POST")]
        for scenario in ("GET list", "GET retrieve", *writes):
            stub_r = _r(tp, judged, scenario)
            read = scenario.startswith("GET")
            for base, need, label in ((throughput.PRISM_STATIC, 6.0 if read else 4.0,
                                       "x Prism static"),
                                      (throughput.CEILING, 0.60 if read else 0.40,
                                       "x Starlette ceiling")):
                other = _r(tp, base, scenario)
                if stub_r is None or other is None:
                    out.append(Verdict(f"{scenario}: >= {need:g} {label}", "not measured", None))
                    continue
                ratio = stub_r.rps / other.rps
                out.append(Verdict(f"{scenario} ({judged}): >= {need:g} {label}",
                                   f"{ratio:.2f}", ratio >= need))
        for scenario in tp.scenarios:
            if scenario.startswith(("GET ", "HEAD ")) and scenario not in (
                    "GET list", "GET retrieve") and "?" not in scenario:
                # issue 14: the neighbourhood's reads meet the same targets as the orders' reads
                stub_r = _r(tp, judged, scenario)
                for base, need, label in ((throughput.PRISM_STATIC, 6.0, "x Prism static"),
                                          (throughput.CEILING, 0.60, "x Starlette ceiling")):
                    other = _r(tp, base, scenario)
                    if stub_r is None or other is None:
                        out.append(Verdict(f"{scenario}: >= {need:g} {label}", "not measured",
                                           None))
                        continue
                    ratio = stub_r.rps / other.rps
                    out.append(Verdict(f"{scenario} ({judged}): >= {need:g} {label}",
                                       f"{ratio:.2f}", ratio >= need))
        cold = tp.cold_start.get(throughput.STUB)
        if cold is not None and not any(r.orders == orders for r in sc or ()):
            out.append(Verdict(f"cold start with {orders:,} orders < 0.5 s (one-shot)",
                               f"{cold:.2f} s", cold < 0.5))
    if sc:
        first, last = sc[0], sc[-1]
        a, b = first.results.get("GET list"), last.results.get("GET list")
        if a is not None and b is not None:
            ratio = b.p50_ms / a.p50_ms
            out.append(Verdict(f"list p50 at {last.orders:,} within 1.5x of {first.orders:,}",
                               f"{ratio:.2f}x", ratio <= 1.5))
        megabytes = last.rss_mb * MIB / 1e6
        out.append(Verdict(f"VmRSS at {last.orders:,} orders < 300 MB",
                           f"{last.rss_mb:.0f} MiB = {megabytes:.0f} MB", megabytes < 300))
        for row in sc:
            limit = {10_000: 0.5, 100_000: 2.0}.get(row.orders)
            if limit is None:
                continue
            median = row.cold_start_median_s
            judged = row.cold_start_s if median != median else median
            out.append(Verdict(
                f"cold start with {row.orders:,} orders < {limit:g} s (median of spawns)",
                f"{judged:.2f} s (one-shot {row.cold_start_s:.2f} s)", judged < limit))
    return out


def _section(title: str, *blocks: str) -> str:
    return f"### {title}\n\n" + "\n\n".join(b for b in blocks if b) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    parts = {x.strip() for x in args.only.split(",") if x.strip()}
    unknown = parts - set(PARTS)
    if unknown:
        raise SystemExit(f"unknown parts {sorted(unknown)}; choose from {PARTS}")
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    wrk_tool = tools.wrk(install=args.setup)
    prism_tool = tools.prism(install=args.setup)
    notes = [t.note for t in (wrk_tool, prism_tool) if t.note]
    for n in notes:
        print("NOTE:", n)
    info = report.machine({
        "wrk": tools.version([wrk_tool.path, "-v"]) if wrk_tool.path else "absent",
        "prism": tools.version([prism_tool.path, "--version"]) if prism_tool.path else "absent",
        "date": started,
    })
    sections = [_section("Machine", report.machine_table(info))]
    raw: dict[str, Any] = {"machine": info}
    tp: throughput.Result | None = None
    sc: list[scale.Row] | None = None

    if "throughput" in parts and wrk_tool.path:
        tp = throughput.run(throughput.Options(
            orders=args.orders, duration=args.duration, rounds=args.rounds,
            connections=args.connections,
            wrk_path=wrk_tool.path, prism_path=prism_tool.path, workdir=args.out))
        rps, lat = throughput.tables(tp)
        notes += tp.notes
        cold = ", ".join(f"{k} {v:.2f} s" for k, v in tp.cold_start.items())
        sections.append(_section(
            f"1. Throughput and latency ({args.orders:,} generated orders, best of "
            f"{args.rounds} interleaved {args.duration:g} s wrk runs, {args.connections} "
            "connections)",
            "Requests per second (higher is better; `err` = non-2xx or socket errors):",
            report.markdown_table(rps), "Latency p50 / p99 in ms:", report.markdown_table(lat),
            f"Cold start (spawn to first 200): {cold}.", throughput.create_budget(tp) or ""))
        raw["throughput"] = asdict(tp)
    elif "throughput" in parts:
        notes.append("throughput skipped: wrk is missing")

    if "scale" in parts:
        sc = scale.run(scale.Options(sizes=args.sizes, duration=args.duration,
                                     rounds=args.rounds, connections=args.connections,
                                     wrk_path=wrk_tool.path, workdir=args.out,
                                     spawns=args.spawns))
        lat, mem = scale.tables(sc)
        sections.append(_section(
            f"2. Scale (best of {args.rounds} interleaved {args.duration:g} s wrk runs)",
            report.markdown_table(lat), report.markdown_table(mem)))
        raw["scale"] = [asdict(r) for r in sc]

    if "contract" in parts:
        rows = contract.run(timeout=args.contract_timeout, logs=args.out)
        if isinstance(rows, str):
            notes.append(rows)
        else:
            sections.append(_section("3. Contract run (in-process stub, `--seed 1`)",
                                     report.markdown_table(contract.table(rows))))
            raw["contract"] = [asdict(r) for r in rows]

    if "connexion" in parts:
        cost = connexion_cost.run()
        stub_cost = connexion_cost.stub_rows(orders=args.orders)
        sections.append(_section(
            "4. Connexion's cost per request on our spec (in-process, no sockets)",
            report.markdown_table(connexion_cost.table(cost)),
            f"The real stub in-process ({args.orders:,} orders, staff token); the last row "
            "switches its render cache off (every order rendered on every request):",
            report.markdown_table(connexion_cost.table(stub_cost))))
        raw["connexion"] = [asdict(r) for r in cost]
        raw["stub_in_process"] = [asdict(r) for r in stub_cost]

    vs = verdicts(tp, sc, args.orders)
    if vs:
        rows_v = [["target", "measured", "met"]] + [
            [v.target, v.measured, {True: "yes", False: "**no**", None: "-"}[v.met]] for v in vs
        ]
        sections.insert(1, _section("Targets", report.markdown_table(rows_v)))
    if notes:
        sections.append(_section("Notes", "\n".join(f"- {n}" for n in notes)))
    text = f"Results of `make bench`, {started}.\n\n" + "\n".join(sections)
    print("\n" + text)
    (args.out / "latest.md").write_text(text, encoding="utf-8")
    (args.out / "results.json").write_text(
        json.dumps(raw, indent=2, default=lambda o: None if isinstance(o, float) and math.isnan(o)
                   else str(o)), encoding="utf-8")
    if args.write_docs and parts == set(PARTS):
        report.write_doc(text)
        print(f"docs/performance.md updated; raw numbers in {args.out / 'results.json'}")
    elif args.write_docs:
        print("partial run (--only): docs/performance.md left as it is; "
              f"tables in {args.out / 'latest.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
