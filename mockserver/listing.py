"""The list machinery every area shares (reference §4, §5): filters, `o=` ordering, pagination
with `X-Result-Count` and `Link`, HEAD as a counter, `field=` sparse fieldsets, and the lookup of
one object by uuid with DRF's 404 bodies. A new list endpoint is its rules (which objects, which
filters, which sort keys) plus one call to `list_response`:

    @handler
    async def customers_list() -> Response:
        req = Req()
        items = models.visible_customers(current_backend(), current_user())
        items = Filters(req.query).text("name", lambda c: c.name).apply(items)
        items = CUSTOMER_ORDERING.apply(items, req.query)
        return list_response(req, items, lambda c: serializers.customer(c, req))
"""

from __future__ import annotations

import uuid as uuid_mod
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import orjson
from starlette.responses import Response

from mockserver.handlers import Req, json_response
from mockserver.orders.exceptions import NotFound, ValidationError, detail
from mockserver.orders.rendercache import Entry
from mockserver.orders.responses import CachedJSONResponse
from mockserver.pagination import last_value, paginate
from mockserver.rendering import select

T = TypeVar("T")
JSON = "application/json"
INVALID_CHOICE = "Select a valid choice. {} is not one of the available choices."
INVALID_UUID = "Enter a valid UUID."
MALFORMED = detail("Not found.")


def parse_uuid(value: str) -> str | None:
    """Hex or dashed (anything uuid.UUID accepts) -> 32 hex digits; None when malformed."""
    try:
        return uuid_mod.UUID(value.strip()).hex
    except (ValueError, AttributeError):
        return None


def not_found(model: str) -> NotFound:
    """DRF's 404 for a lookup that found nothing: `No <Model> matches the given query.`"""
    return NotFound(detail(f"No {model} matches the given query."))


def lookup(table: Mapping[str, T], uuid: str, model: str,
           visible: Callable[[T], bool] = lambda _obj: True) -> T:
    """One object by uuid (hex or dashed): a malformed uuid is `Not found.`, an unknown or
    invisible one `No <Model> matches the given query.` (both 404, as the real server)."""
    hex_ = parse_uuid(uuid)
    if hex_ is None:
        raise NotFound(MALFORMED)
    obj = table.get(hex_)
    if obj is None or not visible(obj):
        raise not_found(model)
    return obj


# ---------------------------------------------------------------------------------------------
# Filters


@dataclass
class Filters:
    """django-filter semantics for the query of one list request: each method adds a filter
    (the last value of a repeated key wins unless the filter takes many), bad values are
    collected and raised together as DRF's 400 `{"name": ["message"]}` by `apply`; an empty
    value means "no filter" (django-filter ignores it)."""

    query: Sequence[tuple[str, str]]
    predicates: list[Callable[[Any], bool]] = field(default_factory=list)
    errors: dict[str, list[str]] = field(default_factory=dict)

    def _values(self, name: str) -> list[str]:
        return [v for k, v in self.query if k == name and v.strip() != ""]

    def text(self, name: str, *getters: Callable[[Any], str | None]) -> Filters:
        """`name` contains the text (case-insensitive) in any of the getters' values."""
        value = last_value(self.query, name)
        if value is not None and value.strip():
            needle = value.strip().casefold()
            self.predicates.append(
                lambda obj: any(needle in (g(obj) or "").casefold() for g in getters))
        return self

    def exact(self, name: str, getter: Callable[[Any], str | None]) -> Filters:
        value = last_value(self.query, name)
        if value is not None and value != "":
            self.predicates.append(lambda obj: getter(obj) == value)
        return self

    def uuids(self, name: str, getter: Callable[[Any], str | None],
              many: bool = False) -> Filters:
        """An exact uuid (hex or dashed); `many`: any of the repeated values."""
        raw = self._values(name) if many else [v for v in [last_value(self.query, name)]
                                              if v is not None and v.strip() != ""]
        if not raw:
            return self
        wanted = {parse_uuid(v) for v in raw}
        if None in wanted:
            self.errors[name] = [INVALID_UUID]
            return self
        self.predicates.append(lambda obj: getter(obj) in wanted)
        return self

    def boolean(self, name: str, getter: Callable[[Any], bool]) -> Filters:
        """django-filter's BooleanWidget: true/false/1/0; anything else is ignored."""
        value = last_value(self.query, name)
        parsed = {"1": True, "0": False, "true": True, "false": False}.get(
            (value or "").strip().lower())
        if parsed is not None:
            self.predicates.append(lambda obj: getter(obj) is parsed)
        return self

    def choices(self, name: str, getter: Callable[[Any], str], allowed: Iterable[str]) -> Filters:
        """A repeatable choice (`state=OK&state=Erred`): any of the values; a value not in
        `allowed` is django-filter's 400 `Select a valid choice. <value> is not one of the
        available choices.`"""
        raw = self._values(name)
        if not raw:
            return self
        choices = set(allowed)
        bad = next((v for v in raw if v not in choices), None)
        if bad is not None:
            self.errors[name] = [INVALID_CHOICE.format(bad)]
            return self
        wanted = set(raw)
        self.predicates.append(lambda obj: getter(obj) in wanted)
        return self

    def where(self, predicate: Callable[[Any], bool]) -> Filters:
        self.predicates.append(predicate)
        return self

    def apply(self, items: Iterable[T]) -> list[T]:
        if self.errors:
            raise ValidationError(dict(self.errors))
        out = list(items)
        for predicate in self.predicates:  # one pass each: no generator per item (20k: 10x)
            out = [obj for obj in out if predicate(obj)]
        return out


