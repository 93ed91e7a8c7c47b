"""`waldur-mock serve` options of the control features: --no-control, --cors-origin,
--process-delay, --state-file (a real process, stopped with Ctrl-C = SIGINT)."""

from __future__ import annotations

import argparse
import importlib.util
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mockserver.control import cli_args

HAS_CLI = importlib.util.find_spec("mockserver.cli") is not None
needs_cli = pytest.mark.skipif(not HAS_CLI, reason="mockserver/cli.py is not there yet")
STAFF = {"Authorization": "Token 02020271f1c2fdc62efe0b48ca5ae06ec6857e0f"}


def parse(*argv: str) -> dict:
    parser = argparse.ArgumentParser()
    cli_args.add_arguments(parser)
    return cli_args.settings_kwargs(parser.parse_args(argv))


def test_options_map_to_settings() -> None:
    assert parse() == {"control": True, "cors_origins": ("*",), "process_delay": 0.0,
                       "state_file": None,
                       "extra": {"journal_size": 1000, "state_flush_interval": 0.05}}
    got = parse("--no-control", "--cors-origin", "http://a", "--cors-origin", "http://b",
                "--process-delay", "manual", "--state-file", "s.json", "--journal-size", "50")
    assert got == {"control": False, "cors_origins": ("http://a", "http://b"),
                   "process_delay": None, "state_file": Path("s.json"),
                   "extra": {"journal_size": 50, "state_flush_interval": 0.05}}
    assert parse("--process-delay", "1.5")["process_delay"] == 1.5


@pytest.mark.parametrize("value", ["-1", "soon", "nan", "inf"])
def test_bad_process_delay_is_refused(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse(f"--process-delay={value}")
    assert "--process-delay" in capsys.readouterr().err


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Served:
    def __init__(self, *options: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-c", "import sys; from mockserver.cli import main; sys.exit(main())",
             "serve",
             "--port", str(self.port), *options],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the stub exited: {self.process.communicate()}")
            try:
                httpx.get(self.url + "/api/docs/openapi.json", timeout=1)
                return
            except httpx.TransportError:
                time.sleep(0.1)
        raise AssertionError("the stub did not start")

    def stop(self) -> tuple[int, str, str]:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            out, err = self.process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            out, err = self.process.communicate()
        return self.process.returncode, out, err


@pytest.fixture
def served() -> Iterator[list[Served]]:
    started: list[Served] = []
    yield started
    for item in started:
        item.stop()


@needs_cli
def test_corrupt_state_file_stops_the_start_with_a_clear_message(
    tmp_path: Path, served: list[Served]
) -> None:
    path = tmp_path / "state.json"
    path.write_text('{"format": 1, "orders": [')
    stub = Served("--state-file", str(path))
    served.append(stub)
    stub.process.wait(timeout=30)
    code, out, err = stub.stop()
    assert code != 0
    assert f"state file {path} is corrupt: not valid JSON" in err + out
    assert "Traceback" not in err
    assert path.read_text() == '{"format": 1, "orders": ['


@needs_cli
def test_state_file_is_saved_on_ctrl_c(tmp_path: Path, served: list[Served]) -> None:
    path = tmp_path / "state.json"
    stub = Served("--state-file", str(path), "--no-control", "--process-delay", "manual",
                  "--cors-origin", "http://localhost:5173")
    served.append(stub)
    stub.wait_ready()
    assert httpx.get(stub.url + "/__mock__/").status_code == 404  # --no-control
    r = httpx.get(stub.url + "/api/marketplace-orders/", params={"state": "pending-consumer"},
                  headers={**STAFF, "Origin": "http://localhost:5173"})
    assert r.headers["access-control-allow-origin"] == "http://localhost:5173"
    uuid = r.json()[0]["uuid"]
    r = httpx.post(f"{stub.url}/api/marketplace-orders/{uuid}/approve_by_consumer/",
                   headers=STAFF)
    assert r.status_code == 200
    code, _, err = stub.stop()
    assert code == 0, err
    assert path.exists()

    again = Served("--state-file", str(path))
    served.append(again)
    again.wait_ready()
    r = httpx.get(f"{again.url}/api/marketplace-orders/{uuid}/", headers=STAFF)
    assert r.json()["state"] != "pending-consumer"
