"""The write path's speed-ups change no answer (issue 14): the inlined uuid5 and canonical JSON
give the reference values, the created-order list is still copy-on-write for whoever holds it,
and the server's frozen world is thawed (and its garbage collected) before it is replaced."""

from __future__ import annotations

import gc
import json
import uuid as uuid_mod
import weakref
from typing import Any

import pytest

from mockserver import registry as registry_mod
from mockserver.memory import SERVING_THRESHOLDS
from mockserver.orders import models
from mockserver.orders.filters import OrderIndex
from mockserver.orders.models import NAMESPACE, OrdersBackend, uuid5_hex
from mockserver.registry import BackendRegistry
from mockserver.settings import Settings
from mockserver.validators import ParseError, parse_json
from mockserver.world.generate import build_world
from tests.test_world_memory import DOC


@pytest.mark.parametrize("name", ["", "resource:" + "a" * 32, "1:u:{\"a\":[1,2.5,null]}:0",
                                  "ünïcödé ✓ 中", "x" * 5000])
def test_uuid5_hex_is_the_reference_uuid5(name: str) -> None:
    assert uuid5_hex(name) == uuid_mod.uuid5(NAMESPACE, name).hex


def test_canonical_json_is_the_reference_dumps() -> None:
    body = {"z": 1, "a": {"y": [1.5, None, True], "b": "ü"}, "n": 10**30, "o": {1, 2}.__class__}
    assert models._CANONICAL_JSON.encode(body) == json.dumps(
        body, sort_keys=True, separators=(",", ":"), default=str)


@pytest.mark.parametrize("raw", [b"\xef\xbb\xbf{}", b'{"a": NaN}', b'{"a": 1', b"[1, 2]",
                                 b'"\\ud800"', b"1e400"])
def test_parse_json_answers_like_json_loads(raw: bytes) -> None:
    def reference() -> object:
        try:
            return json.loads(raw.decode(), parse_constant=lambda v: (_ for _ in ()).throw(
                ValueError(f"Out of range float values are not JSON compliant: {v!r}")))
        except ValueError as exc:
            return f"JSON parse error - {exc}"

    try:
        got: object = parse_json(raw)
    except ParseError as exc:
        got = exc.body["detail"]
    assert got == reference()


def _backend(orders: int = 30) -> OrdersBackend:
    return OrdersBackend.from_world(build_world(DOC, seed=3, orders=orders))


def test_a_created_list_handed_out_is_never_mutated() -> None:
    backend = _backend()
    index: OrderIndex = backend.index
    held = index.by_created
    snapshot = list(held)
    new = backend.create_order(_staff(backend), _create_body(backend))
    assert held == snapshot  # the reader's list is unchanged...
    assert index.by_created is not held and new in index.by_created  # ...the index moved on
    held_again = index.by_created
    index.remove(new)
    assert new in held_again and new not in index.by_created


def test_creates_insert_in_place_while_nobody_holds_the_list() -> None:
    backend = _backend()
    index = backend.index
    first, second, third = (_create_body(backend, name) for name in ("1", "2", "3"))
    own = index.by_created  # handed out: the next change copies
    backend.create_order(_staff(backend), first)
    copied = index._by_created
    assert copied is not own
    backend.create_order(_staff(backend), second)
    backend.create_order(_staff(backend), third)
    assert index._by_created is copied  # nobody held it: inserted in place
    keys = [(o.created, o.uuid) for o in index.by_created]
    assert keys == sorted(keys)


def _staff(backend: OrdersBackend):  # noqa: ANN202
    return next(u for u in backend.users.values() if u.is_staff)


def _create_body(backend: OrdersBackend, name: str = "first") -> dict:
    order = next(o for o in backend.index.by_created if o.offering.state == "Active"
                 and not o.project.customer.blocked and not o.project.customer.archived
                 and o.project.end_date is None)
    body = {"project": f"http://x/api/projects/{order.project.uuid}/",
            "offering": f"http://x/api/marketplace-public-offerings/{order.offering.uuid}/",
            "attributes": {"name": name}, "accepting_terms_of_service": True}
    if order.plan is not None and order.plan.offering is order.offering:
        body["plan"] = (f"http://x/api/marketplace-public-offerings/{order.offering.uuid}"
                        f"/plans/{order.plan.uuid}/")
    return body


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def test_the_served_world_is_frozen_and_thawed_before_it_is_replaced(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry_mod, "COLLECT_ABOVE", 40)  # 42 orders: large; 27: small
    cycles: list[weakref.ref[_Cycle]] = []

    def factory(settings: Settings) -> OrdersBackend:
        backend = _backend(20)
        backend.cycle = _Cycle()  # type: ignore[attr-defined]  # garbage only the collector frees
        cycles.append(weakref.ref(backend.cycle))  # type: ignore[attr-defined]
        return backend

    frozen_before = gc.get_freeze_count()
    registry = BackendRegistry(Settings(), factory=factory)
    try:
        registry.get(None)
        registry.freeze_large_world()
        assert gc.get_freeze_count() > frozen_before
        registry.reset(None)
        assert cycles[0]() is None  # the old world was thawed, then collected
        assert gc.get_freeze_count() > 0  # the new one is frozen in turn
        registry.put(None, _backend(5))  # a small imported state: thawed, not frozen again
        assert cycles[1]() is None
        assert not registry._frozen
    finally:
        gc.unfreeze()
        if frozen_before:
            gc.freeze()


def test_small_worlds_and_other_registries_are_never_frozen() -> None:
    registry = BackendRegistry(Settings(), factory=lambda s: _backend(5))
    registry.get(None)
    registry.freeze_large_world()
    assert not registry._frozen
    registry.reset(None)
    assert not registry._frozen


def test_serve_freezes_a_large_world_and_tunes_the_collector(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import uvicorn

    from mockserver import cli

    served: list[Any] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: served.append(app))
    monkeypatch.setattr(registry_mod, "COLLECT_ABOVE", 40)  # 22 fixture + 20 generated orders
    monkeypatch.setenv("WALDUR_MOCK_CACHE", "0")
    frozen_before = gc.get_freeze_count()
    thresholds = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    try:
        assert cli.main(["serve", "--orders", "20", "--port", "0", "--no-access-log"]) == 0
        assert served and served[0].registry._frozen and gc.get_freeze_count() > 0
        # and serves with the young generation collected every 20,000 allocations, not 700
        assert gc.get_threshold() == SERVING_THRESHOLDS and SERVING_THRESHOLDS[0] == 20_000
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()
        if frozen_before:
            gc.freeze()
    capsys.readouterr()


def test_touching_a_resource_refreshes_exactly_its_orders() -> None:
    """agent.resources.touch_resource finds the orders of a resource through the index (a
    just-created order included)."""
    from mockserver.agent.resources import touch_resource

    backend = _backend()
    new = backend.create_order(_staff(backend), _create_body(backend))
    shared = [o for o in backend.orders.values() if o.resource is not None
              and sum(p.resource is o.resource for p in backend.orders.values()) > 1]
    assert shared  # a resource with more than one order
    for resource in (new.resource, shared[0].resource):
        before = {uuid: o.rev for uuid, o in backend.index.orders.items()}
        touch_resource(backend, resource)
        bumped = {uuid for uuid, o in backend.index.orders.items() if o.rev != before[uuid]}
        assert bumped == {uuid for uuid, o in backend.index.orders.items()
                          if o.resource is resource}
        assert all(backend.index.orders[u].rev == before[u] + 1 for u in bumped)
