"""`waldur-contract compare`: the fidelity report of the stub against a real deployment."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from contract_tests.compare import baseline as baselines
from contract_tests.compare.diff import media_type
from contract_tests.compare.lockstep import (
    CompareResult,
    Side,
    real_side,
    run_lockstep,
    stub_side,
)
from contract_tests.compare.scenario import ORDERS, ROLES, SCENARIO
from contract_tests.options import parse_role_tokens
from contract_tests.redact import Redactor

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
JSON = "application/json"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="waldur-contract compare",
        description="Run one self-cleaning scenario against a real server and the stub in "
        "lockstep; report every difference in status, error body and response keys.",
    )
    p.add_argument("--base-url", default=os.environ.get("WALDUR_URL"),
                   help="the real server's root (env WALDUR_URL)")
    p.add_argument("--token", help="staff token (env WALDUR_TOKEN): role 'staff', and clean-up")
    p.add_argument("--token-for", action="append", default=[], metavar="ROLE=KEY",
                   help=f"one per role: {', '.join(r for r in ROLES if r != 'staff')} "
                   "(or env WALDUR_TOKEN_<ROLE>)")
    p.add_argument("--project", default=os.environ.get("WALDUR_PROJECT"),
                   help="project URL of the scenario's orders (env WALDUR_PROJECT)")
    p.add_argument("--offering", default=os.environ.get("WALDUR_OFFERING"),
                   help="a Marketplace.Slurm offering URL (env WALDUR_OFFERING)")
    p.add_argument("--plan", help="plan URL of that offering")
    p.add_argument("--basic-offering", metavar="URL",
                   help="a Marketplace.Basic offering URL (the cancel steps; else skipped)")
    p.add_argument("--basic-plan", metavar="URL", help="plan URL of that offering")
    p.add_argument("--baseline", type=Path, help="accepted differences (fail only on others)")
    p.add_argument("--baseline-write", "--write-baseline", dest="write_baseline", type=Path,
                   metavar="PATH",
                   help="write this run's differences as the baseline and exit 0")
    p.add_argument("--json", type=Path, metavar="PATH", help="write the differences as JSON")
    return p


def report(result: CompareResult, verdict: baselines.Verdict) -> str:
    lines = [f"compare: {len(result.outcomes)}/{len(SCENARIO)} steps, "
             f"{len(result.differences)} differences ({len(verdict.new)} new, "
             f"{len(verdict.known)} in the baseline)"]
    if result.error:
        lines.append(f"the run stopped early: {result.error}")
    if result.preexisting:
        lines.append(f"the project and offering held {result.preexisting} orders before the run: "
                     "list counts, pages and items were not compared (give the scenario a "
                     "project of its own)")
    if result.skipped:
        lines.append(f"skipped {len(result.skipped)} steps (no --basic-offering): "
                     + ", ".join(step.name for step in result.skipped))
    for outcome in result.outcomes:
        new = [d for d in outcome.differences if d in verdict.new]
        if new:
            lines.append(f"- {outcome.step.name} ({outcome.step.method} {outcome.step.path} as "
                         f"{outcome.step.role}): real {outcome.real}, stub {outcome.stub}")
            lines.extend(f"    {d.line()}" for d in new)
    if verdict.stale:
        lines.append(f"stale baseline entries ({len(verdict.stale)}): no longer seen")
        lines.extend(f"    {key}" for key in verdict.stale)
    ledger = result.ledger
    lines.append(f"orders created on the real server: {len(ledger.created)}")
    lines.extend(f"  - {u}: {how}" for u, how in ledger.removed.items())
    lines.extend(f"  ! {u} NOT removed: {why}" for u, why in ledger.left.items())
    return "\n".join(lines)


def preflight(real: Side) -> str | None:
    """Refuse a run that cannot mean anything: a rejected staff token, a wrong offering type.
    (Servers without the offering endpoints, like the stub, skip the type check.)"""
    try:
        who = real.target.request("GET", ORDERS, params={"page_size": 1})
    except OSError as exc:
        return f"{real.target.base_url} is not reachable: {exc}"
    if who.status == 401:
        return "the staff token (--token) was rejected (401)"
    for url, wanted in ((real.offering, "Marketplace.Slurm"),
                        (real.basic_offering, "Marketplace.Basic")):
        if not url:
            continue
        got = real.target.request("GET", url)
        try:
            body = got.json() if got.status == 200 and media_type(got) == JSON else None
        except ValueError:
            body = None
        kind = body.get("type") if isinstance(body, dict) else None
        if kind is not None and kind != wanted:
            return f"{url} is a {kind} offering; the scenario needs {wanted}"
    return None


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    for option in ("base_url", "project", "offering"):
        if not getattr(args, option):
            print(f"waldur-contract compare: --{option.replace('_', '-')} is required",
                  file=sys.stderr)
            return EXIT_USAGE
    try:
        tokens = parse_role_tokens(args.token_for)
    except ValueError as exc:
        print(f"waldur-contract compare: {exc}", file=sys.stderr)
        return EXIT_USAGE
    for role in ROLES:  # WALDUR_TOKEN_CREATOR=... keeps tokens off the command line
        env = os.environ.get(f"WALDUR_TOKEN_{role.upper()}")
        if env and role not in tokens:
            tokens[role] = env
    token = args.token or os.environ.get("WALDUR_TOKEN") or tokens.get("staff")
    if token:
        tokens["staff"] = token
    missing = [role for role in ROLES if role not in tokens]
    if missing:
        print(f"waldur-contract compare: missing tokens for {', '.join(missing)} "
              "(--token for staff, --token-for ROLE=KEY for the others)", file=sys.stderr)
        return EXIT_USAGE
    redact = Redactor(list(tokens.values()))
    real = real_side(args.base_url, tokens, args.project, args.offering, args.plan,
                     args.basic_offering, args.basic_plan)
    try:
        problem = preflight(real)
        if problem:
            print(redact(f"waldur-contract compare: {problem}"), file=sys.stderr)
            return EXIT_USAGE
        result = run_lockstep(real, stub_side())
    finally:
        real.target.close()
    if args.write_baseline:
        args.write_baseline.parent.mkdir(parents=True, exist_ok=True)
        baselines.write(args.write_baseline, result.differences)
    accepted = baselines.load(args.baseline) if args.baseline else set()
    verdict = baselines.judge(result.differences, accepted)
    print(redact(report(result, verdict)))
    if args.write_baseline:
        print(f"baseline written: {args.write_baseline} ({len(result.differences)} entries)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(
            [{"key": d.key, **d.__dict__, "new": d in verdict.new} for d in result.differences],
            indent=2), encoding="utf-8")
    if result.error or result.ledger.left:
        return EXIT_FAILED
    if args.write_baseline:
        return EXIT_OK
    return EXIT_FAILED if verdict.new else EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
