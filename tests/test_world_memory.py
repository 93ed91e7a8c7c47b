"""The memory and build-time savings of the generated world change no value: shared dicts and
strings are never updated in place, the fast uuid5 and the three-provider Faker give what the
reference code gives, the compact order index answers like a scan."""

from __future__ import annotations

import gc
import uuid as uuid_mod

import pytest
import yaml
from faker import Faker

from mockserver.cli import imports_frozen
from mockserver.orders.entities import Order
from mockserver.orders.exceptions import ApiError
from mockserver.orders.filters import OrderIndex
from mockserver.orders.models import OrdersBackend
from mockserver.orders.snapshot import encode
from mockserver.registry import BackendRegistry, collector_paused
from mockserver.settings import DEFAULT_FIXTURES, Settings
from mockserver.world import fixtures as fixtures_mod
from mockserver.world.fixtures import load_fixtures
from mockserver.world.generate import (
    FAKER_PROVIDERS,
    NAMESPACE,
    SHARED_EMPTY,
    build_world,
    entity_uuid,
    slugify,
)

DOC = load_fixtures(DEFAULT_FIXTURES)
DICTS = ("limits", "attributes", "options")


def generated_backend(orders: int = 400, snapshot: bool = False) -> OrdersBackend:
    backend = OrdersBackend.from_world(build_world(DOC, seed=3, orders=orders))
    return OrdersBackend.from_snapshot(backend.snapshot()) if snapshot else backend


def generated(b: OrdersBackend) -> list[Order]:
    return [o for o in b.index.by_created if o.resource.key.startswith("order:")]


def pick(orders: list[Order], state: str, order_type: str, with_limits: bool) -> Order:
    return next(o for o in orders if o.state == state and o.type == order_type
                and bool(o.limits) == with_limits)


# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind,key", [("order", "0"), ("order-resource", "99999"),
                                      ("fixture-order", "ord-pc-slurm"), ("plan", "slurm:ü")])
@pytest.mark.parametrize("seed", [1, 7, 123456789])
def test_entity_uuid_is_uuid5(seed: int, kind: str, key: str) -> None:
    assert entity_uuid(seed, kind, key) == uuid_mod.uuid5(NAMESPACE, f"{seed}:{kind}:{key}").hex


def test_every_generated_uuid_is_the_reference_uuid5() -> None:
    b = generated_backend(200)
    for order in generated(b):
        i = order.resource.key.removeprefix("order:")
        assert order.uuid == uuid_mod.uuid5(NAMESPACE, f"3:order:{i}").hex
        assert order.resource.uuid == uuid_mod.uuid5(NAMESPACE, f"3:order-resource:{i}").hex


def test_three_faker_providers_draw_what_the_full_faker_draws() -> None:
    full, lean = Faker("en_US"), Faker("en_US", providers=list(FAKER_PROVIDERS))
    for seed in range(40):
        for method, args in (("company", ()), ("catch_phrase", ()), ("word", ()),
                             ("sentence", ()), ("name", ()), ("words", (300,))):
            full.seed_instance(f"{seed}:{method}")
            lean.seed_instance(f"{seed}:{method}")
            assert [getattr(full, method)(*args) for _ in range(3)] == \
                [getattr(lean, method)(*args) for _ in range(3)]


def test_fixtures_parse_as_the_pure_python_loader_parses_them() -> None:
    text = DEFAULT_FIXTURES.read_text(encoding="utf-8")
    assert fixtures_mod._parse_yaml(text, DEFAULT_FIXTURES) == yaml.safe_load(text)


def test_slugify_returns_a_slug_itself() -> None:
    name = "alpha-beta-12"
    assert slugify(name) is name
    assert slugify("Alpha  Beta!") == "alpha-beta"


# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("snapshot", [False, True])
def test_generated_resources_share_the_orders_dicts(snapshot: bool) -> None:
    orders = generated(generated_backend(snapshot=snapshot))
    assert all(o.resource.limits is o.limits and o.resource.attributes is o.attributes
               for o in orders)
    empty = [o for o in orders if not o.limits]
    assert empty and all(o.limits is empty[0].limits for o in empty)
    assert all(o.resource.options is empty[0].limits for o in orders)


