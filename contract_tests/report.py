"""Reports of a run: a human summary and JUnit XML. Everything here is already redacted."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from contract_tests import groups
from contract_tests.runner import RUN_LEVEL, Failure, RunResult


def summary(result: RunResult, *, max_failures: int = 50) -> str:
    opts = result.options
    lines = [
        f"waldur-contract: {result.target_label}; profile {opts.profile}; seed {result.seed}"
        + ("; read-only" if opts.read_only else ""),
        "phases: "
        + ", ".join(
            f"{k} {v}"
            for k, v in result.phases.items()
            if k in ("examples", "coverage", "fuzzing", "stateful")
        ),
        "",
        f"{'operation':<62} {'cases':>6}  status codes seen            failed checks",
    ]
    for label in sorted(result.operations):
        stats = result.operations[label]
        codes = " ".join(f"{code}x{n}" for code, n in sorted(stats.statuses.items()))
        failed = sorted({f.check for f in result.failures_for(label)})
        lines.append(f"{label:<62} {stats.cases:>6}  {codes:<28} {', '.join(failed) or '-'}")
    if result.lifecycle:
        lines += ["", "actions on existing orders (state before -> status: count):"]
        by_action: dict[str, list[str]] = {}
        for (action, state, status), n in sorted(result.lifecycle.items()):
            by_action.setdefault(action, []).append(f"{state}->{status}:{n}")
        lines += [f"  {action:<20} {' '.join(items)}" for action, items in by_action.items()]
    if result.failures:
        lines += ["", f"FAILURES ({len(result.failures)}): {group_counts(result.failures)}"]
        shown = 0
        for group, failures in grouped(result.failures):
            lines += ["", f"{group.upper()} ({len(failures)})"]
            for failure in failures:
                shown += 1
                if shown > max_failures:
                    break
                lines += failure_lines(shown, failure)
        if len(result.failures) > max_failures:
            lines.append(
                f"... and {len(result.failures) - max_failures} more (see the JUnit report)"
            )
    if result.unknown_fields:
        lines += ["", "VERSION DRIFT, NOT FAILING: fields the contract does not know"]
        lines += [f"- {label}: {', '.join(names)}"
                  for label, names in result.unknown_fields.items()]
    if result.known:
        lines += ["", f"KNOWN FAILURES ({len(result.known)}, in the baseline, not failing)"]
        lines += [f"- [{f.group}] {f.baseline_key}" for f in result.known[:max_failures]]
    if result.stale:
        lines += ["", f"STALE BASELINE ENTRIES ({len(result.stale)}, not seen in this run; "
                      "fixed? remove them)"]
        lines += [f"- {e['key']}" for e in result.stale[:max_failures]]
    if result.errors:
        lines += ["", f"ERRORS ({len(result.errors)})"] + [
            f"- {e[:500]}" for e in result.errors[:20]
        ]
    if result.notes:
        lines += ["", "NOTES"] + [f"- {n}" for n in result.notes]
    if not opts.is_stub and not opts.read_only:
        lines += ["", f"created orders: {len(result.created)}"]
        lines += [f"  + {u}" for u in result.created]
        lines += [f"  - {u}: {how}" for u, how in result.removed.items()]
        lines += [f"  ! {u} NOT removed: {why}" for u, why in result.left.items()]
        lines += [
            f"  ? {u} appeared in the project without a 201 the harness saw (removed above)"
            for u in result.unacknowledged
        ]
    checks_run = sorted({c for s in result.operations.values() for c in s.checks_run})
    lines += [
        "",
        f"checks run: {', '.join(checks_run)}",
        f"{'PASSED' if result.ok else 'FAILED'}: {len(result.operations)} operations, "
        f"{sum(s.cases for s in result.operations.values())} cases, "
        f"{len(result.failures)} failures"
        + (f" ({group_counts(result.failures)})" if result.failures else "")
        + (f", {len(result.known)} known" if result.known else "")
        + f", {len(result.errors)} errors in {result.duration:.1f}s",
    ]
    return "\n".join(lines)


def grouped(failures: list[Failure]) -> list[tuple[str, list[Failure]]]:
    """Failures by summary group, in the order of `groups.GROUPS`; empty groups left out."""
    by_group = {g: [f for f in failures if f.group == g] for g in groups.GROUPS}
    return [(g, fs) for g, fs in by_group.items() if fs]


def group_counts(failures: list[Failure]) -> str:
    return ", ".join(f"{g} {len(fs)}" for g, fs in grouped(failures))


def failure_lines(number: int, failure: Failure) -> list[str]:
    lines = [f"{number}. [{failure.check}] {failure.operation} ({failure.phase}): {failure.title}"
             if failure.phase else f"{number}. [{failure.check}] {failure.operation}: "
             f"{failure.title}"]
    lines += [f"     {text}" for text in failure.message.splitlines()[:6]]
    if failure.reproduce:
        lines.append("   reproduce:")
        for step in failure.reproduce[-6:]:
            lines += [f"     {text}" for text in step.splitlines()]
    return lines


def write_junit(result: RunResult, path: Path) -> None:
    suite = ET.Element(
        "testsuite",
        name="waldur-contract",
        tests=str(len(result.operations) + 1),
        failures=str(len(result.failures)),
        errors=str(len(result.errors)),
        time=f"{result.duration:.3f}",
    )
    props = ET.SubElement(suite, "properties")
    for name, value in (
        ("seed", result.seed),
        ("profile", result.options.profile),
        ("target", result.target_label),
        *((f"failures: {g}", sum(f.group == g for f in result.failures))
          for g in groups.GROUPS),
        ("known failures (baseline)", len(result.known)),
        ("stale baseline entries", len(result.stale)),
    ):
        ET.SubElement(props, "property", name=name, value=str(value))
    for label in sorted(result.operations) + [RUN_LEVEL]:
        stats = result.operations.get(label)
        case = ET.SubElement(suite, "testcase", classname="waldur-contract", name=label)
        if stats is not None:
            codes = ", ".join(f"{c}: {n}" for c, n in sorted(stats.statuses.items()))
            ET.SubElement(case, "system-out").text = f"cases: {stats.cases}; status codes: {codes}"
        for failure in result.failures_for(label):
            node = ET.SubElement(
                case, "failure", type=failure.check,
                message=f"[{failure.group}] {failure.check}: {failure.title}",
            )
            node.text = failure.message + "\n\nReproduce:\n" + "\n".join(failure.reproduce)
        known = [f for f in result.known if f.operation == label]
        if known and not result.failures_for(label):
            ET.SubElement(case, "skipped", message=f"{len(known)} known failures (baseline)")
        if label == RUN_LEVEL:
            for error in result.errors:
                ET.SubElement(case, "error", message=error[:200]).text = error
            for uuid, why in result.left.items():
                ET.SubElement(case, "error", message=f"order {uuid} not removed").text = why
            if result.unknown_fields:
                ET.SubElement(case, "system-err").text = "fields the contract does not know:\n" + (
                    "\n".join(f"{k}: {', '.join(v)}" for k, v in result.unknown_fields.items()))
            if result.stale:
                ET.SubElement(case, "system-out").text = "stale baseline entries:\n" + "\n".join(
                    e["key"] for e in result.stale)
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)
