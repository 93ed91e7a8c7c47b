"""mockserver.fastwrite: writes answer byte-identically with the fast paths on and off (status,
every header, body, and the state they leave behind), with response validation on and off, over
a script of successes and errors (401/403/404/400/409/415/413, malformed JSON, forms, multipart);
what it cannot vouch for falls through to Connexion before the handler runs; concurrent
approvals of one order: exactly one wins."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mockserver.fastwrite import FastWriteMiddleware
from tests.conftest import BASE, ORDERS

JSON = "application/json"


def _apps(validate: bool) -> Iterator[tuple[Any, Any, Any]]:
    from starlette.testclient import TestClient

    from mockserver import create_app
    from mockserver.settings import Settings

    fast = create_app(Settings(validate_responses=validate, fast_path=True,
                               max_body_bytes=64 * 1024))
    slow = create_app(Settings(validate_responses=validate, fast_path=False,
                               max_body_bytes=64 * 1024))
    with TestClient(fast, base_url=BASE) as cf, TestClient(slow, base_url=BASE) as cs:
        yield fast, cf, cs


@pytest.fixture(scope="module", params=[True, False], ids=["validated", "unvalidated"])
def pair(request: Any) -> Iterator[tuple[Any, Any, Any]]:
    yield from _apps(request.param)


Call = tuple[str, str, dict[str, str], dict[str, Any]]  # method, url, headers, httpx kwargs


def create_body(backend: Any, name: str) -> dict[str, Any]:
    """A valid create of an order like the fixture's ord-pc-slurm (same offering, plan, project)."""
    order = backend.orders[backend.world.keys["orders"]["ord-pc-slurm"]]
    offering = f"{BASE}/api/marketplace-public-offerings/{order.offering.uuid}/"
    create = {"offering": offering, "project": f"{BASE}/api/projects/{order.project.uuid}/",
              "attributes": {"name": name}, "limits": {}, "accepting_terms_of_service": True}
    if order.plan is not None:
        create["plan"] = f"{offering}plans/{order.plan.uuid}/"
    return create


