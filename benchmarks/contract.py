"""Benchmark 3: wall time of the contract harness (`waldur-contract`) against the in-process stub,
default and quick profiles. Skipped, with a note, when the harness is not installed."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

PROFILES: dict[str, tuple[str, ...]] = {"default": (), "quick": ("--quick",)}


@dataclass(frozen=True)
class Row:
    profile: str
    seconds: float
    exit_code: int | None  # None: timed out
    summary: str


def command() -> list[str] | None:
    local = Path(sys.executable).parent / "waldur-contract"
    if local.exists():
        return [str(local)]
    found = shutil.which("waldur-contract")
    return [found] if found else None


def run(
    profiles: tuple[str, ...] = ("quick", "default"), timeout: float = 900.0, seed: int = 1,
    logs: Path | None = None,
) -> list[Row] | str:
    """One timed run per profile, or the reason there is none. With `logs`, each run's output
    goes to `logs/contract-<profile>.log` (the failures, with their curl reproductions)."""
    cmd = command()
    if cmd is None:
        return "waldur-contract is not installed (issue 4 not merged yet): skipped"
    rows = []
    for name in profiles:
        argv = [*cmd, *PROFILES[name], "--seed", str(seed)]
        print("+", " ".join(argv), flush=True)
        t0 = time.perf_counter()
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            note = f"timed out after {timeout:.0f} s"
            rows.append(Row(name, time.perf_counter() - t0, None, note))
            continue
        seconds = time.perf_counter() - t0
        if logs is not None:
            (logs / f"contract-{name}.log").write_text(proc.stdout + proc.stderr,
                                                      encoding="utf-8")
        summary = summarise(proc.stdout, proc.stderr)
        print(f"  {name}: {seconds:.1f} s, exit {proc.returncode}: {summary}", flush=True)
        rows.append(Row(name, seconds, proc.returncode, summary))
    return rows


def summarise(stdout: str, stderr: str = "") -> str:
    """`phases: ...; N failures` from waldur-contract's summary (else its last line)."""
    lines = [ln.strip() for ln in stdout.splitlines() if ln.strip()]
    phases = next((ln for ln in lines if ln.startswith("phases:")), "")
    failures = next((ln for ln in lines if ln.startswith("FAILURES (")), "")
    if phases:
        count = failures.removeprefix("FAILURES (").rstrip(")") if failures else "0"
        return f"{phases}; {count} failures"
    tail = [ln for ln in (stdout + stderr).splitlines() if ln.strip()]
    return tail[-1].strip() if tail else ""


def table(rows: list[Row]) -> list[list[str]]:
    out = [["profile", "wall time s", "exit", "summary"]]
    for r in rows:
        code = "timeout" if r.exit_code is None else str(r.exit_code)
        out.append([r.profile, f"{r.seconds:.1f}", code, r.summary.replace("|", "/")[:160]])
    return out
