"""A memo per session world (backend): rendered objects (dict + orjson bytes, validated once)
and other derived values, recomputed when their stamp changes. No HTTP: rules and serializers of
every area may use it; `listing.list_response` / `object_response` join rendered entries."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any, TypeVar

import orjson

from mockserver.orders.rendercache import Entry

T = TypeVar("T")

MAX_MEMO = 4096  # entries per backend (a few KiB each)
_memos: weakref.WeakKeyDictionary[Any, dict[Any, tuple[Any, Any]]] = weakref.WeakKeyDictionary()


def memo(backend: Any, key: Any, stamp: Any, compute: Callable[[], T]) -> T:
    """`compute()`, remembered for this backend (session world) while `stamp` is unchanged.
    The stamp must change whenever the value may: e.g. `len(backend.resources)` for counts of
    resources (resources are only ever added); a constant for what never changes once the world
    is built (organizations, projects, users, roles). A reset, a new session or a state import
    is a new backend, hence an empty memo."""
    table = getattr(backend, "_memo_table", None)  # an attribute: no weakref per call
    if table is None:
        table = _memos.get(backend)
        if table is None:
            table = {}
            try:
                backend._memo_table = table
            except AttributeError:  # an object without attributes: the weak mapping
                _memos[backend] = table
    hit = table.get(key)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    value = compute()
    if hit is None and len(table) >= MAX_MEMO:
        del table[next(iter(table))]  # oldest first
    table[key] = (stamp, value)
    return value


def rendered(backend: Any, key: Any, stamp: Any, render: Callable[[], dict[str, Any]]) -> Entry:
    """A rendered object as a render-cache Entry (dict, orjson bytes, the validators its bytes
    have passed), remembered like `memo`: lists join the bytes, and the fast path validates each
    object once per stamp instead of every body per request. `key` must name everything the
    rendering depends on besides `stamp` (schema, uuid, base URL, the viewer where it matters)."""

    def build() -> Entry:
        body = render()
        try:
            encoded: bytes | None = orjson.dumps(body)
        except TypeError:
            encoded = None
        return Entry(stamp, body, encoded)

    return memo(backend, ("rendered", key), stamp, build)


