"""mockserver.fastpath: GET list / retrieve answer byte-identically with the fast path on and
off (status, every header, body), with response validation on and off; what the fast path is
unsure of falls through to Connexion."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from mockserver.fastpath import FastPathMiddleware
from tests.conftest import BASE, ORDERS

JSON = "application/json"


def _clients(validate: bool) -> Iterator[tuple[Any, Any, Any]]:
    from starlette.testclient import TestClient

    from mockserver import create_app
    from mockserver.settings import Settings

    fast = create_app(Settings(validate_responses=validate, fast_path=True))
    slow = create_app(Settings(validate_responses=validate, fast_path=False))
    with TestClient(fast, base_url=BASE) as cf, TestClient(slow, base_url=BASE) as cs:
        yield fast, cf, cs


@pytest.fixture(scope="module", params=[True, False], ids=["validated", "unvalidated"])
def pair(request: Any) -> Iterator[tuple[Any, Any, Any]]:
    yield from _clients(request.param)


def _requests(backend: Any) -> list[tuple[str, dict[str, str]]]:
    def tok(username: str) -> dict[str, str]:
        return {"Authorization": f"Token {backend.user_by_username(username).token}"}

    keys = backend.world.keys["orders"]
    hexa = keys["ord-pc-slurm"]
    dashed = f"{hexa[:8]}-{hexa[8:12]}-{hexa[12:16]}-{hexa[16:20]}-{hexa[20:]}"
    staff, plain = tok("staff"), tok("plain_user")
    token = backend.user_by_username("staff").token
    return [
        (ORDERS, staff),
        (ORDERS, plain),
        (ORDERS, tok("cons_owner")),
        (ORDERS + "?page=2&page_size=5", staff),
        (ORDERS + "?page=last", staff),
        (ORDERS + "?page=99", staff),
        (ORDERS + "?state=executing&o=-created", staff),
        (ORDERS + "?state=bogus", staff),
        (ORDERS + "?field=uuid&field=state&page_size=3", staff),
        (ORDERS + f"?x-auth-token={token}&page_size=2", {}),
        (ORDERS, {}),
        (ORDERS, {"Authorization": "Token nope"}),
        (ORDERS, {"Authorization": "Bearer x"}),
        (f"{ORDERS}{hexa}/", staff),
        (f"{ORDERS}{dashed}/", staff),
        (f"{ORDERS}{hexa.upper()}/", staff),
        (f"{ORDERS}{hexa}/?field=uuid&field=state", staff),
        (f"{ORDERS}{hexa}/", tok("support")),
        (f"{ORDERS}{hexa}/", plain),  # invisible -> 404
        (f"{ORDERS}{'0' * 32}/", staff),
        (f"{ORDERS}not-a-uuid/", staff),
        (f"{ORDERS}{hexa}/", {}),
        (f"{ORDERS}{hexa}/?x-auth-token={token}", {}),
        (f"{ORDERS}dashboard-my-orders/", staff),
        (f"{ORDERS}{hexa}", staff),  # 301
        (f"{ORDERS}{hexa}/", {**staff, "X-Mock-Session": "other"}),
        (ORDERS, {**staff, "Origin": "http://example.com"}),
        (ORDERS, {**staff, "Content-Type": "application/json"}),
        (f"{ORDERS}{hexa}/", {**staff, "Content-Type": "text/plain; charset=latin-1"}),
        (f"{ORDERS}{hexa}/", {**staff, "Content-Length": "0"}),
        (ORDERS, {**staff, "Authorization": "token " + token}),
    ]


def test_identical_with_and_without_fast_path(pair: tuple[Any, Any, Any]) -> None:
    app, fast, slow = pair
    for method in ("GET", "HEAD"):
        for url, headers in _requests(app.registry.get(None)):
            a = fast.request(method, url, headers=headers, follow_redirects=False)
            b = slow.request(method, url, headers=headers, follow_redirects=False)
            where = f"{method} {url} {headers}"
            assert a.status_code == b.status_code, where
            assert a.headers.multi_items() == b.headers.multi_items(), where
            assert a.content == b.content, where
        c = fast.request(method, ORDERS, headers=_requests(app.registry.get(None))[0][1],
                         content=b'{"x": 1}')
        d = slow.request(method, ORDERS, headers=_requests(app.registry.get(None))[0][1],
                         content=b'{"x": 1}')
        assert (c.status_code, c.headers.multi_items(), c.content) == (
            d.status_code, d.headers.multi_items(), d.content)


def test_fast_path_serves_the_hot_reads(pair: tuple[Any, Any, Any],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    app, fast, _slow = pair
    served: list[int] = []
    original = FastPathMiddleware._try

    async def spy(self: Any, scope: Any, receive: Any) -> Any:
        response = await original(self, scope, receive)
        served.append(response is not None)
        return response

    monkeypatch.setattr(FastPathMiddleware, "_try", spy)
    backend = app.registry.get(None)
    staff = {"Authorization": f"Token {backend.user_by_username('staff').token}"}
    hexa = backend.world.keys["orders"]["ord-pc-slurm"]
    assert fast.get(ORDERS, headers=staff).status_code == 200
    assert fast.get(f"{ORDERS}{hexa}/", headers=staff).status_code == 200
    assert fast.get(ORDERS + "?state=bogus", headers=staff).status_code == 400
    assert fast.get(ORDERS).status_code == 401
    assert fast.get(ORDERS, headers={**staff, "Content-Type": JSON}).status_code == 200
    assert served == [True, True, False, False, True]


# ---------------------------------------------------------------------------------------------
# Validation once per order revision (rendercache.Entry.conforms)


def _staff(backend: Any) -> dict[str, str]:
    return {"Authorization": f"Token {backend.user_by_username('staff').token}"}


def test_each_order_is_validated_once_per_revision() -> None:
    from mockserver.fastpath import LIST_PATH, RETRIEVE_PATH, _checks

    for app, fast, _slow in _clients(validate=True):
        backend = app.registry.get(None)
        staff = backend.user_by_username("staff")
        page = fast.get(ORDERS, headers=_staff(backend)).json()
        listed = _checks(LIST_PATH).order
        entries = [backend.render_cache.entry(backend.orders[o["uuid"]], staff, BASE)
                   for o in page]
        assert listed is not None and all(e.passed == (listed,) for e in entries)
        uuid = page[0]["uuid"]
        assert fast.get(f"{ORDERS}{uuid}/", headers=_staff(backend)).status_code == 200
        assert entries[0].passed == (listed, _checks(RETRIEVE_PATH).order)
        # a change makes a new entry, which has passed nothing until it is served again
        order = backend.orders[uuid]
        order.rev += 1
        fresh = backend.render_cache.entry(order, staff, BASE)
        assert fresh is not entries[0] and fresh.passed == ()
        assert fast.get(ORDERS, headers=_staff(backend)).status_code == 200
        assert fresh.passed == (listed,)


def test_a_non_conforming_order_falls_through_to_connexion() -> None:
    """An order the spec does not allow (here a bogus `type`) makes the validated list and
    retrieve a 500 from Connexion's response validation, even after the same page and order
    had passed (and been remembered) at their previous revision."""
    for _app, fast, slow in _clients(validate=True):
        for client in (fast, slow):  # each app has its own backend
            backend = client.app.registry.get(None)
            page = client.get(ORDERS, headers=_staff(backend))
            assert page.status_code == 200
            uuid = page.json()[0]["uuid"]
            assert client.get(f"{ORDERS}{uuid}/", headers=_staff(backend)).status_code == 200
            order = backend.orders[uuid]
            order.type, order.rev = "Bogus", order.rev + 1
        for url in (ORDERS, f"{ORDERS}{uuid}/"):
            a = fast.get(url, headers=_staff(fast.app.registry.get(None)))
            b = slow.get(url, headers=_staff(slow.app.registry.get(None)))
            assert a.status_code == b.status_code == 500, url
            assert a.content == b.content and b"does not conform" in a.content


def test_entry_remembers_passes_not_failures() -> None:
    from mockserver.orders.rendercache import Entry

    calls: list[bytes] = []

    def ok(encoded: bytes) -> bool:
        calls.append(encoded)
        return True

    def bad(encoded: bytes) -> bool:
        calls.append(encoded)
        return False

    entry = Entry((), {}, b"{}")
    assert entry.conforms(ok) and entry.conforms(ok) and len(calls) == 1
    assert not entry.conforms(bad) and not entry.conforms(bad) and len(calls) == 3
    assert not Entry((), {}, None).conforms(ok) and len(calls) == 3
