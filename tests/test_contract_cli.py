"""`waldur-contract` as a user runs it: exit codes, JUnit XML, redaction, and the remote-target
safety rules against a real server process (`waldur-mock serve` on a free port)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from contract_tests.cli import EXIT_USAGE, main

STAFF = "02020271f1c2fdc62efe0b48ca5ae06ec6857e0f"  # fixtures/default.yaml
ORDERS = "/api/marketplace-orders/"
LOG = "/tmp/waldur-contract-cli-server.log"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """The stub as users start it (`waldur-mock serve`) on a free port."""
    port = free_port()
    serve = Path(sys.executable).with_name("waldur-mock")
    command = (
        [str(serve), "serve", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
        if serve.exists()
        else [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "mockserver.app:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ]
    )
    proc = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=open(LOG, "w"),  # noqa: SIM115 - closed with the process
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            if proc.poll() is not None:
                pytest.skip("the stub did not start under uvicorn")
            try:
                httpx.get(url + ORDERS, timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def all_orders(url: str) -> dict[str, dict]:
    reply = httpx.get(
        url + ORDERS,
        params={"page_size": 300},
        headers={"Authorization": f"Token {STAFF}"},
        timeout=10,
    )
    assert reply.status_code == 200, (reply.status_code, reply.text[:300])
    return {o["uuid"]: o for o in reply.json()}


def test_usage_errors_exit_2_and_never_echo_the_token(capsys: pytest.CaptureFixture) -> None:
    rc = main(["--base-url", "https://waldur.example.com", "--token", "s3cr3t-t0ken"])
    err = capsys.readouterr().err
    assert rc == EXIT_USAGE and "--project" in err and "s3cr3t-t0ken" not in err
    assert main(["--token-for", "owner"]) == EXIT_USAGE


def test_a_rejected_token_is_not_a_passing_run(capsys: pytest.CaptureFixture) -> None:
    assert main(["--token", "not-a-valid-token", "--operation", "marketplace_orders_list"]) == 2
    err = capsys.readouterr().err
    assert "rejected" in err and "not-a-valid-token" not in err


def test_focused_in_process_run_writes_junit(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    junit = tmp_path / "contract.xml"
    rc = main(
        [
            "--operation",
            "marketplace_orders_count",
            "--phases",
            "examples,fuzzing",
            "--max-examples",
            "3",
            "--seed",
            "3",
            "--junit-xml",
            str(junit),
        ]
    )
    out = capsys.readouterr().out
    suite = ET.parse(junit).getroot()
    names = [case.get("name") for case in suite.iter("testcase")]
    assert "HEAD /api/marketplace-orders/" in names
    assert ("PASSED" in out) == (rc == 0) and suite.get("failures") == (
        "0" if rc == 0 else suite.get("failures")
    )
    assert "seed 3" in out and STAFF not in out and STAFF not in junit.read_text()


def test_remote_read_only_run(server: str, capsys: pytest.CaptureFixture) -> None:
    before = all_orders(server)
    rc = main(
        [
            "--base-url",
            server,
            "--token",
            STAFF,
            "--read-only",
            "--max-examples",
            "3",
            "--phases",
            "examples,fuzzing",
            "--seed",
            "2",
            "--operation",
            "marketplace_orders_list",
            "--operation",
            "marketplace_orders_destroy",
        ]
    )
    out = capsys.readouterr().out
    assert rc in (0, 1) and STAFF not in out
    assert "GET /api/marketplace-orders/" in out and "DELETE" not in out.split("FAILURES")[0]
    assert all_orders(server) == before


def test_remote_mutating_run_touches_only_its_own_orders(
    server: str, capsys: pytest.CaptureFixture
) -> None:
    before = all_orders(server)
    slurm = next(
        o
        for o in before.values()
        if o["offering_type"] == "Marketplace.Slurm" and o["project_name"] == "Consumer Project"
    )
    project = f"{server}/api/projects/{slurm['project_uuid']}/"
    rc = main(
        [
            "--base-url",
            server,
            "--token",
            STAFF,
            "--project",
            project,
            "--offering",
            slurm["offering"],
            "--plan",
            slurm["plan"],
            "--seed",
            "5",
            "--max-examples",
            "4",
            "--phases",
            "fuzzing,stateful",
            "--operation",
            "marketplace_orders_create",
            "--operation",
            "marketplace_orders_approve_by_provider",
            "--operation",
            "marketplace_orders_set_state_executing",
            "--operation",
            "marketplace_orders_destroy",
        ]
    )
    out = capsys.readouterr().out
    assert rc in (0, 1) and STAFF not in out
    assert "created orders:" in out and "NOT removed" not in out
    created = int(out.split("created orders:")[1].split()[0])
    assert created > 0, out
    after = all_orders(server)
    assert set(after) == set(before), "orders left behind or foreign orders removed"
    changed = [u for u in before if json.dumps(before[u]) != json.dumps(after[u])]
    assert not changed, f"foreign orders changed: {changed}"
