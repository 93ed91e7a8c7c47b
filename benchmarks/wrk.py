"""Drive wrk (the HTTP load generator) and parse its `--latency` report."""

from __future__ import annotations

import re
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks.procs import pinned

_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
_DURATION = re.compile(r"^([0-9.]+)(us|ms|s|m|h)$")


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    non_2xx: int = 0
    socket_errors: int = 0

    @property
    def ok(self) -> bool:
        return self.requests > 0 and self.non_2xx == 0 and self.socket_errors == 0


def to_ms(text: str) -> float:
    """wrk's duration text (`812.00us`, `1.23ms`, `2.00s`) in milliseconds."""
    m = _DURATION.match(text.strip())
    if not m:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(m.group(1)) * _UNITS_MS[m.group(2)]


def parse(output: str) -> WrkResult:
    """Parse the text wrk prints with `--latency`."""
    pct: dict[str, float] = {}
    block = output.split("Latency Distribution", 1)
    if len(block) != 2:
        raise ValueError("wrk output has no 'Latency Distribution' (run it with --latency)")
    for m in re.finditer(r"^\s+(\d+)%\s+(\S+)\s*$", block[1], re.M):
        pct.setdefault(m.group(1), to_ms(m.group(2)))
    total = re.search(r"^\s*(\d+) requests in ([0-9.]+\w+),", output, re.M)
    rps = re.search(r"^Requests/sec:\s+([0-9.]+)", output, re.M)
    if not (total and rps and {"50", "90", "99"} <= pct.keys()):
        raise ValueError("unrecognised wrk output:\n" + output)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    sock = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return WrkResult(
        requests=int(total.group(1)),
        seconds=to_ms(total.group(2)) / 1000.0,
        rps=float(rps.group(1)),
        p50_ms=pct["50"],
        p90_ms=pct["90"],
        p99_ms=pct["99"],
        non_2xx=int(non2xx.group(1)) if non2xx else 0,
        socket_errors=sum(int(g) for g in sock.groups()) if sock else 0,
    )


def _lua_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def lua_script(
    method: str,
    headers: Mapping[str, str],
    body: str | None = None,
    paths: Sequence[str] = (),
) -> str:
    """A wrk Lua script sending `method` with `headers` and `body`.

    With `paths`, each request takes the next path from the list (round robin, one list per wrk
    thread): used for state actions, where every order can take the action only once.
    """
    lines = [f"wrk.method = {_lua_str(method)}"]
    lines += [f"wrk.headers[{_lua_str(k)}] = {_lua_str(v)}" for k, v in headers.items()]
    if body is not None:
        lines.append(f"wrk.body = {_lua_str(body)}")
    if paths:
        lines.append("local paths = {" + ", ".join(_lua_str(p) for p in paths) + "}")
        lines.append("local i = 0")
        lines.append("request = function()")
        lines.append("  i = i % #paths + 1")
        lines.append("  return wrk.format(nil, paths[i])")
        lines.append("end")
    return "\n".join(lines) + "\n"


def run(
    url: str,
    script: str,
    *,
    duration: float = 3.0,
    connections: int = 8,
    threads: int = 1,
    cpu: int | None = None,
    wrk: str = "wrk",
) -> tuple[WrkResult, str]:
    """Run wrk against `url` (loopback only) for `duration` seconds; return the parsed result."""
    if not url.startswith(("http://127.0.0.1:", "http://localhost:")):
        raise ValueError(f"benchmarks load loopback only, not {url}")
    with tempfile.TemporaryDirectory() as tmp:
        lua = Path(tmp) / "bench.lua"
        lua.write_text(script, encoding="utf-8")
        argv = [
            wrk,
            f"-t{threads}",
            f"-c{connections}",
            f"-d{max(1, round(duration))}s",
            "--timeout",
            "5s",
            "--latency",
            "-s",
            str(lua),
            url,
        ]
        proc = subprocess.run(
            pinned(argv, cpu), capture_output=True, text=True, timeout=duration + 30
        )
    if proc.returncode != 0:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {proc.stderr or proc.stdout}")
    return parse(proc.stdout), proc.stdout
