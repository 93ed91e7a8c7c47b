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
        ("OPTIONS", ORDERS, {"Origin": "http://x", "Access-Control-Request-Method": "POST",
                             "Access-Control-Request-Headers": "authorization"}, {}),
        ("GET", "/api/users/me/", {**staff, "Origin": "http://x", "Vary": "x"}, {}),
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
    plain += [
        ("GET", ORDERS, {**staff, "Origin": "http://example.com"}, {}),
        ("POST", f"{ORDERS}{hexa}/set_state_erred/", {**staff, "Origin": "http://x"},
         {"json": {}}),
    ]
    layered = [
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


# ---------------------------------------------------------------------------------------------
# Remembered answers (Settings.answer_memo, on in `serve`)


def _memo_script(backend: Any) -> tuple[list[Any], list[Any]]:
    """(reads, writes) over the fixture world: the reads show what the writes change."""
    def tok(username: str) -> dict[str, str]:
        return {"Authorization": f"Token {backend.user_by_username(username).token}"}

    staff, owner, provider = tok("staff"), tok("cons_owner"), tok("prov_owner")
    o = backend.world.keys["orders"]
    create = test_http_fastwrite.create_body(backend, "m")
    reads = [
        ("GET", ORDERS, staff, {}),
        ("GET", ORDERS, owner, {}),
        ("GET", ORDERS + "?o=-created&page_size=5", staff, {}),
        ("GET", ORDERS + "?state=pending-consumer", staff, {}),
        ("GET", f"{ORDERS}{o['ord-pc-slurm']}/", staff, {}),
        ("GET", f"{ORDERS}{o['ord-pp-slurm']}/", provider, {}),
        ("GET", f"{ORDERS}{o['ord-exec-slurm']}/", staff, {}),
        ("GET", "/api/marketplace-resources/", staff, {}),
        ("GET", "/api/users/me/", owner, {}),
        ("GET", "/api/customers/", staff, {}),
        ("GET", ORDERS, {**staff, "X-Mock-Session": "m"}, {}),
    ]
    writes = [
        ("POST", ORDERS, staff, {"json": create}),
        ("POST", ORDERS, owner, {"json": create}),
        ("POST", f"{ORDERS}{o['ord-pc-slurm']}/approve_by_consumer/", owner, {}),
        ("POST", f"{ORDERS}{o['ord-pp-slurm']}/approve_by_provider/", provider, {}),
        ("POST", f"{ORDERS}{o['ord-exec-slurm']}/set_state_erred/", staff,
         {"json": {"error_message": "x"}}),
        ("POST", f"{ORDERS}{o['ord-exec-slurm']}/set_state_done/", staff, {}),
        ("POST", f"{ORDERS}{o['ord-pp-slurm']}/cancel/", staff, {}),
        ("POST", "/__mock__/reset", {}, {}),
        ("POST", f"/__mock__/orders/{o['ord-pc-slurm']}/state", {},
         {"json": {"state": "executing"}}),
        ("POST", ORDERS, {**staff, "X-Mock-Session": "m"}, {"json": create}),
        ("POST", ORDERS, {**staff, "Origin": "http://example.com"}, {"json": create}),
    ]
    return reads, writes


def test_remembered_answers_are_the_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    """A seeded random mix of reads and writes answers byte for byte as without the memo; most
    reads were answered from it (the comparison has teeth)."""
    import random

    computed: list[int] = []
    original = FrontDoor._fast_get

    async def spy(self: FrontDoor, scope: Any, receive: Any) -> Any:
        if self.answers is not None:
            computed.append(1)
        return await original(self, scope, receive)

    monkeypatch.setattr(FrontDoor, "_fast_get", spy)
    for memo_app, memo, plain in _apps(answer_memo=True):
        assert _front_door(memo_app).answers is not None
        assert _front_door(plain.app).answers is None
        reads, writes = _memo_script(memo_app.registry.get(None))
        pick = random.Random(14)
        steps = [pick.choice(writes) if pick.random() < 0.05 else pick.choice(reads)
                 for _ in range(400)]
        gets = sum(1 for step in steps if step[0] == "GET")
        for method, url, headers, kwargs in steps:
            where = f"{method} {url} {headers}"
            a, b = (_run(c, method, url, headers, kwargs) for c in (memo, plain))
            if url.startswith("/__mock__/"):  # its answers tell how long they took
                a, b = a[0], b[0]
            assert a == b, where
        assert len(computed) < gets / 2, (len(computed), gets)
        assert any(step in writes for step in steps)
        assert _journal(memo_app) == _journal(plain.app)  # remembered answers are journaled too


def test_a_write_or_a_completed_order_starts_a_new_generation() -> None:
    for memo_app, memo, _plain in _apps(answer_memo=True):
        door = _front_door(memo_app)
        backend = memo_app.registry.get(None)
        staff = {"Authorization": f"Token {backend.user_by_username('staff').token}"}
        url = f"{ORDERS}{backend.world.keys['orders']['ord-pc-slurm']}/"
        first = memo.get(url, headers=staff)
        assert len(door.answers) == 1
        generation = door.generation
        assert memo.get(url, headers=staff).content == first.content
        assert door.generation == generation
        memo.post(f"{ORDERS}nonexistent/cancel/", headers=staff)  # even a failed write
        assert door.generation == generation + 2
        for callback in memo_app.control.processor.completed:
            callback(backend, "x")
        assert door.generation == generation + 3
        memo.options(ORDERS, headers=staff)
        memo.head(url, headers=staff)
        assert door.generation == generation + 3


def test_served_memo_sees_the_processor_complete_an_order() -> None:
    """With `--process-delay`, an executing Basic order polled by GET turns done by itself:
    the completion is a change the remembered answer must not hide."""
    from test_control_processing import approve_by_provider, basic_order, wait_for_state

    from mockserver.pytest_plugin import start_stub
    from mockserver.settings import Settings

    server, mock = start_stub(Settings(process_delay=0.3, answer_memo=True))
    try:
        order = basic_order(mock)
        approve_by_provider(mock, order["uuid"])
        waited = wait_for_state(mock, order["uuid"], "done")
        assert waited >= 0.2
    finally:
        mock.close()
        server.stop()


def test_serve_remembers_answers_unless_told_not_to() -> None:
    from mockserver.cli import _settings, build_parser

    parser = build_parser()
    assert _settings(parser.parse_args(["serve"])).answer_memo is True
    assert _settings(parser.parse_args(["serve", "--no-answer-memo"])).answer_memo is False


def test_remembered_answers_stay_within_their_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    from mockserver import frontdoor

    monkeypatch.setattr(frontdoor, "MEMO_ENTRIES", 4)
    for memo_app, memo, plain in _apps(answer_memo=True):
        door = _front_door(memo_app)
        backend = memo_app.registry.get(None)
        staff = {"Authorization": f"Token {backend.user_by_username('staff').token}"}
        pages = [f"{ORDERS}?page_size={n}" for n in range(1, 9)]
        for url in pages:
            assert memo.get(url, headers=staff).content == plain.get(url, headers=staff).content
        assert len(door.answers) == 4
        assert door.memo_bytes == sum(len(a[2][1]) for a in door.answers.values())
        monkeypatch.setattr(frontdoor, "MEMO_BYTES", door.memo_bytes)  # full: the next evicts
        memo.get(pages[0], headers=staff)
        assert len(door.answers) <= 4
        assert door.memo_bytes <= frontdoor.MEMO_BYTES
        assert door.memo_bytes == sum(len(a[2][1]) for a in door.answers.values())
        assert [k[1] for k in door.answers][-1] == b"page_size=1"


def test_identical_with_the_control_api_off() -> None:
    for door_app, door, layered in _apps(control=False):
        assert _front_door(door_app).enabled
        for method, url, headers, kwargs in _script(door_app.registry.get(None))[:90]:
            where = f"{method} {url} {headers} {kwargs}"
            assert _run(door, method, url, headers, kwargs) == _run(layered, method, url,
                                                                     headers, kwargs), where


def test_identical_with_narrowed_cors_origins() -> None:
    """`--cors-origin`: an allowed origin is mirrored, another gets no CORS headers."""
    for door_app, door, layered in _apps(cors_origins=("http://allowed.example",)):
        backend = door_app.registry.get(None)
        staff = {"Authorization": f"Token {backend.user_by_username('staff').token}"}
        hexa = backend.world.keys["orders"]["ord-pc-slurm"]
        for origin in ("http://allowed.example", "http://other.example"):
            for method, url, kwargs in (("GET", ORDERS, {}), ("GET", f"{ORDERS}{hexa}/", {}),
                                        ("GET", "/api/customers/", {}),
                                        ("POST", f"{ORDERS}{hexa}/cancel/", {}),
                                        ("GET", f"{ORDERS}{hexa}/", {})):
                headers = {**staff, "Origin": origin}
                a = _run(door, method, url, headers, kwargs)
                assert a == _run(layered, method, url, headers, kwargs), (origin, method, url)
                names = {k for k, _ in a[1]}
                assert ("access-control-allow-origin" in names) is (origin.startswith(
                    "http://allowed")), a[1]


def test_a_world_replaced_in_process_is_noticed() -> None:
    for memo_app, memo, _plain in _apps(answer_memo=True):
        backend = memo_app.registry.get(None)
        staff = {"Authorization": f"Token {backend.user_by_username('staff').token}"}
        url = f"{ORDERS}{backend.world.keys['orders']['ord-pc-slurm']}/"
        assert memo.post(f"{url}approve_by_consumer/", headers=staff).status_code == 200
        before = memo.get(url, headers=staff).json()["state"]
        assert before != "pending-consumer"
        memo_app.registry.reset(None)  # no HTTP request: the generation stays
        assert memo.get(url, headers=staff).json()["state"] == "pending-consumer"
