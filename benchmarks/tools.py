"""Find, or install, the external tools: wrk (distribution package) and Prism (npm)."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOOLS_DIR = ROOT / "benchmarks" / ".tools"
PRISM_BIN = TOOLS_DIR / "node_modules" / ".bin" / "prism"
PRISM_PACKAGE = "@stoplight/prism-cli@^5"


@dataclass(frozen=True)
class Tool:
    name: str
    path: str | None
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.path is not None


def _run(argv: list[str], timeout: float) -> bool:
    print("+", " ".join(argv), flush=True)
    try:
        return subprocess.run(argv, timeout=timeout, check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired) as exc:
        print(f"  failed: {exc}")
        return False


def wrk(install: bool = False) -> Tool:
    found = shutil.which("wrk")
    if found or not install:
        return Tool("wrk", found, "" if found else "wrk not installed")
    if shutil.which("apt-get") is None:
        return Tool("wrk", None, "wrk not installed and no apt-get: install wrk 4.x yourself")
    if os.geteuid() != 0:
        return Tool(
            "wrk",
            None,
            "wrk not installed; installing it needs root: run `sudo apt-get install -y wrk` "
            "and `make bench` again (the load benchmarks are skipped)",
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    os.environ.update(env)
    if not _run(["apt-get", "install", "-y", "-q", "wrk"], 300):
        _run(["apt-get", "update", "-q"], 300)
        _run(["apt-get", "install", "-y", "-q", "wrk"], 300)
    found = shutil.which("wrk")
    return Tool("wrk", found, "" if found else "apt-get install -y wrk failed")


def prism(install: bool = False) -> Tool:
    if PRISM_BIN.exists():
        return Tool("prism", str(PRISM_BIN))
    if not install:
        return Tool("prism", None, "Prism not installed in benchmarks/.tools")
    if shutil.which("npm") is None:
        return Tool("prism", None, "npm not found: Prism columns are skipped (install Node.js)")
    TOOLS_DIR.mkdir(parents=True, exist_ok=True)
    _run(["npm", "install", "--silent", "--prefix", str(TOOLS_DIR), PRISM_PACKAGE], 600)
    if PRISM_BIN.exists():
        return Tool("prism", str(PRISM_BIN))
    return Tool("prism", None, f"npm install {PRISM_PACKAGE} failed")


def version(argv: list[str]) -> str:
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    text = (proc.stdout or proc.stderr).strip().splitlines()
    return text[0] if text else "?"