def run_until_done(b: OrdersBackend, order: Order) -> None:
    staff = next(u for u in b.world.users if u.is_staff)
    for action in ("approve_by_consumer", "approve_by_provider", "set_state_done"):
        if order.state == "done":
            break
        try:
            b.run_action(staff, order.uuid, action)
        except ApiError:
            pass
    assert order.state == "done"


@pytest.mark.parametrize("snapshot", [False, True])
def test_changing_one_order_changes_no_other_order_or_resource(snapshot: bool) -> None:
    b = generated_backend(snapshot=snapshot)
    staff = next(u for u in b.world.users if u.is_staff)
    orders = generated(b)
    before = {o.uuid: (encode(o), encode(o.resource)) for o in b.orders.values()}
    with_limits = pick(orders, "pending-consumer", "Create", True)
    without_limits = pick(orders, "pending-consumer", "Create", False)
    reviewed = pick(orders, "pending-provider", "Create", True)
    update = next(o for o in orders if o.state == "pending-consumer" and o.type == "Update"
                  and o.offering.type == "Marketplace.Basic")
    limit_types = [c.type for c in with_limits.offering.components if c.billing_type == "limit"]

    b.update_order(staff, with_limits.uuid, {"limits": dict.fromkeys(limit_types, 7),
                                             "attributes": {"name": "changed"}}, True)
    b.update_order(staff, without_limits.uuid, {"limits": {}, "attributes": {"x": 1}}, True)
    b.run_action(staff, reviewed.uuid, "approve_by_provider", {"attributes": {"y": 2}})
    b.update_order(staff, update.uuid, {"attributes": {"new_options": {"z": 3}}}, True)
    run_until_done(b, update)

    assert with_limits.limits == dict.fromkeys(limit_types, 7)
    assert reviewed.attributes["y"] == 2 and update.resource.options == {"z": 3}
    assert SHARED_EMPTY == {}
    changed = {with_limits.uuid, without_limits.uuid, reviewed.uuid, update.uuid}
    for order in b.orders.values():
        if order.uuid not in changed:
            assert (encode(order), encode(order.resource)) == before[order.uuid], order.uuid
    for order in (with_limits, without_limits, reviewed):  # the order's dicts, not its resource's
        resource, was = encode(order.resource), before[order.uuid][1]
        assert [resource[k] for k in DICTS] == [was[k] for k in DICTS]


def test_agent_writes_to_one_resource_leave_the_shared_empty_dicts_alone() -> None:
    """Generated resources share one empty `backend_metadata` and `current_usages` dict (200k
    dicts fewer at 100k orders); the site agent's writes assign new dicts."""
    from mockserver.agent.resources import set_backend_metadata
    from mockserver.agent.usages import set_usage

    b = generated_backend(120)
    staff = next(u for u in b.world.users if u.is_staff)
    resources = [o.resource for o in generated(b)]
    assert all(r.backend_metadata is SHARED_EMPTY and r.current_usages is SHARED_EMPTY
               for r in resources)
    first = resources[0]
    usage_target = next(r for r in resources[1:] if r.offering.components)
    set_backend_metadata(b, staff, first.uuid, {"backend_metadata": {"k": "v"}})
    ctype = usage_target.offering.components[0].type
    set_usage(b, staff, {"resource": usage_target.uuid,
                         "usages": [{"type": ctype, "amount": "3"}]})
    assert first.backend_metadata == {"k": "v"}
    assert ctype in usage_target.current_usages
    assert SHARED_EMPTY == {}
    untouched = [r for r in resources if r is not first and r is not usage_target]
    assert untouched and all(r.backend_metadata == {} and r.current_usages == {}
                             for r in untouched)