# ---------------------------------------------------------------------------------------------
# Ordering


@dataclass(frozen=True)
class Ordering:
    """`o=`: sort keys by name, `-name` descending; a comma list sorts by several; the last `o`
    of the query wins (django-filter reads one value). `strict`: an unknown key is DRF's 400
    `{"o": ["Select a valid choice. x is not one of the available choices."]}` (django-filter's
    OrderingFilter); otherwise it is ignored (DRF's OrderingFilter). `default` applies when no
    valid key is given; `tiebreak` always ends the sort (stable pages)."""

    keys: Mapping[str, Callable[[Any], Any]]
    default: tuple[str, ...] = ()
    strict: bool = False
    tiebreak: Callable[[Any], Any] | None = None

    def terms(self, query: Sequence[tuple[str, str]]) -> tuple[str, ...]:
        raw = last_value(query, "o")
        if raw is None or raw.strip() == "":
            return self.default
        terms = []
        for term in (t.strip() for t in raw.split(",")):
            if not term:
                continue
            if term.lstrip("-") not in self.keys or term.startswith("--"):
                if self.strict:
                    raise ValidationError({"o": [INVALID_CHOICE.format(term)]})
                continue
            terms.append(term)
        return tuple(terms) or self.default

    def apply(self, items: Sequence[T], query: Sequence[tuple[str, str]]) -> list[T]:
        out = list(items)
        if self.tiebreak is not None:
            out.sort(key=self.tiebreak)
        for term in reversed(self.terms(query)):  # stable sorts: the first term sorts last
            out.sort(key=self.keys[term.lstrip("-")], reverse=term.startswith("-"))
        return out


def filter_and_order(filters: Filters, ordering: Ordering, items: Iterable[T],
                     query: Sequence[tuple[str, str]]) -> list[T]:
    """`filters` then `ordering` over `items`, with a bad `o` reported in the same 400 as the
    bad filter values (django-filter validates its OrderingFilter with the other fields)."""
    try:
        ordering.terms(query)
    except ValidationError as exc:
        filters.errors.update(exc.body)
    return ordering.apply(filters.apply(items), query)


def text_key(value: str | None) -> tuple[str, str]:
    """A case-insensitive sort key that keeps distinct texts apart (PostgreSQL collation is
    close to this for the stub's ASCII names)."""
    text = value or ""
    return (text.casefold(), text)


# ---------------------------------------------------------------------------------------------
# Per-backend memo: rendered objects (dict + bytes, validated once) and other derived values

MAX_MEMO = 4096  # entries per backend (a few KiB each)
_memos: weakref.WeakKeyDictionary[Any, dict[Any, tuple[Any, Any]]] = weakref.WeakKeyDictionary()


def memo(backend: Any, key: Any, stamp: Any, compute: Callable[[], T]) -> T:
    """`compute()`, remembered for this backend (session world) while `stamp` is unchanged.
    The stamp must change whenever the value may: e.g. `len(backend.resources)` for counts of
    resources (resources are only ever added); a constant for what never changes once the world
    is built (organizations, projects, users, roles). A reset, a new session or a state import
    is a new backend, hence an empty memo."""
    table = _memos.get(backend)
    if table is None:
        table = _memos[backend] = {}
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


# ---------------------------------------------------------------------------------------------
# Responses


def list_response(req: Req, items: Sequence[T],
                  render: Callable[[T], dict[str, Any] | Entry]) -> Response:
    """One page of `items` (already filtered and ordered): the rendered page as a JSON array
    restricted to `?field=`, with `X-Result-Count` and `Link`; HEAD sends the headers only.
    `render` returns a dict, or an Entry of `rendered` (then the page is joined from the
    entries' bytes, and the fast path validates each entry once)."""
    page = paginate(items, req.query, req.path_url, req.query_string)
    if req.scope["method"] == "HEAD":
        return Response(b"", headers=page.headers, media_type=JSON)
    fields = req.fields
    parts = [render(obj) for obj in page.items]
    if not fields and parts and all(isinstance(p, Entry) and p.encoded is not None
                                    for p in parts):
        return CachedJSONResponse(parts, many=True, headers=page.headers)  # type: ignore[arg-type]
    return json_response([select(_body(p), fields) for p in parts], headers=page.headers)


def object_response(req: Req, body: dict[str, Any] | Entry) -> Response:
    """One object (a dict, or an Entry of `rendered`), restricted to `?field=`."""
    if isinstance(body, Entry):
        if not req.fields and body.encoded is not None:
            return CachedJSONResponse([body], many=False)
        body = body.body
    return json_response(select(body, req.fields))


def _body(part: dict[str, Any] | Entry) -> dict[str, Any]:
    return part.body if isinstance(part, Entry) else part