def _script(backend: Any) -> list[Call]:
    def tok(username: str) -> dict[str, str]:
        return {"Authorization": f"Token {backend.user_by_username(username).token}"}

    keys = backend.world.keys
    o = keys["orders"]
    staff, plain, owner = tok("staff"), tok("plain_user"), tok("cons_owner")
    pc, pp = o["ord-pc-slurm"], o["ord-pp-slurm"]
    create = create_body(backend, "x")
    js = {**staff, "Content-Type": JSON}
    act = f"{ORDERS}{pc}/"
    erred = f"{ORDERS}{o['ord-exec-slurm']}/set_state_erred/"
    return [
        ("POST", ORDERS, staff, {"json": create}),
        ("POST", ORDERS, staff, {"json": create}),  # the same body twice: a second order
        ("POST", ORDERS, owner, {"json": create}),
        ("POST", ORDERS, plain, {"json": create}),  # project not visible: 400
        ("POST", ORDERS, staff, {"json": {}}),
        ("POST", ORDERS, staff, {"json": {**create, "limits": {"cpu": "x"}}}),
        ("POST", ORDERS, staff, {"json": {**create, "type": "Bogus"}}),
        ("POST", ORDERS, staff, {"json": [1, 2]}),
        ("POST", ORDERS, staff, {"json": None}),
        ("POST", ORDERS, js, {"content": b"{not json"}),
        ("POST", ORDERS, js, {"content": b'{"a": NaN}'}),
        ("POST", ORDERS, js, {"content": b"\xff\xfe{}"}),
        ("POST", ORDERS, js, {"content": b""}),
        ("POST", ORDERS, {**staff, "Content-Type": "application/json; charset=latin-1"},
         {"content": b'{"attributes": {"name": "\xe9"}}'}),
        ("POST", ORDERS, {**staff, "Content-Type": "application/json; charset=utf-8"},
         {"content": b"{}"}),
        ("POST", ORDERS, {**staff, "Content-Type": "text/plain"}, {"content": b"{}"}),
        ("POST", ORDERS, {**staff, "Content-Type": "application/vnd.api+json"},
         {"content": b"{}"}),
        ("POST", ORDERS, staff, {"data": {"project": create["project"]}}),  # urlencoded form
        ("POST", ORDERS, staff, {"content": b"{}"}),  # no Content-Type
        ("POST", ORDERS + "?field=uuid", staff, {"json": create}),
        ("POST", ORDERS, {}, {"json": create}),  # 401
        ("POST", ORDERS, {"Authorization": "Token nope"}, {"json": create}),
        ("POST", ORDERS, {"Authorization": "Bearer x"}, {"json": create}),
        ("POST", ORDERS, {**staff, "X-Mock-Session": "s1"}, {"json": create}),
        ("POST", ORDERS, staff, {"content": b"x" * (70 * 1024),
                                 "headers": {"Content-Type": JSON}}),  # 413
        ("POST", f"{act}approve_by_consumer/", plain, {}),  # 404 (invisible)
        ("POST", f"{act}approve_by_consumer/", tok("proj_member"), {}),
        ("POST", f"{ORDERS}{'0' * 32}/approve_by_consumer/", staff, {}),
        ("POST", f"{ORDERS}not%20a%20uuid/approve_by_consumer/", staff, {}),
        ("POST", f"{ORDERS}{pc}/approve_by_consumer/", {}, {}),
        ("POST", f"{ORDERS}{pc}/approve_by_consumer/", {**staff, "Content-Type": "text/plain"},
         {"content": b"hello"}),
        ("POST", f"{ORDERS}{pc}/approve_by_consumer/", js, {"content": b"{broken"}),
        ("POST", f"{ORDERS}{pc}/approve_by_consumer/", owner, {}),  # 200
        ("POST", f"{ORDERS}{pc}/approve_by_consumer/", owner, {}),  # 409
        ("POST", f"{ORDERS}{pp}/reject_by_provider/", tok("prov_owner"), {"json": {}}),
        ("POST", f"{ORDERS}{pp}/cancel/", staff, {}),
        ("POST", erred, staff, {"json": {"error_message": "boom", "error_traceback": "tb"}}),
        ("POST", erred, staff, {"json": {"error_message": 12}}),
        ("POST", erred, staff, {"json": {"error_message": ["x"]}}),
        ("POST", erred, js, {"content": b"[}"}),
        ("POST", erred, {**staff, "Content-Type": "application/json;charset=latin-1"},
         {"content": '{"error_message": "caf\u00e9"}'.encode()}),  # UTF-8 read as latin-1
        ("POST", erred, {**staff, "Content-Type": "application/json;charset=UTF-8"},
         {"content": '{"error_message": "caf\u00e9 2"}'.encode()}),
        ("POST", erred, {**staff, "Content-Type": "application/json ; charset=utf-8"},
         {"content": b'{"error_message": "spaced"}'}),
        ("POST", erred, staff, {"json": "text"}),
        ("POST", f"{ORDERS}{o['ord-erred-slurm']}/retry/", staff, {}),
        ("POST", f"{ORDERS}{o['ord-exec-support']}/set_state_done/", staff, {}),
        ("POST", f"{ORDERS}{o['ord-exec-slurm']}/set_backend_id/", staff,
         {"json": {"backend_id": "b-1"}}),
        ("POST", f"{ORDERS}{o['ord-exec-slurm']}/set_backend_id/", staff, {"json": {}}),
        ("POST", f"{ORDERS}{o['ord-exec-slurm']}/set_provider_info/", staff,
         {"json": {"provider_message": "hi", "provider_message_url": "http://x.org/"}}),
        ("POST", f"{ORDERS}{o['ord-exec-slurm']}/set_provider_info/", staff,
         {"files": {"provider_message_attachment": ("a.txt", b"abc", "text/plain")},
          "data": {"provider_message": "multipart"}}),
        ("POST", f"{ORDERS}{o['ord-exec-slurm']}/set_consumer_info/", staff,
         {"json": {"consumer_message": "hello"}}),
        ("POST", f"{ORDERS}{o['ord-exec-slurm']}/update_attachment/", staff,
         {"files": {"attachment": ("b.pdf", b"%PDF", "application/pdf")}}),
        ("POST", f"{ORDERS}{o['ord-exec-slurm']}/delete_attachment/", staff, {}),
        ("PATCH", act, staff, {"json": {"start_date": "2030-01-01"}}),
        ("PATCH", act, staff, {"json": {"start_date": "nope"}}),
        ("PUT", act, staff, {"json": {"start_date": "2031-01-01"}}),
        ("PUT", act, plain, {"json": {}}),
        ("DELETE", f"{ORDERS}{o['ord-done-slurm']}/", staff, {}),
        ("DELETE", f"{ORDERS}{o['ord-done-slurm']}/", staff, {}),  # gone: 404
        ("POST", f"{ORDERS}{o['ord-done-basic']}/unlink/", staff, {}),
        ("POST", f"{ORDERS}{o['ord-done-basic']}/unlink/", owner, {}),
        ("DELETE", ORDERS, staff, {}),  # 405
        ("POST", f"{ORDERS}dashboard-my-orders/", staff, {}),
        ("PATCH", f"{ORDERS}{pc}/approve_by_consumer/", staff, {}),  # 405
        ("POST", f"{ORDERS}{pc}/nonsense/", staff, {}),
        ("POST", f"{ORDERS}{pc}/approve_by_consumer", staff, {}),  # 301
        ("POST", f"{ORDERS}{pc}/approve_by_consumer/", {**staff, **owner}, {}),
        ("POST", f"{ORDERS}{pc}/cancel/", {**staff, "Origin": "http://example.com"}, {}),
    ]


