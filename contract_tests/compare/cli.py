"""`waldur-contract compare`: the fidelity report of the stub against a real deployment."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from contract_tests.compare import baseline as baselines
from contract_tests.compare.lockstep import CompareResult, real_side, run_lockstep, stub_side
from contract_tests.compare.scenario import ROLES, SCENARIO
from contract_tests.options import parse_role_tokens
from contract_tests.redact import Redactor

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="waldur-contract compare",
        description="Run one self-cleaning scenario against a real server and the stub in "
        "lockstep; report every difference in status, error body and response keys.",
    )
    p.add_argument("--base-url", required=True, help="the real server's root")
    p.add_argument("--token", help="staff token (env WALDUR_TOKEN): role 'staff', and clean-up")
    p.add_argument("--token-for", action="append", default=[], metavar="ROLE=KEY",
                   help=f"one per role: {', '.join(r for r in ROLES if r != 'staff')}")
    p.add_argument("--project", required=True, help="project URL of the scenario's orders")
    p.add_argument("--offering", required=True, help="a Marketplace.Slurm offering URL")
    p.add_argument("--plan", help="plan URL of that offering")
    p.add_argument("--baseline", type=Path, help="accepted differences (fail only on others)")
    p.add_argument("--write-baseline", type=Path, metavar="PATH",
                   help="write this run's differences as the baseline and exit 0")
    p.add_argument("--json", type=Path, metavar="PATH", help="write the differences as JSON")
    return p


def report(result: CompareResult, verdict: baselines.Verdict) -> str:
    lines = [f"compare: {len(result.outcomes)}/{len(SCENARIO)} steps, "
             f"{len(result.differences)} differences ({len(verdict.new)} new, "
             f"{len(verdict.known)} in the baseline)"]
    if result.error:
        lines.append(f"the run stopped early: {result.error}")
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


def main(argv: list[str] | None = None) -> int:
    import os

    args = build_parser().parse_args(argv)
    try:
        tokens = parse_role_tokens(args.token_for)
    except ValueError as exc:
        print(f"waldur-contract compare: {exc}", file=sys.stderr)
        return EXIT_USAGE
    token = args.token or os.environ.get("WALDUR_TOKEN") or tokens.get("staff")
    if token:
        tokens["staff"] = token
    missing = [role for role in ROLES if role not in tokens]
    if missing:
        print(f"waldur-contract compare: missing tokens for {', '.join(missing)} "
              "(--token for staff, --token-for ROLE=KEY for the others)", file=sys.stderr)
        return EXIT_USAGE
    redact = Redactor(list(tokens.values()))
    real = real_side(args.base_url, tokens, args.project, args.offering, args.plan)
    try:
        result = run_lockstep(real, stub_side())
    finally:
        real.target.close()
    if args.write_baseline:
        baselines.write(args.write_baseline, result.differences)
    accepted = baselines.load(args.baseline) if args.baseline else set()
    verdict = baselines.judge(result.differences, accepted)
    print(redact(report(result, verdict)))
    if args.write_baseline:
        print(f"baseline written: {args.write_baseline} ({len(result.differences)} entries)")
    if args.json:
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
