"""Shared fixtures for the HTTP tests: one app per test session (building one costs ~0.3 s), a
fresh world per test (`registry.reset`, a few ms), response validation ON, and an `api` helper
that speaks as a fixture user.

    def test_something(api):
        r = api.get("/api/marketplace-orders/", user="staff")
        order = api.uuid("orders", "ord-pc-slurm")
"""

from __future__ import annotations

import warnings

warnings.filterwarnings("ignore", message=".*httpx.*starlette.testclient")

from collections.abc import Iterator  # noqa: E402
from typing import Any  # noqa: E402

import httpx  # noqa: E402
import pytest  # noqa: E402

ORDERS = "/api/marketplace-orders/"
BASE = "http://testserver"


def pytest_configure(config: Any) -> None:
    # starlette's TestClient warns on import that it wants `httpx2`: noise.
    config.addinivalue_line("filterwarnings", "ignore:Using `httpx` with:Warning")


class Api:
    """A synchronous client of the in-process app, authenticated per call by username."""

    def __init__(self, app: Any, client: Any) -> None:
        self.app = app
        self.client = client

    @property
    def backend(self) -> Any:
        return self.app.registry.get(None)

    def token(self, username: str) -> str:
        user = self.backend.user_by_username(username)
        assert user is not None, f"no fixture user {username!r}"
        return user.token

    def uuid(self, kind: str, key: str) -> str:
        return self.backend.world.keys[kind][key]

    def order_url(self, key_or_uuid: str, action: str | None = None) -> str:
        uuid = self.backend.world.keys["orders"].get(key_or_uuid, key_or_uuid)
        return f"{ORDERS}{uuid}/" + (f"{action}/" if action else "")

    def url(self, kind: str, key: str) -> str:
        prefix = {"projects": "projects", "offerings": "marketplace-public-offerings",
                  "users": "users"}[kind]
        return f"{BASE}/api/{prefix}/{self.uuid(kind, key)}/"

    def request(self, method: str, path: str, user: str | None = None, **kwargs: Any
                ) -> httpx.Response:
        headers = dict(kwargs.pop("headers", None) or {})
        if user is not None:
            headers.setdefault("Authorization", f"Token {self.token(user)}")
        return self.client.request(method, path, headers=headers, **kwargs)

    def get(self, path: str, user: str | None = None, **kw: Any) -> httpx.Response:
        return self.request("GET", path, user, **kw)

    def post(self, path: str, user: str | None = None, **kw: Any) -> httpx.Response:
        return self.request("POST", path, user, **kw)

    def head(self, path: str, user: str | None = None, **kw: Any) -> httpx.Response:
        return self.request("HEAD", path, user, **kw)

    def delete(self, path: str, user: str | None = None, **kw: Any) -> httpx.Response:
        return self.request("DELETE", path, user, **kw)

    def order(self, key_or_uuid: str, user: str = "staff") -> dict[str, Any]:
        r = self.get(self.order_url(key_or_uuid), user)
        assert r.status_code == 200, r.text
        return r.json()

    def action(self, key_or_uuid: str, action: str, user: str = "staff", **kw: Any
               ) -> httpx.Response:
        return self.post(self.order_url(key_or_uuid, action), user, **kw)


@pytest.fixture(scope="session")
def http_settings() -> Any:
    from mockserver.settings import Settings

    return Settings(validate_responses=True)


@pytest.fixture(scope="session")
def http_app(http_settings: Any) -> Any:
    from mockserver import create_app

    return create_app(http_settings)


@pytest.fixture(scope="session")
def http_client(http_app: Any) -> Iterator[Any]:
    from starlette.testclient import TestClient

    with TestClient(http_app, base_url=BASE, raise_server_exceptions=True) as client:
        yield client


@pytest.fixture
def app(http_app: Any) -> Any:
    """The session's app with a fresh world (every session reset to seed + fixtures)."""
    registry = http_app.registry
    for session in registry.sessions():
        if session is not None:
            registry.drop(session)
    registry.reset(None)
    return http_app


@pytest.fixture
def api(app: Any, http_client: Any) -> Api:
    return Api(app, http_client)


@pytest.fixture(scope="session")
def live_server(http_settings: Any) -> Iterator[Any]:
    """A real uvicorn server (thread, free port on 127.0.0.1) with its own app; stopped after."""
    from mockserver import create_app
    from mockserver.pytest_plugin import ServerThread

    server = ServerThread(create_app(http_settings)).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def live(live_server: Any) -> Any:
    """The live server with a fresh world; `.url`, `.app`, `.token(username)`."""
    app = live_server.server.config.app
    app.registry.reset(None)
    live_server.app = app
    live_server.token = lambda name: app.registry.get(None).user_by_username(name).token
    return live_server

