"""The access log of `waldur-mock serve` (mockserver/accesslog.py) writes uvicorn's very lines:
the same text per request (colours on a terminal included), for the same requests (errors,
query strings, encoded paths, an app that fails or answers nothing), flushed within a short
delay and at shutdown; `--no-access-log` and `--log-level` are honoured."""

from __future__ import annotations

import asyncio
import http.client
import io
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from uvicorn.config import LOGGING_CONFIG
from uvicorn.logging import AccessFormatter
from uvicorn.protocols.utils import get_client_addr, get_path_with_query_string

from mockserver import accesslog
from mockserver.accesslog import AccessLine, AccessLog
from mockserver.cli import serve_with_access_log

ROOT = Path(__file__).resolve().parent.parent
STAFF = "02020271f1c2fdc62efe0b48ca5ae06ec6857e0f"
CLIENT = re.compile(r"127\.0\.0\.1:\d+")


def uvicorn_line(scope: dict[str, Any], status: int, use_colors: bool) -> str:
    """What uvicorn's protocol and its default access handler write for this response."""
    fmt = LOGGING_CONFIG["formatters"]["access"]["fmt"]
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 0, '%s - "%s %s HTTP/%s" %d',
        (get_client_addr(scope), scope["method"], get_path_with_query_string(scope),
         scope["http_version"], status), None)
    return AccessFormatter(fmt, use_colors=use_colors).format(record) + "\n"


def scope_of(path: str, query: bytes = b"", method: str = "GET",
             client: tuple[str, int] | None = ("127.0.0.1", 51234),
             version: str = "1.1") -> dict[str, Any]:
    return {"type": "http", "method": method, "path": path, "query_string": query,
            "http_version": version, "client": client}


SCOPES = [
    scope_of("/api/marketplace-orders/"),
    scope_of("/api/marketplace-orders/", b"state=done&page=2&o=-created"),
    scope_of("/api/caf\u00e9 x/", b"q=%C3%A9+1", method="POST"),
    scope_of("/api/users/me/", client=None, version="1.0"),
    scope_of("/", method="DELETE", client=("::1", 8080)),
]
STATUSES = [100, 200, 201, 204, 299, 301, 400, 401, 404, 405, 418, 500, 503, 599]


@pytest.mark.parametrize("use_colors", [False, True])
def test_each_line_is_uvicorns(use_colors: bool) -> None:
    line = AccessLine(use_colors)
    for scope in SCOPES:
        for status in STATUSES:
            assert line(scope, status) == uvicorn_line(scope, status, use_colors), (scope, status)


def test_the_comparison_has_teeth() -> None:
    """A line off by a space, a colour or a phrase is told apart."""

    class NoPhrase(AccessLine):
        def status(self, code: int) -> str:
            return str(code)

    class Plain(AccessLine):
        def __init__(self, use_colors: bool) -> None:
            super().__init__(use_colors)
            self.use_colors = False  # forgets the bold request line

    scope = SCOPES[1]
    assert NoPhrase(False)(scope, 200) != uvicorn_line(scope, 200, False)
    assert Plain(True)(scope, 200) != uvicorn_line(scope, 200, True)
    assert AccessLine(False)(scope, 200) != uvicorn_line(scope, 200, True)


def test_enabled_follows_access_log_and_level() -> None:
    assert accesslog.enabled(True, "info") and accesslog.enabled(True, "debug")
    assert not accesslog.enabled(False, "info")
    for level in ("warning", "error", "critical"):
        assert not accesslog.enabled(True, level)
    app = object()
    served, logged = serve_with_access_log(app, True, "info")
    assert isinstance(served, AccessLog) and served is logged and served.app is app
    assert serve_with_access_log(app, False, "info") == (app, None)
    assert serve_with_access_log(app, True, "warning") == (app, None)


def test_buffered_until_the_delay_or_the_limit() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    async def ignore(message: Any) -> None:
        pass

    async def scenario() -> list[int]:
        stream = io.StringIO()
        logged = AccessLog(app, stream=stream, use_colors=False, delay=0.05, max_lines=5)
        seen = []
        for _ in range(3):
            await logged(scope_of("/x/"), None, ignore)
        seen.append(stream.getvalue().count("\n"))  # buffered
        await asyncio.sleep(0.2)
        seen.append(stream.getvalue().count("\n"))  # flushed by the timer
        for _ in range(5):
            await logged(scope_of("/x/"), None, ignore)
        seen.append(stream.getvalue().count("\n"))  # the limit flushed at once
        return seen

    assert asyncio.run(scenario()) == [0, 3, 8]


# -- served by uvicorn: its own access log against ours, same app, same requests ---------------