def _snapshot(response: httpx.Response) -> tuple[int, list[tuple[str, str]], bytes]:
    return response.status_code, response.headers.multi_items(), response.content


def test_identical_with_and_without_fast_path(pair: tuple[Any, Any, Any]) -> None:
    fast_app, fast, slow = pair
    for client in (fast, slow):
        client.app.control.reset(None)
    for method, url, headers, kwargs in _script(fast_app.registry.get(None)):
        extra = kwargs.pop("headers", {}) if "headers" in kwargs else {}
        a = fast.request(method, url, headers={**headers, **extra}, follow_redirects=False,
                         **kwargs)
        b = slow.request(method, url, headers={**headers, **extra}, follow_redirects=False,
                         **kwargs)
        kwargs["headers"] = extra
        where = f"{method} {url} {headers} {kwargs}"
        assert _snapshot(a) == _snapshot(b), where
        states = [c.app.registry.get(None).export_state() for c in (fast, slow)]
        assert states[0] == states[1], where


def test_the_script_covers_every_answer(pair: tuple[Any, Any, Any]) -> None:
    """The comparison above is worth something: it meets each status it claims to cover."""
    fast_app, fast, _slow = pair
    fast_app.control.reset(None)
    seen = set()
    for method, url, headers, kwargs in _script(fast_app.registry.get(None)):
        extra = kwargs.pop("headers", {})
        seen.add(fast.request(method, url, headers={**headers, **extra},
                              follow_redirects=False, **kwargs).status_code)
    assert {200, 201, 204, 301, 400, 401, 403, 404, 405, 409, 413, 415} <= seen, seen


def test_fast_path_serves_plain_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    served: list[bool] = []
    original = FastWriteMiddleware._run

    async def spy(self: Any, *args: Any) -> Any:
        served.append(True)
        return await original(self, *args)

    monkeypatch.setattr(FastWriteMiddleware, "_run", spy)
    for app, fast, _slow in _apps(validate=True):
        backend = app.registry.get(None)
        staff = {"Authorization": f"Token {backend.user_by_username('staff').token}"}
        erred = f"{ORDERS}{backend.world.keys['orders']['ord-exec-slurm']}/set_state_erred/"
        checks: list[tuple[dict[str, Any], int, bool]] = [
            ({"headers": staff, "json": {"error_message": "x"}}, 200, True),
            ({"headers": staff, "json": {"error_message": ["x"]}}, 400, True),
            ({"headers": {**staff, "Content-Type": JSON}, "content": b"{"}, 400, False),
            ({"json": {}}, 401, False),
            ({"headers": staff, "json": {}, "params": {"field": "x"}}, 200, False),
            ({"headers": {**staff, "Content-Type": "text/plain"}, "content": b"x"}, 415, False),
        ]
        for kwargs, status, fast_served in checks:
            before = len(served)
            response = fast.post(erred, **kwargs)
            assert response.status_code == status, response.content
            assert (len(served) > before) == fast_served, (status, response.content)


