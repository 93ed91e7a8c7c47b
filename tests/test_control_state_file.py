"""--state-file: loaded at start when it exists, saved on shutdown and on POST /__mock__/save,
written atomically (temp file + os.replace); a corrupt file is a clear error."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest
from test_control_api import find_order, get_order

from mockserver.app import create_app
from mockserver.control import StateFileError
from mockserver.control.persistence import write_atomically
from mockserver.pytest_plugin import WaldurMock, start_stub
from mockserver.settings import Settings


def test_save_without_state_file_is_refused(waldur_mock: WaldurMock) -> None:
    r = httpx.post(waldur_mock.url + "/__mock__/save")
    assert r.status_code == 409
    assert r.json() == {"detail": "No state file: start the stub with --state-file PATH."}


def test_scenario_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "scenario" / "state.json"
    server, mock = start_stub(Settings(state_file=path))
    try:
        assert not path.exists()  # no file yet: the seeded world
        order = find_order(mock, "pending-consumer")
        mock.set_order_state(order["uuid"], "erred", error_message="prepared by QA")
        saved = mock.save()
        assert saved["path"] == str(path)
        assert path.read_bytes() == mock.state_bytes()
        mock.set_order_state(order["uuid"], "rejected")  # after the explicit save
        final = mock.state_bytes()
    finally:
        mock.close()
        server.stop()  # lifespan shutdown saves again
    assert path.read_bytes() == final
    assert sorted(p.name for p in path.parent.iterdir()) == [
        "state.json", "state.json.journal"]  # no temp files

    server, mock = start_stub(Settings(state_file=path))
    try:
        assert mock.state_bytes() == final
        assert get_order(mock, order["uuid"])["state"] == "rejected"
        mock.reset()  # reset goes back to the seed, not to the file
        assert get_order(mock, order["uuid"])["state"] == "pending-consumer"
    finally:
        mock.close()
        server.stop()


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b'{"format": 1, "orders": [', "is corrupt: not valid JSON"),
        (b"\x00\x01\x02", "is corrupt: not valid JSON"),
        (b'"just a string"', "is corrupt: expected a JSON object"),
        (b'{"format": 1}', "cannot be loaded: not a state exported by this stub"),
    ],
)
def test_corrupt_state_file_is_a_clear_error(tmp_path: Path, content: bytes, problem: str) -> None:
    path = tmp_path / "state.json"
    path.write_bytes(content)
    with pytest.raises(StateFileError) as caught:
        create_app(Settings(state_file=path))
    message = str(caught.value)
    assert str(path) in message and problem in message
    assert path.read_bytes() == content  # never touched


def test_failed_save_keeps_the_previous_file(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    server, mock = start_stub(Settings(state_file=path))
    try:
        mock.save()
        previous = path.read_bytes()
        path.unlink()
        path.mkdir()  # os.replace onto a directory fails
        r = httpx.post(mock.url + "/__mock__/save")
        assert r.status_code == 409 and r.json()["detail"].startswith(f"Could not write {path}")
        assert sorted(p.name for p in tmp_path.iterdir()) == [
            "state.json", "state.json.journal"]  # temp file gone
        path.rmdir()
        path.write_bytes(previous)
    finally:
        mock.close()
        server.stop()


def test_write_atomically_never_leaves_a_partial_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "state.json"
    path.write_bytes(b"previous")

    def broken_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="No space"):
        write_atomically(path, b"x" * 100_000)
    assert path.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]
