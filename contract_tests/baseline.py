"""Known failures: `--baseline-write FILE` records a run's failures, `--baseline FILE` makes a
later run fail only on failures not in it (docs/contract-tests.md, "Baseline").

An entry is keyed on `Failure.baseline_key` (operation, check and the kind of failure, never the
generated example), so a rerun with another seed finds the same keys. Entries the run did not
see are stale: reported, never failing (the bug was fixed, or this run did not reach it).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from contract_tests.runner import RUN_LEVEL, Failure, RunResult

FORMAT = 1


class BaselineError(ValueError):
    """The baseline file cannot be read."""


def entries_of(failures: list[Failure]) -> list[dict[str, Any]]:
    """One entry per key, sorted: the file diffs well in a repository."""
    out: dict[str, dict[str, Any]] = {}
    for f in failures:
        out.setdefault(f.baseline_key, {
            "key": f.baseline_key, "operation": f.operation, "check": f.check,
            "group": f.group, "title": f.title,
        })
    return [out[k] for k in sorted(out)]


def write(path: Path, failures: list[Failure]) -> int:
    """Write the failures as a baseline; returns the number of entries."""
    entries = entries_of(failures)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"format": FORMAT, "entries": entries}, indent=2) + "\n",
                    encoding="utf-8")
    return len(entries)


def load(path: Path) -> list[dict[str, Any]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BaselineError(f"cannot read the baseline {path}: {exc}") from None
    if not isinstance(data, dict):
        data = {}
    entries = data.get("entries")
    if data.get("format") != FORMAT or not isinstance(entries, list) or not all(
            isinstance(e, dict) and isinstance(e.get("key"), str) for e in entries):
        raise BaselineError(f"{path} is not a waldur-contract baseline (format {FORMAT})")
    return entries


def apply(result: RunResult, entries: list[dict[str, Any]]) -> None:
    """Move the failures the baseline knows to `result.known`; list the entries of operations
    this run exercised that it did not see in `result.stale`."""
    keys = {e["key"] for e in entries}
    result.known = [f for f in result.failures if f.baseline_key in keys]
    result.failures = [f for f in result.failures if f.baseline_key not in keys]
    seen = {f.baseline_key for f in result.known}
    exercised = set(result.operations) | {RUN_LEVEL}
    result.stale = [e for e in entries if e["key"] not in seen
                    and e.get("operation") in exercised]