def test_a_non_conforming_write_is_the_same_500(monkeypatch: pytest.MonkeyPatch) -> None:
    """Response validation still judges fast answers: a create answering a bogus `state` is
    Connexion's 500 either way."""
    from mockserver.orders import responses

    original = responses.render_order

    def bogus(*args: Any, **kwargs: Any) -> dict[str, Any]:
        return {**original(*args, **kwargs), "state": "bogus"}

    monkeypatch.setattr(responses, "render_order", bogus)
    for app, fast, slow in _apps(validate=True):
        script = _script(app.registry.get(None))
        method, url, headers, kwargs = script[0]
        a = fast.request(method, url, headers=headers, **kwargs)
        b = slow.request(method, url, headers=headers, **kwargs)
        assert a.status_code == b.status_code == 500
        assert _snapshot(a) == _snapshot(b)


def test_forty_concurrent_approvals_one_wins() -> None:
    from mockserver import create_app
    from mockserver.settings import Settings

    app = create_app(Settings(fast_path=True))
    backend = app.registry.get(None)
    uuid = backend.world.keys["orders"]["ord-pc-slurm"]
    owner = {"Authorization": f"Token {backend.user_by_username('cons_owner').token}"}

    async def main() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as c:
            return await asyncio.gather(*[
                c.post(f"{ORDERS}{uuid}/approve_by_consumer/", headers=owner)
                for _ in range(40)])

    responses = asyncio.run(main())
    assert sorted(r.status_code for r in responses) == [200] + [409] * 39
    assert backend.orders[uuid].state == "pending-provider"


def test_answers_are_checked_before_they_are_sent_streamed_ones_as_they_go() -> None:
    """`checked_send`: a whole `Response` is judged at once (a non-conforming one raises
    before anything is sent); a streamed answer goes through the buffering wrapper, with the
    same verdicts."""
    from connexion.exceptions import NonConformingResponseBody
    from starlette.responses import Response, StreamingResponse
    from starlette.testclient import TestClient

    from mockserver import create_app
    from mockserver.fastwrite import MemoResponseValidation, _match
    from mockserver.settings import Settings
    from mockserver.validators import VALIDATOR_MAP

    app = create_app(Settings(fast_path=True))
    with TestClient(app, base_url=BASE) as client:
        backend = app.registry.get(None)
        staff = {"Authorization": f"Token {backend.user_by_username('staff').token}"}
        created = client.post(ORDERS, headers=staff, json=create_body(backend, "checked"))
        assert created.status_code == 201
    fast, _params = _match("/api/marketplace-orders/", "POST")
    validation = MemoResponseValidation(operation=fast.operation, validator_map=VALIDATOR_MAP)
    scope = {"type": "http", "method": "POST", "path": "/api/marketplace-orders/"}
    good, bad = created.content, created.content.replace(b'"state":"', b'"state":"bogus-', 1)
    headers = {"Location": created.headers["location"]}

    sent: list[dict[str, Any]] = []

    async def run(response: Any) -> bytes:
        sent.clear()

        async def send(message: Any) -> None:
            sent.append(message)

        async def receive() -> Any:
            return {"type": "http.disconnect"}

        checked = validation.checked_send(response, scope, send)
        assert (checked is send) == (type(response) is Response)  # no wrapper for a Response
        await response(scope, receive, checked)
        return b"".join(m.get("body", b"") for m in sent)

    def whole(body: bytes) -> Response:
        return Response(body, 201, headers, media_type=JSON)

    def streamed(body: bytes) -> StreamingResponse:
        async def chunks() -> Any:
            yield body[:100]
            yield body[100:]
        return StreamingResponse(chunks(), 201, headers, media_type=JSON)

    assert asyncio.run(run(whole(good))) == good
    assert asyncio.run(run(streamed(good))) == good
    with pytest.raises(NonConformingResponseBody):
        asyncio.run(run(whole(bad)))
    with pytest.raises(NonConformingResponseBody):
        asyncio.run(run(streamed(bad)))
    assert sent == []  # judged before anything went out, either way
