"""mockserver.lazyimports as `waldur-mock serve` uses it (a fresh interpreter each): httpx,
requests, starlette's test client and Flask stay unloaded through start-up and requests served by
the fast paths and by Connexion; afterwards every deferred feature is the real thing and works;
the served process answers through the fast paths, Connexion and the Swagger UI."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = textwrap.dedent('''
    import asyncio, sys

    import uvicorn

    served = {}
    uvicorn.run = lambda app, **kw: served.setdefault("app", app)
    from mockserver.cli import main

    assert main(["serve", "--orders", "0", "--log-level", "warning"]) == 0
    app = served["app"]
    staff = next(u.token for u in app.registry.get(None).world.users if u.is_staff)

    async def call(method, path, query=b""):
        sent, out = [], {}
        async def receive():
            if sent:
                await asyncio.sleep(3600)
            sent.append(1)
            return {"type": "http.request", "body": b"", "more_body": False}
        async def send(message):
            if message["type"] == "http.response.start":
                out["status"] = message["status"]
        scope = {"type": "http", "method": method, "path": path, "raw_path": path.encode(),
                 "query_string": query, "root_path": "", "scheme": "http",
                 "http_version": "1.1", "server": ("127.0.0.1", 8000),
                 "client": ("127.0.0.1", 5000), "asgi": {"version": "3.0"},
                 "headers": [(b"authorization", b"Token " + staff.encode())]}
        await app(scope, receive, send)
        return out["status"]

    async def calls():
        return [await call("GET", "/api/marketplace-orders/"),  # the fast path
                await call("GET", "/api/marketplace-orders/", b"o=bogus"),  # Connexion's 400
                await call("OPTIONS", "/api/marketplace-orders/"),
                await call("GET", "/api/docs/")]  # Swagger UI
    assert asyncio.run(calls()) == [200, 400, 200, 200]

    def real(name):
        module = sys.modules.get(name)
        return module is not None and "stand-in" not in (module.__doc__ or "")
    loaded = [n for n in ("httpx", "requests", "starlette.testclient", "flask", "rich")
              if real(n)]
    assert not loaded, loaded

    # every deferred feature is the real thing, and works
    client = app.test_client()
    import starlette.testclient
    assert type(client) is starlette.testclient.TestClient
    response = client.get("/api/marketplace-orders/", headers={"Authorization": "Token " + staff})
    assert response.status_code == 200 and response.json()
    import connexion.json_schema, connexion.security, httpx, requests
    assert connexion.json_schema.requests.get is requests.get
    assert connexion.security.httpx.AsyncClient is httpx.AsyncClient
    import importlib.util
    if importlib.util.find_spec("flask") is not None:  # no longer a dependency; may be installed
        import flask
        assert flask.Flask.__name__ == "Flask"
    print("deferred-ok")
''')


def test_serve_defers_unused_imports_and_they_still_work() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "WALDUR_MOCK_CACHE": "0"}
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, text=True,
                          capture_output=True, timeout=120)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert "deferred-ok" in done.stdout


def test_a_stand_in_forwards_and_leaves() -> None:
    script = textwrap.dedent('''
        import sys
        from mockserver import lazyimports
        with lazyimports.deferred():
            import requests
            from starlette.testclient import TestClient
            stand_in = sys.modules["requests"]
            assert "stand-in" in stand_in.__doc__ and "urllib3" not in sys.modules
            try:
                import flask
            except ImportError:
                pass
            else:
                raise AssertionError("flask imported inside deferred()")
        assert "requests" not in sys.modules and "flask" not in sys.modules
        assert requests.codes.ok == 200  # first use: the real module, imported now
        import requests as real
        assert real is sys.modules["requests"] and "stand-in" not in (real.__doc__ or "")
        assert requests.get is real.get and TestClient.__name__ == "TestClient"
        print("stand-in-ok")
    ''')
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, text=True,
                          capture_output=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0 and "stand-in-ok" in done.stdout, done.stderr[-3000:]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_served_process_answers_every_layer() -> None:
    """The real `serve` (deferred imports, cached spec): fast path, Connexion, Swagger UI."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mockserver.cli", "serve", "--port", str(port), "--orders", "0",
         "--no-access-log", "--log-level", "warning"],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        started = time.monotonic()
        out = subprocess.run([sys.executable, "-m", "mockserver.cli", "tokens", "--json"],
                             cwd=ROOT, capture_output=True, text=True, timeout=60).stdout
        import json

        staff = next(r["token"] for r in json.loads(out) if "staff" in r["flags"])
        auth = {"Authorization": f"Token {staff}"}
        while time.monotonic() - started < 60 and proc.poll() is None:
            try:
                httpx.get(f"{base}/api/marketplace-orders/", headers=auth, timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.02)
        orders = httpx.get(f"{base}/api/marketplace-orders/", headers=auth, timeout=5)
        assert orders.status_code == 200 and orders.json()
        bad = httpx.get(f"{base}/api/marketplace-orders/?o=bogus", headers=auth, timeout=5)
        assert bad.status_code == 400 and bad.json()  # through Connexion
        docs = httpx.get(f"{base}/api/docs/", timeout=5)
        assert docs.status_code == 200 and "swagger" in docs.text.lower()
        uuid = orders.json()[0]["uuid"]
        form = httpx.post(f"{base}/api/marketplace-orders/{uuid}/set_state_erred/",
                          headers=auth, data={"error_message": "x"}, timeout=5)
        assert form.status_code == 415, form.text  # Connexion's content-type check
        assert form.json() == {"detail": 'Unsupported media type '
                               '"application/x-www-form-urlencoded" in request.'}
        # no WebSocket support (`ws="none"`): an upgrade request is answered as plain HTTP
        upgrade = httpx.get(f"{base}/api/marketplace-orders/", timeout=5, headers={
            **auth, "Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="})
        assert upgrade.status_code == 200 and upgrade.json() == orders.json()
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=20)
