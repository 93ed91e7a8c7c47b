"""Memoised order representations (the stub's main own cost on list and retrieve).

Why: `serializers.render_order` builds ~100 closures per order; a 10-order page spent ~60 % of
its time there (docs/performance.md). Each backend owns one cache, so a reset, a session or a
state import (all of which build a new backend) start empty.

An entry is keyed on what the output depends on: order uuid, viewer class (staff/support see
`error_traceback`), representation and base URL. It is reused only while its stamp still
equals the current one: the same Order object at the same `rev` (bumped by every mutation,
`OrdersBackend._touch`, including force_state), plus the attributes of the order's resource
that the representation reads and other orders change (plan and limits via `old_cost_estimate`,
name, end_date). Everything else an order renders (offering, plan, project, users) never
changes after the world is built. Entries keep the dict and its orjson bytes, so a page can be
joined from pre-encoded parts; a sparse fieldset filters the cached dict. An entry also
remembers which response validators it has passed (`Entry.passed`), so that an answer built
from cached entries is checked once per order revision, not once per request (fastpath.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import orjson

from mockserver.orders.entities import Order, User
from mockserver.orders.serializers import is_privileged, render_order

MAX_ENTRIES = 1024  # ~8 KiB each (dict + bytes): at most ~8 MiB, about 100 pages of 10


class Entry:
    """One rendered order: the dict, its orjson bytes (None when orjson refuses it) and the
    validators (any hashable checker) its bytes have passed. Callers must not mutate `body`."""

    __slots__ = ("stamp", "body", "encoded", "passed")

    def __init__(self, stamp: tuple[Any, ...], body: dict[str, Any],
                 encoded: bytes | None) -> None:
        self.stamp = stamp
        self.body = body
        self.encoded = encoded
        self.passed: tuple[Any, ...] = ()

    def conforms(self, check: Callable[[bytes], bool]) -> bool:
        """`check(self.encoded)`, remembered per check while this entry lives (a new revision
        of the order is a new entry, checked again); a failure is not remembered."""
        if check in self.passed:
            return True
        if self.encoded is None or not check(self.encoded):
            return False
        self.passed = (*self.passed, check)
        return True


class RenderCache:
    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._entries: dict[tuple[Any, ...], Entry] = {}

    def entry(self, order: Order, viewer: User | None, base_url: str,
              representation: str = "detail") -> Entry:
        """The current rendering of `order` for this viewer class and base URL."""
        key = (order.uuid, is_privileged(viewer), representation, base_url)
        res = order.resource
        stamp = (order, order.rev, res.plan, res.limits, res.name, res.end_date)
        hit = self._entries.get(key)
        if hit is not None and hit.stamp == stamp:
            return hit
        body = render_order(order, viewer, base_url, representation)
        try:
            # copied: orjson's result keeps its ~32 KiB buffer, 10x the ~3 KiB it holds
            encoded: bytes | None = bytes(memoryview(orjson.dumps(body)))
        except TypeError:  # e.g. integers beyond 64 bits: the caller encodes the whole body
            encoded = None
        if hit is None and self._entries and len(self._entries) >= self.max_entries:
            del self._entries[next(iter(self._entries))]  # oldest first
        fresh = self._entries[key] = Entry(stamp, body, encoded)
        return fresh

    def get(self, order: Order, viewer: User | None, base_url: str,
            representation: str = "detail") -> tuple[dict[str, Any], bytes | None]:
        """(full representation, its orjson bytes or None when orjson refuses it). Callers
        must not mutate the dict."""
        hit = self.entry(order, viewer, base_url, representation)
        return hit.body, hit.encoded

    def render(self, order: Order, viewer: User | None, base_url: str,
               representation: str = "detail",
               fields: Iterable[str] | None = None) -> dict[str, Any]:
        """Same result as `render_order(...)` (a sparse fieldset keeps the serializer's order;
        unknown names dropped; none left -> all)."""
        body = self.get(order, viewer, base_url, representation)[0]
        return select(body, fields)

    def clear(self) -> None:
        self._entries.clear()


def select(body: dict[str, Any], fields: Iterable[str] | None) -> dict[str, Any]:
    """`serializers.select_fields` applied to an already rendered dict."""
    if not fields:
        return body
    wanted = set(fields)
    return {k: v for k, v in body.items() if k in wanted} or body