def test_a_backend_takes_its_worlds_orders_and_resources_off_the_collector() -> None:
    """memory.untrack: the collector never walks them, and they are still freed with their
    world (nothing refers back to them: reference counting is enough)."""
    import weakref

    class Probe:
        pass

    b = generated_backend(50)
    orders = list(b.orders.values())
    assert not any(gc.is_tracked(o) or gc.is_tracked(o.resource) for o in orders)
    probe = Probe()
    orders[0].attributes = {**orders[0].attributes, "probe": probe}
    gone = weakref.ref(probe)
    del b, orders, probe
    gc.collect()
    assert gone() is None


# ---------------------------------------------------------------------------------------------
def scan(orders: list[Order], attr: str, key: str) -> set[str]:
    return {o.uuid for o in orders if OrderIndex.ATTRS[attr](o) == key}


def assert_index_matches(index: OrderIndex, orders: list[Order], keys: dict[str, set[str]]
                         ) -> None:
    for attr, values in keys.items():
        for key in values:
            assert index.ids(attr, [key]) == scan(orders, attr, key), (attr, key)
        assert index.ids(attr, values) == {o.uuid for o in orders
                                           if OrderIndex.ATTRS[attr](o) in values}


def test_index_with_single_and_shared_values_answers_like_a_scan() -> None:
    world = build_world(DOC, seed=1, orders=60)
    orders = list(world.orders)
    keys = {attr: {fn(o) for o in orders} for attr, fn in OrderIndex.ATTRS.items()}
    shared = [o for o in orders if sum(p.resource is o.resource for p in orders) > 1]
    assert shared  # the fixture has orders on one resource: a set, not a single uuid
    index = OrderIndex(orders)
    assert_index_matches(index, orders, keys)

    for order in [*shared, orders[-1]]:  # to one member, to none
        index.remove(order)
        orders.remove(order)
        assert_index_matches(index, orders, keys)
    for order in [shared[0], world.orders[-1]]:
        index.add(order)
        orders.append(order)
        assert_index_matches(index, orders, keys)

    moved = orders[0]
    old, moved.state = moved.state, "erred" if moved.state != "erred" else "done"
    index.state_changed(moved, old)
    assert_index_matches(index, orders, keys)


def test_index_tables_are_built_on_first_lookup_from_the_orders_as_they_are_then() -> None:
    world = build_world(DOC, seed=2, orders=80)
    orders = list(world.orders)
    keys = {attr: {fn(o) for o in orders} for attr, fn in OrderIndex.ATTRS.items()}
    index = OrderIndex(orders)
    assert index.sets == {}  # nothing built at start-up
    index.ids("state", ["done"])
    assert list(index.sets) == ["state"]
    gone, moved = orders.pop(5), orders[0]
    index.remove(gone)  # before the other tables exist
    old, moved.state = moved.state, "erred" if moved.state != "erred" else "done"
    index.state_changed(moved, old)
    index.add(gone)
    orders.append(gone)
    assert_index_matches(index, orders, keys)
    assert set(index.sets) == set(OrderIndex.ATTRS)
    index.remove(gone)  # and after
    orders.remove(gone)
    assert_index_matches(index, orders, keys)

    own = [o for o in orders if o.resource.key.startswith("order:")]  # one order per resource
    index = OrderIndex(own)
    assert_index_matches(index, own, {"resource": {o.resource.uuid for o in own}})
    assert all(isinstance(v, str) for v in index.sets["resource"].values())


# ---------------------------------------------------------------------------------------------
def test_collector_paused_restores_the_collector() -> None:
    assert gc.isenabled()
    with pytest.raises(RuntimeError), collector_paused():
        assert not gc.isenabled()
        raise RuntimeError("build failed")
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()  # the caller's choice stands
    finally:
        gc.enable()


def test_registry_builds_with_the_collector_paused() -> None:
    seen: list[bool] = []

    def factory(settings: Settings) -> OrdersBackend:
        seen.append(gc.isenabled())
        return generated_backend(10)

    registry = BackendRegistry(Settings(), factory=factory)
    registry.get(None)
    registry.reset(None)
    assert seen == [False, False] and gc.isenabled()


def test_imports_frozen_freezes_and_restores_the_collector() -> None:
    try:
        with imports_frozen():
            assert not gc.isenabled()
        assert gc.isenabled() and gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