APP = textwrap.dedent('''
    import sys
    import uvicorn
    from mockserver.accesslog import AccessLog
    from mockserver.app import create_app
    from mockserver.settings import Settings

    stub = create_app(Settings())

    async def app(scope, receive, send):
        path = scope.get("path", "")
        if scope["type"] == "http" and path == "/raise/":
            raise RuntimeError("boom")
        if scope["type"] == "http" and path == "/nothing/":
            return
        if scope["type"] == "http" and path == "/body-first/":
            await send({"type": "http.response.body", "body": b"x"})
            return
        if scope["type"] == "http" and path == "/status/299/":
            await send({"type": "http.response.start", "status": 299, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        await stub(scope, receive, send)

    ours = sys.argv[1] == "ours"
    uvicorn.run(AccessLog(app) if ours else app, host="127.0.0.1", port=int(sys.argv[2]),
                log_level="info", access_log=not ours)
''')

REQUESTS = [
    ("GET", "/api/marketplace-orders/", True),
    ("GET", "/api/marketplace-orders/?state=done&page_size=2&o=-created", True),
    ("GET", "/api/marketplace-orders/?page=999", True),
    ("GET", "/api/marketplace-orders/", False),  # 401
    ("GET", "/api/caf%C3%A9%20x/?q=%C3%A9", True),  # 404, encoded path
    ("POST", "/api/marketplace-orders/", True),  # 400
    ("DELETE", "/api/marketplace-orders/", True),  # 405
    ("GET", "/api/users/me/", True),
    ("GET", "/status/299/", True),
    ("GET", "/raise/", True),  # uvicorn answers 500
    ("GET", "/nothing/", True),  # 500 too
    ("GET", "/body-first/", True),  # uvicorn raises: 500
    ("HEAD", "/api/marketplace-orders/", True),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(port: int, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"server on {port} did not start ({proc.poll()})")


def _send(port: int) -> None:
    for method, path, authorised in REQUESTS:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        headers = {"Authorization": f"Token {STAFF}"} if authorised else {}
        if method == "POST":
            headers["Content-Type"] = "application/json"
        conn.request(method, path, body=b"{}" if method == "POST" else None, headers=headers)
        conn.getresponse().read()
        conn.close()


def _access_lines(text: str) -> list[str]:
    return [CLIENT.sub("127.0.0.1:PORT", line) for line in text.splitlines()
            if line.startswith("INFO:") and ' - "' in line]


def test_served_lines_equal_uvicorns(tmp_path: Path) -> None:
    script = tmp_path / "served.py"
    script.write_text(APP, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    outputs = {}
    for kind in ("uvicorn", "ours"):
        port = _free_port()
        proc = subprocess.Popen([sys.executable, str(script), kind, str(port)], cwd=tmp_path,
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                text=True)
        try:
            _wait(port, proc)
            _send(port)
        finally:
            proc.send_signal(signal.SIGINT)
            outputs[kind], _ = proc.communicate(timeout=30)
    expected = _access_lines(outputs["uvicorn"])
    assert len(expected) == len(REQUESTS)
    assert {line.rsplit('" ', 1)[1] for line in expected} >= {
        "200 OK", "401 Unauthorized", "404 Not Found", "400 Bad Request",
        "405 Method Not Allowed", "299 ", "500 Internal Server Error"}
    assert _access_lines(outputs["ours"]) == expected


def _serve(args: list[str]) -> subprocess.Popen[str]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mockserver.cli", "serve", "--port", str(port), *args],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)
    _wait(port, proc)
    proc.port = port  # type: ignore[attr-defined]
    return proc


def test_serve_writes_lines_within_the_delay_and_honours_the_switches() -> None:
    procs = {name: _serve(args) for name, args in (
        ("default", []), ("off", ["--no-access-log"]), ("warning", ["--log-level", "warning"]))}
    try:
        for proc in procs.values():
            _send(proc.port)  # type: ignore[attr-defined]
        # written while the server runs, without waiting for the shutdown
        default = procs["default"]
        assert default.stdout is not None
        os.set_blocking(default.stdout.fileno(), False)
        text, deadline = "", time.monotonic() + 10
        while len(_access_lines(text)) < len(REQUESTS) and time.monotonic() < deadline:
            text += default.stdout.read() or ""
            time.sleep(0.05)
        assert len(_access_lines(text)) == len(REQUESTS)
        assert _access_lines(text)[0] == ('INFO:     127.0.0.1:PORT - '
                                          '"GET /api/marketplace-orders/ HTTP/1.1" 200 OK')
    finally:
        outputs = {}
        for name, proc in procs.items():
            proc.send_signal(signal.SIGINT)
            outputs[name], _ = proc.communicate(timeout=30)
    assert _access_lines(outputs["off"]) == [] and _access_lines(outputs["warning"]) == []
    assert "Uvicorn running" in outputs["off"]  # the server did run and log otherwise
