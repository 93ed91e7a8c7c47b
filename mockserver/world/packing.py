"""A world as pickle bytes, its orders and resources stored by columns (world/cache.py).

A plain pickle of a world stores every order as a slotted dataclass whose state is a list of its
45 field values, and every timestamp as a `datetime.__reduce__` tuple. The unpickler keeps each
of these temporaries in its memo until the whole load ends: at 100k orders that is ~80 MiB of
small objects interleaved with the world's own, which stay resident as fragmented heap after
the load (VmRSS 285 vs 209 MiB for a built world), and each object is restored field by field
in Python (`dataclasses._dataclass_setstate`).

Here the bulk is stored column-wise instead: per field of `Order` and `Resource`, either one
shared value, a list of the values, timestamps as indexes into one table of instants (ISO
texts), or (an order's resource) indexes into the resource list. Loading rebuilds the
objects with `map(cls, *columns)` (the dataclass constructor, in C-level loops) and creates no
per-object temporaries. Everything else in the world (users, projects, offerings, plans,
grants...) is pickled as usual, in the same stream, so an order refers to the very same
project or plan objects. Shared objects stay shared, distinct mutable ones distinct (equal
instants may become one object: they are immutable); `tests/test_world_packing.py`.

A world this layout cannot carry (an order or resource referred to from elsewhere, a
timestamp that is not UTC) is pickled the plain way; `loads` reads both.
"""

from __future__ import annotations

import gc
import pickle
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import fields, replace
from datetime import UTC, datetime
from itertools import repeat
from operator import attrgetter, is_
from typing import Any

from mockserver.orders.entities import Order, Resource, World

_FORMAT = "waldur-mock-world-columns/2"

# column kinds
_SAME, _VALUES, _STAMPS, _RESOURCES = 0, 1, 2, 3


class _Unpackable(Exception):
    """The world has a shape the columns cannot carry: pickle it plainly."""


def _refers_to_bulk(root: object) -> bool:
    """Whether an Order or Resource is reachable from `root` (the world without its bulk: a
    few hundred objects); pickled outside the columns, it would be a second copy."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, type):
            continue
        seen.add(id(obj))
        if type(obj) is Order or type(obj) is Resource:
            return True
        stack.extend(gc.get_referents(obj))
    return False


class _Instants:
    """The distinct instants of the columns, as one table. Equal instants become one object
    (they are immutable; a generated world already shares them)."""

    def __init__(self) -> None:
        self.position: dict[datetime | None, int] = {None: -1}
        self.table: list[datetime] = []

    def encode(self, values: Sequence[datetime | None]) -> bytes:
        """Each value's index in the table (-1 for None), new instants appended (C-level
        passes: this runs over every timestamp column of 100k orders)."""
        if not set(map(attrgetter("tzinfo"), filter(None, values))) <= {UTC} or any(
                map(attrgetter("fold"), filter(None, values))):
            raise _Unpackable("a timestamp that is not plain UTC")
        position, table = self.position, self.table
        new = [v for v in dict.fromkeys(values) if v not in position]
        position.update(zip(new, range(len(table), len(table) + len(new)), strict=True))
        table.extend(new)
        return array("i", map(position.__getitem__, values)).tobytes()

    def packed(self) -> str:
        """ISO 8601, comma-separated: `datetime.fromisoformat` reads them back ~3x faster than
        any arithmetic from integers, and gives the same `UTC` tzinfo object."""
        return ",".join(map(datetime.isoformat, self.table))


def dumps(world: World) -> bytes:
    """`world` as bytes for `loads` (by columns, or plainly if it has to be)."""
    try:
        return _dumps_columns(world)
    except _Unpackable:
        return pickle.dumps(world, protocol=pickle.HIGHEST_PROTOCOL)


def loads(blob: bytes) -> World:
    """The world `dumps` stored (either layout)."""
    data = pickle.loads(blob)  # noqa: S301 - our own bytes (the cache), never a client's
    if isinstance(data, World):
        return data
    fmt, shell, instants, (n_resources, resource_columns), (n_orders, order_columns) = data
    if fmt != _FORMAT:
        raise ValueError(f"unknown world layout {fmt!r}")
    table: list[datetime | None] = (
        list(map(datetime.fromisoformat, instants.split(","))) if instants else [])
    table.append(None)  # index -1
    resources = list(map(Resource, *_columns(resource_columns, n_resources, table, [])))
    orders = list(map(Order, *_columns(order_columns, n_orders, table, resources)))
    shell.resources = resources
    shell.orders = orders
    return shell


def _dumps_columns(world: World) -> bytes:
    resources, orders = world.resources, world.orders
    if not orders:
        raise _Unpackable("nothing to gain")
    instants = _Instants()
    resource_at = {r: i for i, r in enumerate(resources)}  # eq=False: by identity
    resource_columns = _encode(Resource, resources, instants, {})
    order_columns = _encode(Order, orders, instants, {"resource": resource_at})
    shell = replace(world, resources=[], orders=[])
    if _refers_to_bulk(shell):
        raise _Unpackable("an order or resource referred to from outside the columns")
    return pickle.dumps((_FORMAT, shell, instants.packed(), (len(resources), resource_columns),
                         (len(orders), order_columns)), protocol=pickle.HIGHEST_PROTOCOL)


def _encode(cls: type, objects: list[Any], instants: _Instants,
            refs: dict[str, dict[Any, int]]) -> list[tuple[int, Any]]:
    columns: list[tuple[int, Any]] = []
    names = [f.name for f in fields(cls)]
    # one pass over the objects, then transposed: ~2x faster than a pass per field
    by_field = list(zip(*map(attrgetter(*names), objects), strict=True)) or [()] * len(names)
    for name, values in zip(names, by_field, strict=True):
        first = values[0] if values else None
        if name in refs:
            at = refs[name]
            try:
                columns.append((_RESOURCES,
                                array("i", map(at.__getitem__, values)).tobytes()))
            except KeyError:
                raise _Unpackable(f"a {name} outside the world's list") from None
        elif all(map(is_, values, repeat(first))):
            columns.append((_SAME, first))
        elif (types := set(map(type, values))) <= {datetime, type(None)}:
            columns.append((_STAMPS, instants.encode(values)))
        elif Order in types or Resource in types:
            raise _Unpackable(f"{cls.__name__}.{name} refers to an order or resource")
        else:
            columns.append((_VALUES, list(values)))
    return columns


def _columns(columns: Iterable[tuple[int, Any]], count: int, table: list[datetime | None],
             resources: list[Resource]) -> Iterator[Iterable[Any]]:
    for kind, data in columns:
        if kind == _SAME:
            yield repeat(data, count)
        elif kind == _VALUES:
            yield data
        elif kind == _STAMPS:
            yield map(table.__getitem__, _int_array("i", data))
        elif kind == _RESOURCES:
            yield map(resources.__getitem__, _int_array("i", data))
        else:
            raise ValueError(f"unknown column kind {kind!r}")


def _int_array(code: str, data: bytes) -> array:
    out = array(code)
    out.frombytes(data)
    return out
