"""A server process a test starts on a free port of 127.0.0.1, and stops by its own pid."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx

STAFF_TOKEN = "02020271f1c2fdc62efe0b48ca5ae06ec6857e0f"  # fixtures/default.yaml
ORDERS = "/api/marketplace-orders/"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_answering(url: str, proc: subprocess.Popen | None = None,
                         timeout: float = 60.0, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if proc is not None and proc.poll() is not None:
            text = log.read_text(errors="replace")[-3000:] if log else ""
            raise AssertionError(f"the server exited with {proc.returncode}:\n{text}")
        try:
            httpx.get(url + ORDERS, timeout=2)
            return
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise AssertionError(f"nothing answers on {url} after {timeout:.0f} s") from None
            time.sleep(0.1)


def alive(pid: int) -> bool:
    """Running (a zombie that nobody reaped yet counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def stop(pid: int) -> None:
    """SIGTERM, then SIGKILL after 10 s, to exactly this process (not our child)."""
    for signal, wait in ((15, 10.0), (9, 5.0)):
        if not alive(pid):
            return
        try:
            os.kill(pid, signal)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)


@contextmanager
def served(command: Sequence[str], port: int, *, log: Path, cwd: Path | None = None,
           env: Mapping[str, str] | None = None) -> Iterator[str]:
    """Run `command` (a server listening on `port`) until the block ends; yields its URL."""
    url = f"http://127.0.0.1:{port}"
    with open(log, "wb") as out:
        proc = subprocess.Popen(list(command), stdout=out, stderr=subprocess.STDOUT, cwd=cwd,
                                env=dict(env) if env is not None else None)
    try:
        wait_until_answering(url, proc, log=log)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
