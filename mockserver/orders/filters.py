"""List filters and ordering of GET/HEAD /api/marketplace-orders/ (reference §5).

Input is the raw multi-dict (`Mapping[str, list[str]]`); unknown parameters are ignored. Bad
values collect into one 400 `{"param": ["message"]}`. Speed: `OrderIndex` keeps uuid sets per
state / project / offering / customer / provider / resource and the orders in `created` order,
so a filter is set algebra and the default ordering is a ready sequence; other orderings are
cached until the next change.
"""

from __future__ import annotations

import bisect
import threading
import uuid as uuid_mod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from itertools import compress, repeat
from operator import attrgetter, eq
from typing import Any
from urllib.parse import urlsplit

from mockserver import spec
from mockserver.orders.entities import Offering, Order, User
from mockserver.orders.exceptions import ValidationError
from mockserver.orders.permissions import PermissionIndex
from mockserver.orders.statemachine import (
    PENDING_CONSUMER,
    PENDING_PROVIDER,
    STATE_DB_INT,
)
from mockserver.world.clock import parse_instant

ORDERING_FIELDS = ("created", "consumer_reviewed_at", "cost", "state")
INVALID_CHOICE = "Select a valid choice. {} is not one of the available choices."
INVALID_UUID = "Enter a valid UUID."
INVALID_DATETIME = "Enter a valid date/time."
UUID_PARAMS = ("project_uuid", "offering_uuid", "customer_uuid", "provider_uuid",
               "category_uuid", "resource_uuid", "parent_offering_uuid")


# (o.created, o.uuid), computed in C: it is called ~15 times per insertion and per sort item
_created_key: Callable[[Order], tuple[datetime, str]] = attrgetter("created", "uuid")
_UUID: Callable[[Order], str] = attrgetter("uuid")


def _nullable(value: Any) -> tuple[bool, Any]:
    """PostgreSQL: NULLs sort after everything ascending (and first descending)."""
    return (value is None, value if value is not None else 0)


SORT_KEYS: dict[str, Callable[[Order], Any]] = {
    "created": _created_key,
    "consumer_reviewed_at": lambda o: _nullable(o.consumer_reviewed_at),
    "cost": lambda o: _nullable(Decimal(o.cost) if o.cost is not None else None),
    "state": lambda o: STATE_DB_INT[o.state],  # the DB integer of §1, not the name
}


def state_choices() -> tuple[str, ...]:
    return spec.enum_values("OrderState")


def type_choices() -> tuple[str, ...]:
    return spec.enum_values("RequestTypes")


def parse_uuid(value: str) -> str | None:
    """Hex or dashed (anything uuid.UUID accepts) -> 32-hex; None if malformed."""
    try:
        return uuid_mod.UUID(value.strip()).hex
    except (ValueError, AttributeError):
        return None


def parse_bool(value: str) -> bool | None:
    """django-filter's BooleanWidget: true/false/1/0 (any case); anything else is ignored."""
    return {"1": True, "0": False, "true": True, "false": False}.get(value.strip().lower())


def path_uuid(url: str, prefix: str) -> str | None:
    """The uuid of `<anything>/api/<prefix>/<hex>/` (scheme and host ignored)."""
    try:
        path = urlsplit(url).path
    except ValueError:
        return None
    head = f"/api/{prefix}/"
    if not path.startswith(head):
        return None
    rest = path[len(head):]
    if not rest.endswith("/") or "/" in rest[:-1]:
        return None
    hex_ = rest[:-1]
    if len(hex_) != 32 or any(c not in "0123456789abcdef" for c in hex_):
        return None
    return hex_


