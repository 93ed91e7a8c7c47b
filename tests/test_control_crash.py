"""--state-file survives `kill -9`: a stream of writes, SIGKILL in the middle of it, a restart;
every change acknowledged more than the flush window before the kill is there, the files load,
and a torn last journal line is ignored (mockserver/control/journal_store.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import orjson

from mockserver.control.journal_store import journal_path, read_journal
from tests.test_http_cli import ROOT, STAFF, free_port

ORDERS = "/api/marketplace-orders/"
WINDOW = 0.05  # --state-flush-interval
# what the test tolerates beyond the window: a loaded CI machine may delay the flush thread
SLACK = 1.0
H = {"Authorization": f"Token {STAFF}"}


def _serve(state: Path, port: int) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "mockserver.cli", "serve", "--port", str(port),
         "--state-file", str(state), "--state-flush-interval", str(WINDOW),
         "--no-access-log", "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _wait(port: int, proc: subprocess.Popen[str]) -> httpx.Client:
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=H, timeout=10)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[0]
        try:
            if client.get(ORDERS).status_code == 200:
                return client
        except httpx.TransportError:
            time.sleep(0.05)
    raise AssertionError("stub did not start")


def _create_body(client: httpx.Client) -> dict[str, Any]:
    order = client.get(ORDERS, params={"offering_type": "Marketplace.Slurm"}).json()[0]
    root = order["offering"].split("/api/", 1)[0]
    body = {"offering": order["offering"], "project": f"{root}/api/projects/"
            f"{order['project_uuid']}/", "accepting_terms_of_service": True}
    if order.get("plan"):
        body["plan"] = order["plan"]
    return body


def test_kill_9_during_writes_loses_at_most_the_window(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    port = free_port()
    proc = _serve(state, port)
    acked: list[tuple[float, str, str]] = []  # (ack time, kind, value)
    stop = threading.Event()
    try:
        client = _wait(port, proc)
        body = _create_body(client)
        erred = client.get(ORDERS, params={"state": "executing",
                                           "offering_type": "Marketplace.Slurm"}).json()
        target = erred[0]["uuid"]

        def writer() -> None:
            n = 0
            with httpx.Client(base_url=client.base_url, headers=H, timeout=5) as c:
                while not stop.is_set():
                    n += 1
                    try:
                        if n % 3:
                            r = c.post(ORDERS, json={**body, "attributes": {"name": f"n{n}"}})
                            if r.status_code == 201:
                                acked.append((time.monotonic(), "order", r.json()["uuid"]))
                        else:
                            r = c.post(f"{ORDERS}{target}/set_state_erred/",
                                       json={"error_message": f"m{n}"})
                            if r.status_code == 200:
                                acked.append((time.monotonic(), "message", str(n)))
                    except httpx.TransportError:
                        return

        thread = threading.Thread(target=writer)
        thread.start()
        deadline = time.monotonic() + 60
        # enough acknowledged writes older than the window plus the slack (a loaded machine)
        while time.monotonic() < deadline and (
                len(acked) < 30 or time.monotonic() - acked[0][0] < WINDOW + SLACK + 1.0):
            time.sleep(0.1)
        killed_at = time.monotonic()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        stop.set()
        thread.join(timeout=10)
        client.close()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert len(acked) > 20, "the stream of writes did not run"
    due = [a for a in acked if a[0] < killed_at - WINDOW - SLACK]
    assert due, acked[:3]

    port = free_port()
    proc = _serve(state, port)
    try:
        client = _wait(port, proc)  # the files load
        for _t, kind, value in due:
            if kind == "order":
                assert client.get(f"{ORDERS}{value}/").status_code == 200, value
        last_message = max(int(v) for _t, k, v in due if k == "message")
        seen = client.get(f"{ORDERS}{target}/").json()["error_message"]
        assert int(seen[1:]) >= last_message
        # everything acknowledged at all is there or lost whole, never half: the state loads
        # and a second start sees the same bytes
        before = client.get("/__mock__/state").content
        client.close()
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)
    proc = _serve(state, free_port())
    try:
        port2 = int(proc.args[proc.args.index("--port") + 1])
        client = _wait(port2, proc)
        assert client.get("/__mock__/state").content == before
        client.close()
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)


def test_a_torn_last_line_is_ignored(tmp_path: Path) -> None:
    path = journal_path(tmp_path / "state.json")
    good = [{"method": "POST", "path": "/a/"}, {"complete": "x"}]
    lines = [orjson.dumps({"journal": 1, "base": "b"})] + [orjson.dumps(e) for e in good]
    path.write_bytes(b"\n".join(lines) + b"\n" + b'{"method": "PO')
    assert read_journal(path, "b") == good
    assert read_journal(path, "other base") == []  # a journal of another snapshot: ignored
    path.write_bytes(b"\n".join(lines) + b"\n")
    assert read_journal(path, "b") == good


def test_replay_rebuilds_the_same_state_in_process(tmp_path: Path) -> None:
    """Writes of every kind journaled by one app (never shut down: a crash), replayed by a new
    app from the same files: byte-identical state, already on the first (control) request."""
    import asyncio

    from mockserver import create_app
    from mockserver.settings import Settings

    state = tmp_path / "state.json"

    async def run() -> tuple[bytes, bytes]:
        first = create_app(Settings(state_file=state))
        backend = first.registry.get(None)
        keys = backend.world.keys["orders"]
        staff = {"Authorization": f"Token {backend.user_by_username('staff').token}"}
        owner = {"Authorization": f"Token {backend.user_by_username('cons_owner').token}"}
        order = backend.orders[keys["ord-pc-slurm"]]
        offering = f"http://t/api/marketplace-public-offerings/{order.offering.uuid}/"
        body = {"offering": offering, "project": f"http://t/api/projects/{order.project.uuid}/",
                "attributes": {"name": "x"}, "limits": {}, "accepting_terms_of_service": True}
        if order.plan is not None:
            body["plan"] = f"{offering}plans/{order.plan.uuid}/"
        async with httpx.AsyncClient(transport=httpx.ASGITransport(first),
                                     base_url="http://t") as c:
            for _ in range(3):  # the same body thrice: three orders (create_counts)
                assert (await c.post(ORDERS, json=body, headers=staff)).status_code == 201
            r = await c.post(f"{ORDERS}{keys['ord-pc-slurm']}/update_attachment/",
                             files={"attachment": ("a.pdf", b"%PDF-1")}, headers=staff)
            assert r.status_code == 200, r.content  # multipart: the body replayed as sent
            r = await c.post(f"{ORDERS}{keys['ord-pc-slurm']}/approve_by_consumer/",
                             headers=owner)
            assert r.status_code == 200
            r = await c.post(f"{ORDERS}{keys['ord-exec-slurm']}/set_state_erred/",
                             json={"error_message": "é"}, headers=staff)
            assert r.status_code == 200
            assert (await c.post(f"{ORDERS}{keys['ord-done-basic']}/unlink/",
                                 headers=staff)).status_code == 204
            assert (await c.post(ORDERS, json={}, headers=staff)).status_code == 400
            expected = (await c.get("/__mock__/state")).content
        first.control.durable.writer.flush()
        second = create_app(Settings(state_file=state))
        async with httpx.AsyncClient(transport=httpx.ASGITransport(second),
                                     base_url="http://t") as c:
            replayed = (await c.get("/__mock__/state")).content
        second.control.durable.close()
        first.control.durable.close()
        return expected, replayed

    expected, replayed = asyncio.run(run())
    assert replayed == expected
    assert b'"error_message": "\\u00e9"' in replayed or "é".encode() in replayed
