"""Tables, the machine description, and the results section of docs/performance.md."""

from __future__ import annotations

import os
import platform
import re
import sys
from collections.abc import Sequence
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "performance.md"
BEGIN = "<!-- bench:begin (written by `make bench`) -->"
END = "<!-- bench:end -->"


def markdown_table(rows: Sequence[Sequence[str]]) -> str:
    """A GitHub pipe table; the first row is the header."""
    if not rows:
        return ""
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(rows[0]), sep, *(line(r) for r in rows[1:])])


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def _mem_total() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "?"


def machine(extra: dict[str, str] | None = None) -> dict[str, str]:
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    info = {
        "nproc": str(os.cpu_count()),
        "cpu": _cpu_model(),
        "memory": _mem_total(),
        "python": sys.version.split()[0],
        "os": f"{platform.system()} {platform.release()}",
        "load average at start": " ".join(f"{x:.2f}" for x in load),
    }
    info.update(extra or {})
    return info


def machine_table(info: dict[str, str]) -> str:
    return markdown_table([["machine", ""], *([k, v] for k, v in info.items())])


def write_doc(section: str, doc: Path = DOC) -> None:
    """Replace the text between the bench markers of docs/performance.md with `section`."""
    text = doc.read_text(encoding="utf-8") if doc.exists() else f"{BEGIN}\n{END}\n"
    if BEGIN not in text or END not in text:
        text = text.rstrip("\n") + f"\n\n{BEGIN}\n{END}\n"
    pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.S)
    doc.write_text(pattern.sub(lambda _m: f"{BEGIN}\n{section.strip()}\n{END}", text), "utf-8")
