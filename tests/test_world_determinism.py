"""Determinism: same seed + fixtures -> byte-identical state; per-entity randomness; API-created
orders independent of unrelated requests; export/import round trip."""

from __future__ import annotations

import copy
import json

import yaml

from mockserver.orders.models import OrdersBackend
from mockserver.orders.serializers import render_order
from mockserver.settings import DEFAULT_FIXTURES
from mockserver.world.fixtures import validate_fixtures
from mockserver.world.generate import build_world

BASE = "http://testserver"
RAW = yaml.safe_load(DEFAULT_FIXTURES.read_text())


def backend(seed: int = 1, orders: int = 30, raw=None) -> OrdersBackend:
    doc = validate_fixtures(raw or RAW, "default.yaml")
    return OrdersBackend.from_world(build_world(doc, seed=seed, orders=orders))


def dump(b: OrdersBackend) -> str:
    return json.dumps(b.export_state(), sort_keys=True)


def test_same_seed_same_world() -> None:
    assert dump(backend()) == dump(backend())


def test_different_seed_different_data() -> None:
    a, b = backend(1), backend(2)
    assert dump(a) != dump(b)
    assert a.world.keys["orders"]["ord-pc-slurm"] != b.world.keys["orders"]["ord-pc-slurm"]


def test_adding_an_entity_or_orders_changes_nothing_else() -> None:
    base = backend(orders=10)
    raw = copy.deepcopy(RAW)
    raw["customers"].insert(0, {"key": "newcomer"})
    raw["users"].insert(0, {"username": "zed", "token": "f" * 40})
    grown = backend(orders=20, raw=raw)
    for name, uuid in base.world.keys["orders"].items():
        assert grown.world.keys["orders"][name] == uuid
        staff_a, staff_b = base.user_by_username("staff"), grown.user_by_username("staff")
        assert render_order(base.orders[uuid], staff_a, BASE) == render_order(
            grown.orders[uuid], staff_b, BASE)
    # generated order i is the same whatever N is
    first10 = {o.uuid for o in base.orders.values()}
    assert first10 <= {o.uuid for o in grown.orders.values()}


def body(b: OrdersBackend, offering: str, name: str) -> dict:
    return {
        "project": f"{BASE}/api/projects/{b.world.keys['projects']['consumer-main']}/",
        "offering": f"{BASE}/api/marketplace-public-offerings/"
                    f"{b.world.keys['offerings'][offering]}/",
        "attributes": {"name": name},
    }


def scenario(interleave: bool) -> dict:
    b = backend()
    pm, owner, prov = (b.user_by_username(n) for n in ("proj_manager", "cons_owner", "prov_owner"))
    if interleave:  # unrelated requests before and between
        b.create_order(owner, body(b, "basic", "other"))
        b.run_action(prov, b.world.keys["orders"]["ord-pp-basic"], "approve_by_provider")
    order = b.create_order(pm, body(b, "slurm", "mine"))
    if interleave:
        b.create_order(pm, body(b, "slurm", "mine-too"))
        b.run_action(owner, b.world.keys["orders"]["ord-pc-basic"], "cancel")
    b.run_action(owner, order.uuid, "approve_by_consumer")
    b.run_action(prov, order.uuid, "approve_by_provider")
    b.run_action(prov, order.uuid, "set_state_done")
    return render_order(order, b.user_by_username("staff"), BASE)


def test_interleaving_unrelated_requests_does_not_change_an_order() -> None:
    plain, busy = scenario(False), scenario(True)
    assert plain == busy
    assert plain["state"] == "done" and plain["created"].startswith("2026-11-")


def test_identical_creates_get_distinct_reproducible_uuids() -> None:
    uuids = []
    for _ in range(2):
        b = backend()
        pm = b.user_by_username("proj_manager")
        uuids.append([b.create_order(pm, body(b, "slurm", "same")).uuid for _ in range(3)])
    assert uuids[0] == uuids[1] and len(set(uuids[0])) == 3


def test_modified_advances_by_fixed_step() -> None:
    b = backend()
    order = b.orders[b.world.keys["orders"]["ord-pp-slurm"]]
    before = order.modified
    b.run_action(b.user_by_username("prov_owner"), order.uuid, "approve_by_provider")
    assert (order.modified - before).total_seconds() == 1.25
    assert order.provider_reviewed_at == order.modified


def test_export_import_round_trip_is_byte_identical() -> None:
    b = backend(orders=60)
    b.create_order(b.user_by_username("cons_owner"), body(b, "slurm", "x"))
    text = dump(b)
    again = OrdersBackend.import_state(json.loads(text))
    assert dump(again) == text
    # the copy keeps counting identical creates where the original left off
    pm = b.user_by_username("proj_manager")
    assert b.create_order(pm, body(b, "slurm", "y")).uuid == again.create_order(
        again.user_by_username("proj_manager"), body(again, "slurm", "y")).uuid


def test_generated_orders_are_consistent_with_their_state() -> None:
    b = backend(orders=200)
    for o in b.orders.values():
        if o.state == "done":
            assert o.completed_at is not None and o.completed_at <= b.clock.anchor
        if o.state == "erred":
            assert o.error_message
        if o.state == "pending-start-date":
            assert o.start_date is not None and o.start_date > b.clock.today
        if o.state not in ("pending-consumer", "rejected"):
            assert o.consumer_reviewed_by is not None
        assert o.created <= o.modified < b.clock.anchor
