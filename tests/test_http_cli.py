"""`waldur-mock tokens` and `waldur-mock serve` (a real process on a free port, stopped after)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from mockserver.cli import main

ROOT = Path(__file__).resolve().parent.parent
STAFF = "02020271f1c2fdc62efe0b48ca5ae06ec6857e0f"


def test_tokens_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tokens", "--json"]) == 0
    rows = {r["username"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["staff"]["token"] == STAFF and rows["staff"]["flags"] == ["staff"]
    assert rows["staff"]["password"] == "staff"  # POST /api-auth/password/
    assert rows["cons_owner"]["roles"] == ["CUSTOMER.OWNER @ Consumer Org"]
    assert rows["plain_user"]["roles"] == [] and rows["inactive"]["flags"] == ["inactive"]
    assert all(len(r["token"]) == 40 for r in rows.values())


def test_tokens_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tokens"]) == 0
    out = capsys.readouterr().out
    assert f"staff          {STAFF}  staff" in out
    assert "(no role)" in out


def test_bad_fixtures_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tokens", "--fixtures", "/nonexistent/fixtures.yaml"]) == 2
    assert "waldur-mock:" in capsys.readouterr().err


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_starts_fast_and_answers() -> None:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mockserver.cli", "serve", "--port", str(port), "--seed", "3",
         "--no-access-log", "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        url = f"http://127.0.0.1:{port}/api/marketplace-orders/"
        first = None
        while time.monotonic() - started < 30 and proc.poll() is None:
            try:
                first = httpx.get(url, headers={"Authorization": f"Token {STAFF}"}, timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.02)
        elapsed = time.monotonic() - started
        assert first is not None and first.status_code == 200, proc.poll()
        assert first.headers["link"].startswith(f"<{url}>")
        assert elapsed < 10  # ~0.8 s on an idle 2-core machine; generous for CI
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=20)
    assert f"http://127.0.0.1:{port}/api/marketplace-orders/" in out
    assert STAFF in out and "seed 3" in out
    assert "response validation on, remembered GET answers on" in out
