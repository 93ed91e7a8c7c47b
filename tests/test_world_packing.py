"""mockserver.world.packing: a world stored by columns comes back as the same object graph
(same values, same sharing), and a world the columns cannot carry is pickled plainly."""

from __future__ import annotations

import gc
import json
import pickle
from datetime import timedelta, timezone
from typing import Any

from mockserver.orders.models import OrdersBackend
from mockserver.settings import DEFAULT_FIXTURES
from mockserver.world import packing
from mockserver.world.fixtures import load_fixtures
from mockserver.world.generate import SHARED_EMPTY, build_world

DOC = load_fixtures(DEFAULT_FIXTURES)


def exported(world: Any) -> str:
    return json.dumps(OrdersBackend(world).export_state(), sort_keys=True)


def shape(world: Any) -> list[tuple[str, int]]:
    """Every object reachable from the world, as (type, first-seen position of its identity)
    in a fixed walk: equal when the two graphs share exactly the same objects."""
    seen: dict[int, int] = {}
    out: list[tuple[str, int]] = []
    stack = [world]
    while stack:
        obj = stack.pop()
        if isinstance(obj, type):
            continue
        if id(obj) in seen:
            out.append((type(obj).__name__, seen[id(obj)]))
            continue
        seen[id(obj)] = len(seen)
        out.append((type(obj).__name__, -1))
        stack.extend(reversed(gc.get_referents(obj)))
    return out


def is_columns(blob: bytes) -> bool:
    return not isinstance(pickle.loads(blob), type(build_world(DOC, seed=1, orders=0)))


def test_columns_give_back_the_same_world_and_the_same_sharing() -> None:
    world = build_world(DOC, seed=5, orders=300)
    blob = packing.dumps(world)
    assert is_columns(blob)
    loaded = packing.loads(blob)
    assert exported(loaded) == exported(world)
    assert [type(o).__name__ for o in world.orders] == [type(o).__name__ for o in loaded.orders]
    generated = [o for o in loaded.orders if o.resource.key.startswith("order:")]
    assert all(o.resource.attributes is o.attributes and o.resource.limits is o.limits
               for o in generated)
    assert all(o.resource is r for o, r in zip(generated, [o.resource for o in generated],
                                               strict=True))
    assert {id(o.resource.options) for o in generated} == {id(generated[0].resource.options)}
    assert generated[0].resource.options == SHARED_EMPTY
    # the same objects shared the same way (the world's own instance dict aside)
    assert len(shape(loaded)) - len(shape(world)) in (0, 1)
    stamps = {id(o.created) for o in generated} | {id(o.resource.created) for o in generated}
    assert len(stamps) == len({id(o.created) for o in generated})  # order and resource share


def test_one_order_world_round_trips() -> None:
    world = build_world(DOC, seed=1, orders=1)
    world.orders = world.orders[:1]
    world.resources = [world.orders[0].resource]
    loaded = packing.loads(packing.dumps(world))
    assert len(loaded.orders) == 1 and loaded.orders[0].resource is loaded.resources[0]
    assert loaded.orders[0].uuid == world.orders[0].uuid


def test_a_world_the_columns_cannot_carry_is_pickled_plainly() -> None:
    world = build_world(DOC, seed=2, orders=40)
    world.orders[3].created = world.orders[3].created.astimezone(timezone(timedelta(hours=2)))
    blob = packing.dumps(world)
    assert not is_columns(blob)
    assert exported(packing.loads(blob)) == exported(world)

    world = build_world(DOC, seed=2, orders=40)
    world.orders[0].resource = world.orders[1].resource.__class__(
        **{f: getattr(world.orders[0].resource, f)
           for f in world.orders[0].resource.__dataclass_fields__})  # not in world.resources
    blob = packing.dumps(world)
    assert not is_columns(blob)
    assert exported(packing.loads(blob)) == exported(world)
