"""The system under test: the in-process stub (ASGI, no port) or any deployment reached by URL.

The harness's own requests (read-backs, role replays, clean-up) go through `Target.request`, so
they reach exactly the app or server Schemathesis talks to.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from contract_tests.options import HarnessOptions

STUB_BASE_URL = "http://127.0.0.1:8000"  # what `waldur-mock serve` listens on by default
ORDERS_PATH = "/api/marketplace-orders/"


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    content: bytes

    def json(self) -> Any:
        return json.loads(self.content) if self.content else None


@dataclass
class Target:
    """Where requests go. `app` is set for in-process runs."""

    base_url: str
    token: str
    role_tokens: dict[str, str] = field(default_factory=dict)
    app: Any = None
    reset_state: Callable[[], None] | None = None
    is_stub: bool = True
    _client: Any = None

    # -- transport -------------------------------------------------------------------------
    def _session(self) -> Any:
        if self._client is None:
            if self.app is not None:
                from starlette.testclient import TestClient

                self._client = TestClient(
                    self.app, base_url=self.base_url, raise_server_exceptions=False
                )
            else:
                import requests

                self._client = requests.Session()
        return self._client

    def url(self, path_or_url: str) -> str:
        if path_or_url.startswith(("http://", "https://")):
            return path_or_url
        return self.base_url.rstrip("/") + path_or_url

    def request(
        self,
        method: str,
        path_or_url: str,
        *,
        token: str | None = None,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        anonymous: bool = False,
    ) -> Reply:
        headers = {} if anonymous else {"Authorization": f"Token {token or self.token}"}
        kwargs: dict[str, Any] = {"headers": headers, "params": params}
        if json_body is not None:
            kwargs["json"] = json_body
        if self.app is None:
            kwargs["timeout"] = 30
            kwargs["allow_redirects"] = False
        else:
            kwargs["follow_redirects"] = False
        resp = self._session().request(method, self.url(path_or_url), **kwargs)
        return Reply(
            resp.status_code, {k.lower(): v for k, v in resp.headers.items()}, resp.content
        )

    def raw(self, method: str, path: str, headers: Mapping[str, str], body: bytes | None) -> Reply:
        """Send a request as recorded (role replays)."""
        kwargs: dict[str, Any] = {"headers": dict(headers), "content" if self.app else "data": body}
        if self.app is None:
            kwargs["timeout"] = 30
            kwargs["allow_redirects"] = False
        else:
            kwargs["follow_redirects"] = False
        resp = self._session().request(method, self.url(path), **kwargs)
        return Reply(
            resp.status_code, {k.lower(): v for k, v in resp.headers.items()}, resp.content
        )

    def order_path(self, uuid: str) -> str:
        return f"{ORDERS_PATH}{uuid}/"

    def get_order(self, uuid: str, token: str | None = None) -> Reply:
        return self.request("GET", self.order_path(uuid), token=token)

    def reset(self) -> None:
        if self.reset_state is not None:
            self.reset_state()

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    @property
    def origin(self) -> str:
        parts = urlsplit(self.base_url)
        return f"{parts.scheme}://{parts.netloc}"


# ------------------------------------------------------------------------------------------
# The in-process stub
def stub_tokens(app: Any = None) -> dict[str, str]:
    """username -> token of the fixture users (fixtures/default.yaml)."""
    import yaml

    from mockserver.settings import Settings

    with open(Settings().fixtures, encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    users = data.get("users") or []
    if isinstance(users, dict):  # {username: {...}}
        users = [{"username": k, **(v or {})} for k, v in users.items()]
    out: dict[str, str] = {}
    for user in users:
        token = user.get("token")
        if token:
            out[str(user.get("username"))] = str(token)
    return out


def staff_token(tokens: Mapping[str, str]) -> str:
    """The fixture staff user's token (the harness's default identity against the stub)."""
    import yaml

    from mockserver.settings import Settings

    with open(Settings().fixtures, encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    users = data.get("users") or []
    if isinstance(users, dict):
        users = [{"username": k, **(v or {})} for k, v in users.items()]
    for user in users:
        if user.get("is_staff") and user.get("token"):
            return str(user["token"])
    if "staff" in tokens:
        return tokens["staff"]
    raise RuntimeError("fixtures/default.yaml has no staff user with a token")


def build_stub_app() -> tuple[Any, Callable[[], None]]:
    """A fresh stub and a function resetting its state (the default session)."""
    from mockserver import create_app
    from mockserver.settings import Settings

    app = create_app(Settings())
    return app, find_reset(app)


def find_reset(app: Any) -> Callable[[], None]:
    """How to reset `app` to its seeded state: its registry if reachable, else the control API."""
    for holder in (app, getattr(app, "state", None), getattr(app, "middleware", None)):
        registry = getattr(holder, "registry", None) if holder is not None else None
        if registry is not None and hasattr(registry, "reset"):
            return lambda: registry.reset()

    def via_control_api() -> None:
        from starlette.testclient import TestClient

        with TestClient(app, base_url=STUB_BASE_URL) as client:
            resp = client.post("/__mock__/reset")
        if resp.status_code >= 300:
            raise RuntimeError(f"stub reset failed: {resp.status_code}")

    return via_control_api


def make_target(options: HarnessOptions) -> Target:
    if options.is_stub:
        if options.app is not None:
            app = options.app
            reset = options.reset if callable(options.reset) else find_reset(app)
        else:
            app, reset = build_stub_app()
        tokens = stub_tokens() if options.stub_tokens else {}
        token = options.token or staff_token(tokens)
        roles = dict(options.role_tokens) or {k: v for k, v in tokens.items() if v != token}
        return Target(STUB_BASE_URL, token, roles, app=app, reset_state=reset, is_stub=True)
    assert options.base_url and options.token
    return Target(
        options.base_url.rstrip("/"),
        options.token,
        dict(options.role_tokens),
        is_stub=False,
    )
