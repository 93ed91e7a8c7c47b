"""`waldur-contract`: the contract tests from the command line (a thin layer over runner.run)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from contract_tests.options import ALL_PHASES, PROFILES, HarnessOptions, from_env, parse_role_tokens
from mockserver.version import add_version_option

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
MISSING_EXTRA = (
    "waldur-contract: Schemathesis is not installed; the contract tests come with the "
    "`contract` extra: pip install 'waldur-orders-mock[contract]' (docs/installing.md)"
)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="waldur-contract",
        description="Contract tests for the Waldur Marketplace Orders API. Without --base-url they "
        "run against the stub in-process; with it, against any running deployment.",
    )
    add_version_option(p)
    p.add_argument(
        "--base-url", help="server root, e.g. https://waldur.example.com (env WALDUR_URL)"
    )
    p.add_argument(
        "--token", help="API token of the primary user (env WALDUR_TOKEN); never printed"
    )
    p.add_argument(
        "--token-for",
        action="append",
        default=[],
        metavar="ROLE=KEY",
        help="extra identities for the role checks (repeatable)",
    )
    p.add_argument("--read-only", action="store_true", help="run only GET/HEAD operations")
    p.add_argument(
        "--project", help="project URL the harness may create orders in (remote targets)"
    )
    p.add_argument("--offering", help="offering URL the harness may order (remote targets)")
    p.add_argument("--plan", help="plan URL for the orders the harness creates (optional)")
    p.add_argument("--seed", type=int, help="seed for a reproducible run")
    p.add_argument("--spec", type=Path, metavar="PATH", dest="spec_path",
                   help="the area contract to test (default: openapi/marketplace-orders.yaml; "
                   "e.g. openapi/structure.yaml with --read-only)")
    p.add_argument(
        "--profile", choices=sorted(PROFILES), help="how much to test (default: default)"
    )
    p.add_argument(
        "--quick",
        action="store_const",
        const="quick",
        dest="profile",
        help="same as --profile quick (inner loop, < 60 s)",
    )
    p.add_argument("--phases", help=f"comma-separated subset of {','.join(ALL_PHASES)}")
    p.add_argument(
        "--operation",
        action="append",
        default=[],
        metavar="OPERATION_ID",
        help="test only these operationIds (repeatable)",
    )
    p.add_argument("--max-examples", type=int, help="examples per operation and phase")
    p.add_argument("--junit-xml", type=Path, metavar="PATH", help="write a JUnit XML report")
    p.add_argument("--baseline", type=Path, metavar="FILE",
                   help="known failures: fail only on failures not in FILE (stale ones listed)")
    p.add_argument("--baseline-write", type=Path, metavar="FILE",
                   help="write this run's failures to FILE as a baseline")
    return p


def options_from_args(args: argparse.Namespace) -> HarnessOptions:
    values: dict[str, object] = from_env()
    for name in (
        "base_url",
        "token",
        "project",
        "offering",
        "plan",
        "seed",
        "profile",
        "max_examples",
        "junit_xml",
        "spec_path",
    ):
        value = getattr(args, name)
        if value is not None:
            values[name] = value
    if args.read_only:
        values["read_only"] = True
    if args.token_for:
        values["role_tokens"] = parse_role_tokens(args.token_for)
    if args.phases:
        values["phases"] = tuple(p.strip() for p in args.phases.split(",") if p.strip())
    if args.operation:
        values["operations"] = tuple(args.operation)
    return HarnessOptions(**values)  # type: ignore[arg-type]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["compare"]:  # `waldur-contract compare ...`: contract_tests/compare/cli.py
        from contract_tests.compare.cli import main as compare_main

        return compare_main(argv[1:])
    args = build_parser().parse_args(argv)
    try:
        options = options_from_args(args)
    except ValueError as exc:
        print(f"waldur-contract: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        from contract_tests.runner import HarnessError, run
    except ModuleNotFoundError as exc:
        if exc.name != "schemathesis":
            raise
        print(MISSING_EXTRA, file=sys.stderr)
        return EXIT_USAGE
    from contract_tests import baseline
    from contract_tests.redact import Redactor
    from contract_tests.report import summary, write_junit

    redact = Redactor([options.token, *options.role_tokens.values()])
    try:
        known = baseline.load(args.baseline) if args.baseline else None
        result = run(options)
    except (HarnessError, ValueError) as exc:
        print(redact(f"waldur-contract: {exc}"), file=sys.stderr)
        return EXIT_USAGE
    if args.baseline_write:
        count = baseline.write(args.baseline_write, result.failures)
        print(f"baseline: {count} entries written to {args.baseline_write}")
    if known is not None:
        baseline.apply(result, known)
    print(summary(result))
    if options.junit_xml:
        write_junit(result, options.junit_xml)
        print(f"JUnit XML: {options.junit_xml}")
    return EXIT_OK if result.ok else EXIT_FAILED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
