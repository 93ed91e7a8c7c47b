"""pytest plugin (entry point `waldur_mock`): test against the stub without managing a server.

    def test_list(waldur_mock):
        r = httpx.get(waldur_mock.url + "/api/marketplace-orders/",
                      headers=waldur_mock.auth("staff"))
        assert r.status_code == 200

The stub runs in the test process (uvicorn in a thread, on a free port), once per test run;
`waldur_mock` resets the default session to the seeded start state before each test, so tests do
not see each other's changes. Override the `waldur_mock_settings` fixture (session scope) in a
conftest.py to change the seed, the fixtures file, the process delay...
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import httpx
import pytest

from mockserver.settings import Settings

START_TIMEOUT = 30.0


class ServerThread:
    """An ASGI app served by uvicorn in a daemon thread on 127.0.0.1 and a free port."""

    def __init__(self, app: Any, host: str = "127.0.0.1") -> None:
        import uvicorn

        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.port = self.sock.getsockname()[1]
        self.url = f"http://{host}:{self.port}"
        config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self._run, name=f"waldur-mock:{self.port}",
                                       daemon=True)
        self.error: BaseException | None = None

    def _run(self) -> None:
        try:
            self.server.run(sockets=[self.sock])
        except BaseException as exc:  # noqa: BLE001 - reported by start()
            self.error = exc

    def start(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not self.server.started:
            if self.error is not None or not self.thread.is_alive():
                raise RuntimeError(f"the stub did not start: {self.error!r}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the stub did not start within {START_TIMEOUT:.0f} s")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


@dataclass
class WaldurMock:
    """A running stub: its URL, the fixture users' tokens and the control API as methods.

    Every method acts on `session` (None = the default session); `in_session(name)` gives a
    handle on another, isolated session of the same stub."""

    url: str
    tokens: dict[str, str]
    settings: Settings
    session: str | None = None
    _http: httpx.Client = field(default=None, repr=False)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self._http is None:
            self._http = httpx.Client(base_url=self.url, timeout=30)

    # -- helpers for the Waldur API -----------------------------------------------------------

    def auth(self, username: str) -> dict[str, str]:
        """Headers of a request as a fixture user (plus the session header, if any)."""
        return {"Authorization": f"Token {self.tokens[username]}", **self._session_headers()}

    def client(self, username: str | None = None, **kwargs: Any) -> httpx.Client:
        """An httpx.Client for the stub, authenticated as `username` (caller closes it)."""
        headers = self.auth(username) if username else self._session_headers()
        return httpx.Client(base_url=self.url, headers=headers, **kwargs)

    def in_session(self, name: str) -> WaldurMock:
        return replace(self, session=name, _http=self._http)

    # -- control API ----------------------------------------------------------------------------

    def reset(self) -> dict[str, Any]:
        return self._control("POST", "/reset").json()

    def state(self) -> dict[str, Any]:
        return self._control("GET", "/state").json()

    def state_bytes(self) -> bytes:
        return self._control("GET", "/state").content

    def load_state(self, state: dict[str, Any] | bytes) -> dict[str, Any]:
        if isinstance(state, bytes):
            return self._control("PUT", "/state", content=state).json()
        return self._control("PUT", "/state", json=state).json()

    def save(self) -> dict[str, Any]:
        return self._control("POST", "/save").json()

    def set_order_state(self, uuid: str, state: str, **extra: str) -> dict[str, Any]:
        return self._control("POST", f"/orders/{uuid}/state", json={"state": state, **extra}).json()

    def add_fault(self, **fault: Any) -> dict[str, Any]:
        return self._control("POST", "/faults", json=fault).json()

    def faults(self) -> list[dict[str, Any]]:
        return self._control("GET", "/faults").json()

    def remove_fault(self, fault_id: int) -> None:
        self._control("DELETE", f"/faults/{fault_id}")

    def clear_faults(self) -> None:
        self._control("DELETE", "/faults")

    def requests(self, limit: int | None = None) -> list[dict[str, Any]]:
        params = {"limit": limit} if limit else None
        return self._control("GET", "/requests", params=params).json()

    def clear_requests(self) -> None:
        self._control("DELETE", "/requests")

    def _session_headers(self) -> dict[str, str]:
        return {"X-Mock-Session": self.session} if self.session else {}

    def _control(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = self._http.request(method, "/__mock__" + path,
                                      headers=self._session_headers(), **kwargs)
        response.raise_for_status()
        return response

    def close(self) -> None:
        self._http.close()


def fixture_tokens(settings: Settings) -> dict[str, str]:
    from mockserver.world.fixtures import load_fixtures

    doc = load_fixtures(settings.fixtures)
    return {u["username"]: u["token"] for u in doc.entries.get("users", [])}


def start_stub(settings: Settings) -> tuple[ServerThread, WaldurMock]:
    """Start a stub in a thread (the caller stops it); used by the fixtures and by tests."""
    from mockserver.app import create_app

    if not settings.control:
        raise ValueError("the waldur_mock fixture needs the control API (control=True)")
    server = ServerThread(create_app(settings)).start()
    return server, WaldurMock(server.url, fixture_tokens(settings), settings)


@pytest.fixture(scope="session")
def waldur_mock_settings() -> Settings:
    """Settings of the stub the `waldur_mock` fixture starts; override it in a conftest.py."""
    return Settings()


@pytest.fixture(scope="session")
def waldur_mock_server(waldur_mock_settings: Settings) -> Iterator[WaldurMock]:
    """The stub, started once per test run."""
    server, mock = start_stub(waldur_mock_settings)
    try:
        yield mock
    finally:
        mock.close()
        server.stop()


@pytest.fixture
def waldur_mock(waldur_mock_server: WaldurMock) -> WaldurMock:
    """The running stub, reset to the seeded start state for this test."""
    waldur_mock_server.clear_faults()
    waldur_mock_server.reset()
    return waldur_mock_server
