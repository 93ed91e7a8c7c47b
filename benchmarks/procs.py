"""Start servers for a benchmark, wait for them, measure them, and always stop them."""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

HOST = "127.0.0.1"


def cpus() -> list[int]:
    return sorted(os.sched_getaffinity(0))


def pinning() -> tuple[int | None, int | None]:
    """(server cpu, load generator cpu): different cores when there are two or more and taskset."""
    cores = cpus()
    if len(cores) < 2 or shutil.which("taskset") is None:
        return None, None
    return cores[0], cores[1]


def pinned(argv: Sequence[str], cpu: int | None) -> list[str]:
    return (["taskset", "-c", str(cpu)] if cpu is not None else []) + list(argv)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def cpu_s(pid: int) -> float:
    """Processor time `pid` has used so far (user + system, /proc/<pid>/stat), in seconds: on a
    shared machine a steadier figure than wall time."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return float("nan")


def session_cpu_s(sid: int) -> float:
    """Processor time used so far by every live process of session `sid` (a server started by
    `Server` leads its own session; Prism's worker is a child of its launcher)."""
    return sessions_cpu_s([sid])[0]


def sessions_cpu_s(sids: Sequence[int]) -> list[float]:
    """`session_cpu_s` of each of `sids`, from one pass over /proc."""
    ticks = dict.fromkeys(map(str, sids), 0)
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            fields = Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        if len(fields) > 12 and fields[3] in ticks:
            ticks[fields[3]] += int(fields[11]) + int(fields[12])
    hz = os.sysconf("SC_CLK_TCK")
    return [ticks[str(sid)] / hz for sid in sids]


def settle(sids: Sequence[int], *, busy: float = 0.05, interval: float = 0.1,
           timeout: float = 5.0) -> float:
    """Wait until every session of `sids` uses under `busy` of a core over `interval` (a server
    that just took a load run may go on working: Prism's Node keeps a core busy for a second or
    more, which would fall on the next target's run). Returns the seconds waited (at most
    `timeout`, then it gives up)."""
    t0 = time.perf_counter()
    before = sessions_cpu_s(sids)
    while True:
        time.sleep(interval)
        after = sessions_cpu_s(sids)
        waited = time.perf_counter() - t0
        if all(b - a < busy * interval for a, b in zip(before, after, strict=True)) \
                or waited >= timeout:
            return waited
        before = after


def rss_mb(pid: int) -> float:
    """Resident memory of `pid` from /proc/<pid>/status (VmRSS), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    raise RuntimeError(f"no VmRSS for pid {pid}")


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None


def request(
    port: int,
    method: str,
    path: str,
    headers: Mapping[str, str] | None = None,
    body: bytes | None = None,
    timeout: float = 10.0,
) -> Response:
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=dict(headers or {}))
        resp = conn.getresponse()
        return Response(resp.status, resp.getheaders(), resp.read())
    finally:
        conn.close()


@dataclass
class Server:
    """A server process started directly (no shell), in its own session, pinned to `cpu`.

    `with Server(argv, port, probe) as s:` waits until GET `probe` answers 200 and records the
    cold start (spawn -> first 200). Leaving the block kills the process group it created.
    """

    argv: Sequence[str]
    port: int
    probe: str = "/"
    probe_headers: Mapping[str, str] = field(default_factory=dict)
    cpu: int | None = None
    env: Mapping[str, str] | None = None
    start_timeout: float = 60.0
    log: Path | None = None
    proc: subprocess.Popen[bytes] | None = None
    cold_start_s: float = float("nan")
    cold_start_cpu_s: float = float("nan")  # the server's processor time at that first 200

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def __enter__(self) -> Server:
        out = open(self.log, "wb") if self.log else subprocess.DEVNULL  # noqa: SIM115
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(
            pinned(self.argv, self.cpu),
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(self.env or {})},
            start_new_session=True,
        )
        if out is not subprocess.DEVNULL:
            out.close()
        try:
            self._wait_ready(t0)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self, t0: float) -> None:
        assert self.proc is not None
        deadline = t0 + self.start_timeout
        last = "no answer"
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                code = self.proc.returncode
                raise RuntimeError(f"{self.argv[0]} exited with {code}{self._tail()}")
            try:
                resp = request(self.port, "GET", self.probe, self.probe_headers, timeout=2.0)
                if resp.status == 200:
                    self.cold_start_s = time.perf_counter() - t0
                    self.cold_start_cpu_s = cpu_s(self.proc.pid)
                    return
                last = f"HTTP {resp.status}: {resp.body[:200]!r}"
            except OSError as exc:
                last = repr(exc)
            time.sleep(0.005)
        raise TimeoutError(f"{' '.join(self.argv)} not ready: {last}{self._tail()}")

    def _tail(self) -> str:
        if self.log and self.log.exists():
            return "\n" + self.log.read_text(errors="replace")[-2000:]
        return ""

    def rss_mb(self) -> float:
        return rss_mb(self.pid)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)  # the session this object created
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)
        except ProcessLookupError:
            pass

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