# ---------------------------------------------------------------------------------------------
class OrderIndex:
    """Uuids per indexed attribute value + the orders in `created` order (copy-on-write list:
    a list handed to a reader is never mutated afterwards; it is copied on the next change only
    if it was handed out, so a stream of creates inserts in place instead of copying the whole
    list per create: ~20 µs at 10k orders, ~200 µs at 100k).

    Memory: a value held by one order (every generated order has its own resource) maps to
    that order's uuid itself, not to a one-element set (216 bytes per order at 100k orders);
    `ids()` hides the difference.

    Start-up: each attribute's table is built on its first lookup, from the orders as they are
    then (an index of 100k orders cost ~0.45 s of every cold start, and the first requests, a
    staff list or a retrieve, need none of it); until then changes skip it."""

    ATTRS: dict[str, Callable[[Order], str]] = {
        "state": attrgetter("state"),
        "project": attrgetter("project.uuid"),
        "offering": attrgetter("offering.uuid"),
        "customer": attrgetter("project.customer.uuid"),
        "provider": attrgetter("offering.customer.uuid"),
        "resource": attrgetter("resource.uuid"),
    }
    FEW_KEYS = 64  # up to this many distinct values, a table is built one value at a time

    def __init__(self, orders: Iterable[Order] = ()) -> None:
        seq = list(orders)
        self.orders: dict[str, Order] = dict(zip(map(_UUID, seq), seq, strict=True))
        self.sets: dict[str, dict[str, str | set[str]]] = {}  # the tables built so far
        self._building = threading.Lock()
        self.version = 0  # any change (state, review, cost, membership)
        self.membership = 0  # orders added or removed
        self._sorted: dict[tuple[str, ...], tuple[int, list[Order]]] = {}
        self._by_created: list[Order] = sorted(self.orders.values(), key=_created_key)
        self._shared = False  # `_by_created` handed out since the last copy

    @property
    def by_created(self) -> list[Order]:
        """The orders in created order; never mutated once handed out (see the class doc)."""
        self._shared = True
        return self._by_created

    def _own_by_created(self) -> list[Order]:
        """`_by_created`, copied first if a reader holds it: safe to mutate in place."""
        if self._shared:
            self._by_created = list(self._by_created)
            self._shared = False
        return self._by_created

    def table(self, attr: str) -> dict[str, str | set[str]]:
        """The uuids per value of `attr` (built now if this is its first lookup)."""
        table = self.sets.get(attr)
        if table is None:
            with self._building:
                table = self.sets.get(attr)
                if table is None:
                    table = self.sets[attr] = self._build(attr)
        return table

    def _build(self, attr: str) -> dict[str, str | set[str]]:
        # (callers hold `_building`; an add or remove running meanwhile changes `orders` first,
        # then waits for the lock and applies itself to this table too: both ways consistent)
        orders = list(self.orders.values())
        uuids = list(map(_UUID, orders))
        keys = list(map(self.ATTRS[attr], orders))
        distinct = set(keys)
        table: dict[str, str | set[str]] = {}
        if len(distinct) == len(keys):  # one order per value
            table.update(zip(keys, uuids, strict=True))
        elif len(distinct) <= self.FEW_KEYS:  # C-level passes, one per value
            for key in sorted(distinct):
                members = set(compress(uuids, map(eq, keys, repeat(key))))
                table[key] = members.pop() if len(members) == 1 else members
        else:
            for key, uuid in zip(keys, uuids, strict=True):
                self._add_member(table, key, uuid)
        return table

    def _add_sets(self, order: Order) -> None:
        self.orders[order.uuid] = order
        with self._building:
            for attr, table in self.sets.items():
                self._add_member(table, self.ATTRS[attr](order), order.uuid)

    @staticmethod
    def _add_member(table: dict[str, str | set[str]], key: str, uuid: str) -> None:
        members = table.get(key)
        if members is None:
            table[key] = uuid
        elif isinstance(members, set):
            members.add(uuid)
        elif members != uuid:
            table[key] = {members, uuid}

    @staticmethod
    def _discard_member(table: dict[str, str | set[str]], key: str, uuid: str) -> None:
        members = table.get(key)
        if isinstance(members, set):
            members.discard(uuid)
        elif members == uuid:
            del table[key]

    def add(self, order: Order) -> None:
        self._add_sets(order)
        bisect.insort(self._own_by_created(), order, key=_created_key)
        self.version += 1
        self.membership += 1

    def remove(self, order: Order) -> None:
        del self.orders[order.uuid]
        with self._building:
            for attr, table in self.sets.items():
                self._discard_member(table, self.ATTRS[attr](order), order.uuid)
        seq = self._own_by_created()
        i = bisect.bisect_left(seq, _created_key(order), key=_created_key)
        if i < len(seq) and seq[i] is order:
            del seq[i]
        else:  # pragma: no cover - defensive
            self._by_created = [o for o in seq if o is not order]
        self.version += 1
        self.membership += 1

    def state_changed(self, order: Order, old: str) -> None:
        with self._building:
            table = self.sets.get("state")
            if table is not None:
                self._discard_member(table, old, order.uuid)
                self._add_member(table, order.state, order.uuid)
        self.version += 1

    def touched(self) -> None:
        self.version += 1

    def ids(self, attr: str, keys: Iterable[str]) -> set[str]:
        """A new set: the uuids of the orders whose `attr` is one of `keys`."""
        table = self.table(attr)
        out: set[str] = set()
        for key in keys:
            members = table.get(key)
            if isinstance(members, set):
                out |= members
            elif members is not None:
                out.add(members)
        return out

    def ordered(self, ordering: tuple[str, ...]) -> list[Order]:
        """All orders in `ordering` (each "field" or "-field"), ties by (created, uuid)."""
        if ordering == ("created",) or not ordering:
            return self.by_created
        cached = self._sorted.get(ordering)
        if cached is not None and cached[0] == self.version:
            return cached[1]
        if ordering in (("state",), ("-state",)):
            seq = self._by_state(descending=ordering[0].startswith("-"))
        else:
            seq = sort_orders(self._by_created, ordering, presorted=True)  # copies
        self._sorted[ordering] = (self.version, seq)
        return seq


    def _by_state(self, descending: bool) -> list[Order]:
        """Bucket by state (DB integer order), each bucket in created order: a stable sort
        without the sort."""
        buckets: dict[str, list[Order]] = {state: [] for state in STATE_DB_INT}
        for order in self._by_created:  # read at once, not kept
            buckets[order.state].append(order)
        states = sorted(STATE_DB_INT, key=STATE_DB_INT.__getitem__, reverse=descending)
        return [o for state in states for o in buckets[state]]


