"""mockserver.frontdoor: a plain request answers exactly as through the layers it skips (status,
every header, body, the state left behind, the journal entry), and only plain requests skip
them; the front door stands aside when the stack between is not the one it knows."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from mockserver.control.middleware import ControlMiddleware
from mockserver.frontdoor import FrontDoor
from tests import test_http_fastpath, test_http_fastwrite
from tests.conftest import BASE, ORDERS

JSON = "application/json"


def _apps(**extra: Any) -> Iterator[tuple[Any, Any, Any]]:
    from starlette.testclient import TestClient

    from mockserver import create_app
    from mockserver.settings import Settings

    def settings(front_door: bool) -> Settings:
        return Settings(max_body_bytes=64 * 1024, **extra,
                        extra={"front_door": front_door})

    door, layered = create_app(settings(True)), create_app(settings(False))
    with TestClient(door, base_url=BASE) as cd, TestClient(layered, base_url=BASE) as cl:
        yield door, cd, cl


@pytest.fixture(scope="module")
def pair() -> Iterator[tuple[Any, Any, Any]]:
    yield from _apps()


def _front_door(app: Any) -> FrontDoor:
    found = [layer for layer in _chain(app.middleware.app) if isinstance(layer, FrontDoor)]
    assert len(found) == 1
    return found[0]


def _chain(layer: Any) -> Iterator[Any]:
    while layer is not None:
        yield layer
        layer = getattr(layer, "app", None)


def _journal(app: Any) -> list[tuple[Any, ...]]:
    """The journal without what differs between two runs (ids, times, durations)."""
    keep = ("method", "path", "query", "operation", "status", "user", "session", "fault")
    entries = [e for s in app.registry.sessions() for e in app.control.journal.entries(s)]
    return sorted((tuple(e.get(k) for k in keep) for e in entries), key=repr)


def _script(backend: Any) -> list[tuple[str, str, dict[str, str], dict[str, Any]]]:
    """Every read of the fast path's comparison (GET and HEAD), every write of the fast write
    path's, and the headers that change the way a request goes."""
    staff = {"Authorization": f"Token {backend.user_by_username('staff').token}"}
    hexa = backend.world.keys["orders"]["ord-pc-slurm"]
    reads = [(m, url, headers, {}) for url, headers in test_http_fastpath._requests(backend)
             for m in ("GET", "HEAD")]
    plain_user = backend.user_by_username("plain_user").uuid
    return [
        *reads,
        ("GET", "/api/customers/", staff, {}),
        ("GET", "/api/users/me/", {**staff, "X-Impersonated-User-UUID": plain_user}, {}),
        ("GET", "/api/users/me/", {**staff, "X-Impersonated-User-UUID": "null"}, {}),
        ("GET", f"{ORDERS}{hexa}/", {**staff, "X-Mock-Session": " "}, {}),
        ("GET", f"{ORDERS}{hexa}/", {**staff, "X-Mock-Session": "a", "x-mock-session": "b"},
         {}),
        ("GET", "/api/nowhere/", staff, {}),
        ("GET", "/__mock__/", {}, {}),
        ("OPTIONS", ORDERS, staff, {}),
        ("DELETE", f"{ORDERS}dashboard-my-orders/", staff, {}),
        ("POST", f"{ORDERS}{hexa}/approve_by_consumer/",
         {**staff, "Content-Type": "Application/JSON"}, {"content": b"{}"}),
        ("POST", f"{ORDERS}{hexa}/cancel/", {**staff, "Transfer-Encoding": "chunked"},
         {"content": iter([b"{}"])}),
        *test_http_fastwrite._script(backend),
    ]


