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
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from starlette.responses import Response

from mockserver.handlers import Req, json_response
from mockserver.memo import memo, rendered
from mockserver.orders.exceptions import NotFound, ValidationError, detail
from mockserver.orders.rendercache import Entry
from mockserver.orders.responses import CachedJSONResponse
from mockserver.pagination import last_value, paginate
from mockserver.rendering import select

__all__ = ["Filters", "Ordering", "list_response", "lookup", "memo", "not_found",
           "object_response", "parse_uuid", "rendered", "text_key"]

T = TypeVar("T")
JSON = "application/json"
INVALID_CHOICE = "Select a valid choice. {} is not one of the available choices."
INVALID_UUID = "Enter a valid UUID."


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
    """One object by uuid (hex or dashed). Unknown, invisible and malformed (a path segment that
    is not a uuid) all answer 404 `No <Model> matches the given query.`, as a real server does
    (issue 13 observed it for the orders)."""
    hex_ = parse_uuid(uuid)
    obj = table.get(hex_) if hex_ is not None else None
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

    def apply(self, items: Iterable[T]) -> Sequence[T]:
        """The items every filter keeps, in a new list; a tuple (immutable) that no filter
        applies to is handed back as is (no copy: ~30 µs for 10k resources)."""
        if self.errors:
            raise ValidationError(dict(self.errors))
        if not self.predicates and isinstance(items, tuple):
            return items
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

    def apply(self, items: Sequence[T], query: Sequence[tuple[str, str]]) -> Sequence[T]:
        """`items` sorted, in a new list; when there is nothing to sort, a list or tuple given
        is returned as is (no copy: ~20 µs for 10k resources)."""
        terms = self.terms(query)
        if self.tiebreak is None and not terms and isinstance(items, (list, tuple)):
            return items
        out = list(items)
        if self.tiebreak is not None:
            out.sort(key=self.tiebreak)
        for term in reversed(terms):  # stable sorts: the first term sorts last
            out.sort(key=self.keys[term.lstrip("-")], reverse=term.startswith("-"))
        return out


def filter_and_order(filters: Filters, ordering: Ordering, items: Iterable[T],
                     query: Sequence[tuple[str, str]]) -> Sequence[T]:
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