def sort_orders(orders: Iterable[Order], ordering: tuple[str, ...],
                presorted: bool = False) -> list[Order]:
    seq = list(orders)
    if not presorted:
        seq.sort(key=_created_key)
    for term in reversed(ordering):
        desc = term.startswith("-")
        seq.sort(key=SORT_KEYS[term.lstrip("-")], reverse=desc)
    return seq


# ---------------------------------------------------------------------------------------------
@dataclass
class FilterContext:
    """What the filters need from the backend."""

    user: User
    index: OrderIndex
    perms: PermissionIndex
    offerings: Mapping[str, Offering]
    users: Mapping[str, User]
    visible: set[str] | None  # None: sees everything


def last(query: Mapping[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[-1] if values else None


def parse_ordering(query: Mapping[str, list[str]], errors: dict[str, list[str]]) -> tuple[str, ...]:
    """`o`: the last value wins (django-filter reads one value); it may hold a comma list."""
    raw = last(query, "o")
    if raw is None or raw.strip() == "":
        return ("created",)
    terms = tuple(t.strip() for t in raw.split(",") if t.strip())
    for t in terms:
        if t.lstrip("-") not in ORDERING_FIELDS or t.startswith("--"):
            errors["o"] = [INVALID_CHOICE.format(t)]
            return ("created",)
    return terms or ("created",)


def apply(query: Mapping[str, list[str]], ctx: FilterContext) -> Sequence[Order]:
    """Visible orders matching `query`, ordered. Raises ValidationError on bad values."""
    errors: dict[str, list[str]] = {}
    idx = ctx.index
    sets: list[set[str]] = []
    preds: list[Callable[[Order], bool]] = []
    if ctx.visible is not None:
        sets.append(ctx.visible)

    for name, choices, attr in (("state", state_choices(), "state"),
                                ("type", type_choices(), None)):
        values = query.get(name) or []
        if not values:
            continue
        bad = next((v for v in values if v not in choices), None)
        if bad is not None:
            errors[name] = [INVALID_CHOICE.format(bad)]
        elif attr:
            sets.append(idx.ids(attr, values))
        else:
            wanted = frozenset(values)
            preds.append(lambda o, w=wanted: o.type in w)

    for name in UUID_PARAMS:
        raw = last(query, name)
        if raw is None or raw == "":
            continue
        value = parse_uuid(raw)
        if value is None:
            errors[name] = [INVALID_UUID]
            continue
        sets.append(_uuid_filter(name, value, ctx))

    offering_types = [v for v in query.get("offering_type") or [] if v != ""]
    if offering_types:
        sets.append(idx.ids("offering", [o.uuid for o in ctx.offerings.values()
                                         if o.type in offering_types]))

    for name, op in (("created", "ge"), ("modified", "ge"),
                     ("created_before", "lt"), ("modified_before", "lt")):
        raw = last(query, name)
        if raw is None or raw.strip() == "":
            continue
        try:
            moment = parse_instant(raw)
        except ValueError:
            errors[name] = [INVALID_DATETIME]
            continue
        attr = name.split("_")[0]
        if op == "ge":
            preds.append(lambda o, a=attr, m=moment: getattr(o, a) >= m)
        else:
            preds.append(lambda o, a=attr, m=moment: getattr(o, a) < m)

    raw = last(query, "offering")
    if raw is not None and raw != "":
        off = path_uuid(raw, "marketplace-provider-offerings")
        sets.append(idx.ids("offering", [off]) if off else set())
    raw = last(query, "resource")
    if raw is not None and raw != "":
        res = path_uuid(raw, "marketplace-resources")
        sets.append(idx.ids("resource", [res]) if res else set())

    slugs = {s.strip() for v in query.get("offering_slug") or [] for s in v.split(",") if s.strip()}
    if slugs:
        sets.append(idx.ids("offering", [o.uuid for o in ctx.offerings.values()
                                         if o.slug in slugs]))

    raw = last(query, "query")
    if raw is not None and raw.strip():
        text = raw.strip()
        as_uuid = parse_uuid(text)
        if as_uuid is not None and as_uuid in idx.orders:
            sets.append({as_uuid})
        else:
            needle = text.lower()
            preds.append(lambda o, n=needle: n in o.project.name.lower()
                         or n in o.resource_name.lower() or n in o.slug.lower())
    raw = last(query, "resource_name")
    if raw is not None and raw != "":
        needle = raw.lower()
        preds.append(lambda o, n=needle: n in o.resource_name.lower())
    raw = last(query, "slug")
    if raw is not None and raw != "":
        preds.append(lambda o, s=raw: o.slug == s)

    _approval_filters(query, ctx, sets)

    raw = last(query, "was_auto_approved")
    flag = parse_bool(raw) if raw is not None else None
    if flag is not None:
        preds.append(lambda o, f=flag: o.auto_approved is f)

    raw = last(query, "service_manager_uuid")
    if raw is not None and raw != "":
        sets.append(_service_manager(raw, ctx))

    ordering = parse_ordering(query, errors)
    if errors:
        raise ValidationError(errors)
    return _select(idx, sets, preds, ordering)


def _uuid_filter(name: str, value: str, ctx: FilterContext) -> set[str]:
    idx = ctx.index
    if name == "category_uuid":
        return idx.ids("offering", [o.uuid for o in ctx.offerings.values()
                                    if o.category.uuid == value])
    if name == "parent_offering_uuid":
        return set()  # the seeded world has no child offerings
    attr = {"project_uuid": "project", "offering_uuid": "offering", "customer_uuid": "customer",
            "provider_uuid": "provider", "resource_uuid": "resource"}[name]
    return idx.ids(attr, [value])


def _approval_filters(query: Mapping[str, list[str]], ctx: FilterContext,
                      sets: list[set[str]]) -> None:
    """Any parseable value - even false - restricts the state; true (non-staff) also restricts
    to where the user holds ORDER.APPROVE (reference §5)."""
    idx, uid = ctx.index, ctx.user.uuid
    raw = last(query, "can_approve_as_consumer")
    flag = parse_bool(raw) if raw is not None else None
    if flag is not None:
        sets.append(idx.ids("state", [PENDING_CONSUMER]))
        if flag and not ctx.user.is_staff:
            sets.append(idx.ids("project", ctx.perms.scopes(uid, "ORDER.APPROVE", "project"))
                        | idx.ids("customer", ctx.perms.scopes(uid, "ORDER.APPROVE", "customer")))
    raw = last(query, "can_approve_as_provider")
    flag = parse_bool(raw) if raw is not None else None
    if flag is not None:
        sets.append(idx.ids("state", [PENDING_PROVIDER]))
        if flag and not ctx.user.is_staff:
            sets.append(
                idx.ids("provider", ctx.perms.scopes(uid, "ORDER.APPROVE", "customer"))
                | idx.ids("offering", ctx.perms.scopes(uid, "ORDER.APPROVE", "offering"))
                | idx.ids("provider", ctx.perms.scopes(uid, "ORDER.APPROVE", "service_provider")))


def _service_manager(raw: str, ctx: FilterContext) -> set[str]:
    """Orders of *shared* offerings the user manages (offering manager or SP manager)."""
    uid = parse_uuid(raw)
    if uid is None or uid not in ctx.users:
        return set()
    managed = ctx.perms.scopes(uid, "ORDER.LIST", "offering")
    providers = ctx.perms.scopes(uid, "ORDER.LIST", "service_provider")
    return ctx.index.ids("offering", [
        o.uuid for o in ctx.offerings.values()
        if o.shared and (o.uuid in managed or o.customer.uuid in providers)])


class LazyOrders(Sequence[Order]):
    """A filtered, ordered result that is only materialized as far as it is read: `len()` is
    the size of the member set, and a page scans the ordered base only up to its end. With
    predicates (text search, date ranges) the whole result is computed on first use."""

    def __init__(self, base: Sequence[Order], members: set[str] | None,
                 preds: list[Callable[[Order], bool]]) -> None:
        self._base = base
        self._members = members
        self._preds = preds
        self._full: list[Order] | None = None

    def _match(self, order: Order) -> bool:
        if self._members is not None and order.uuid not in self._members:
            return False
        return all(p(order) for p in self._preds)

    def _materialize(self) -> list[Order]:
        if self._full is None:
            self._full = [o for o in self._base if self._match(o)]
        return self._full

    def __len__(self) -> int:
        if self._full is None and not self._preds and self._members is not None:
            return len(self._members)
        return len(self._materialize())

    def _prefix(self, stop: int) -> list[Order]:
        out: list[Order] = []
        for order in self._base:
            if self._match(order):
                out.append(order)
                if len(out) >= stop:
                    break
        return out

    def __getitem__(self, item):  # type: ignore[override]
        if self._full is not None:
            return self._full[item]
        if isinstance(item, slice):
            start, stop, step = item.start or 0, item.stop, item.step or 1
            if stop is None or start < 0 or stop < 0 or step != 1:
                return self._materialize()[item]
            return self._prefix(stop)[start:stop]
        if item < 0:
            return self._materialize()[item]
        found = self._prefix(item + 1)
        if len(found) <= item:
            raise IndexError(item)
        return found[item]

    def __iter__(self):
        if self._full is not None:
            return iter(self._full)
        return (o for o in self._base if self._match(o))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence):
            return list(self) == list(other)
        return NotImplemented

    def __repr__(self) -> str:
        return f"LazyOrders({len(self)} orders)"


def _select(idx: OrderIndex, sets: list[set[str]], preds: list[Callable[[Order], bool]],
            ordering: tuple[str, ...]) -> Sequence[Order]:
    base = idx.ordered(ordering)
    if not sets and not preds:
        return base
    chosen: set[str] | None = None
    if sets:
        sets.sort(key=len)
        chosen = sets[0]
        for s in sets[1:]:
            chosen = chosen & s
        if not chosen:
            return []
        if len(chosen) * 64 < len(base):  # small: sorting the few beats scanning the many
            seq = sort_orders((idx.orders[u] for u in chosen), ordering)
            return [o for o in seq if all(p(o) for p in preds)] if preds else seq
    return LazyOrders(base, chosen, preds)