def _run(client: Any, method: str, url: str, headers: dict[str, str],
         kwargs: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
    kwargs = dict(kwargs)
    extra = kwargs.pop("headers", {})
    if "content" in kwargs and not isinstance(kwargs["content"], (bytes, str)):
        kwargs["content"] = iter(list(kwargs["content"]))
    response = client.request(method, url, headers={**headers, **extra},
                              follow_redirects=False, **kwargs)
    return response.status_code, response.headers.multi_items(), response.content


def test_identical_through_the_front_door_and_the_layers(pair: tuple[Any, Any, Any]) -> None:
    door_app, door, layered = pair
    for client in (door, layered):
        client.app.control.reset(None)
        client.app.control.journal.clear(None)
    for method, url, headers, kwargs in _script(door_app.registry.get(None)):
        where = f"{method} {url} {headers} {kwargs}"
        assert _run(door, method, url, headers, kwargs) == _run(layered, method, url,
                                                                 headers, kwargs), where
        states = [c.app.registry.get(None).export_state() for c in (door, layered)]
        assert states[0] == states[1], where
    assert _journal(door.app) == _journal(layered.app)
    assert len(_journal(door.app)) > 100


def test_only_plain_requests_skip_the_layers(pair: tuple[Any, Any, Any],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The comparison above has teeth: most of its requests really took the front door."""
    door_app, door, _layered = pair
    through: list[str] = []
    original = ControlMiddleware.__call__

    async def spy(self: Any, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            through.append(scope["path"])
        await original(self, scope, receive, send)

    monkeypatch.setattr(ControlMiddleware, "__call__", spy)
    backend = door_app.registry.get(None)
    staff = {"Authorization": f"Token {backend.user_by_username('staff').token}"}
    hexa = backend.world.keys["orders"]["ord-pc-slurm"]
    plain = [
        ("GET", ORDERS, staff, {}),
        ("GET", f"{ORDERS}{hexa}/", {**staff, "X-Mock-Session": "s1"}, {}),
        ("GET", "/api/projects/", {**staff, "X-Impersonated-User-UUID": "null"}, {}),
        ("GET", ORDERS + "?state=bogus", staff, {}),  # a 400, from the layers after the door
        ("HEAD", ORDERS, staff, {}),
        ("GET", ORDERS, {}, {}),
        ("POST", f"{ORDERS}{hexa}/set_state_erred/", staff, {"json": {}}),
        ("POST", ORDERS, {**staff, "Content-Type": "Application/Json"}, {"content": b"{}"}),
    ]
    layered = [
        ("GET", ORDERS, {**staff, "Origin": "http://example.com"}, {}),
        ("GET", ORDERS[:-1], staff, {}),
        ("OPTIONS", ORDERS, staff, {}),
        ("GET", f"{ORDERS}?x-auth-token=abc", {}, {}),
        ("GET", "/__mock__/journal/", {}, {}),
        ("GET", "/api/docs/", {}, {}),
        ("GET", "/media/x/", staff, {}),
        ("DELETE", f"{ORDERS}dashboard-my-orders/", staff, {}),
        ("POST", ORDERS, {**staff, "Content-Type": JSON}, {"content": b"x" * (65 * 1024)}),
    ]
    for requests, skipped in ((plain, True), (layered, False)):
        for method, url, headers, kwargs in requests:
            before = len(through)
            _run(door, method, url, headers, kwargs)
            assert (len(through) == before) == skipped, (method, url, headers)


def test_an_armed_fault_sends_the_request_through_the_layers(
        pair: tuple[Any, Any, Any]) -> None:
    door_app, door, _layered = pair
    token = door_app.registry.get(None).user_by_username("staff").token
    staff = {"Authorization": f"Token {token}"}
    door.app.control.faults.clear(None)
    added = door.post("/__mock__/faults/", json={"operation": "marketplace_orders_list",
                                                  "status": 503, "times": 1})
    assert added.status_code == 201, added.text
    assert door.get(ORDERS, headers=staff).status_code == 503
    assert door.get(ORDERS, headers=staff).status_code == 200


def test_the_front_door_stands_aside_for_a_layer_it_does_not_know() -> None:
    from mockserver import create_app
    from mockserver.settings import Settings

    class Unknown:
        def __init__(self, app: Any) -> None:
            self.app = app

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            await self.app(scope, receive, send)

    from connexion.middleware import MiddlewarePosition

    from mockserver.control import move_outward

    app = create_app(Settings())
    app.add_middleware(Unknown, position=MiddlewarePosition.BEFORE_EXCEPTION)
    move_outward(app, Unknown, 1)  # right inside the front door: among the layers it skips
    from starlette.testclient import TestClient

    with TestClient(app, base_url=BASE) as client:
        assert client.get(ORDERS).status_code == 401
    assert _front_door(app).enabled is False
    assert any(isinstance(layer, Unknown) for layer in _chain(_front_door(app).app))
    for settings in (Settings(), Settings(fast_path=False), Settings(extra={"front_door": False})):
        built = create_app(settings)
        with TestClient(built, base_url=BASE) as client:
            client.get("/api/")
        assert _front_door(built).enabled is (settings == Settings())
