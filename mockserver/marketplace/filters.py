"""Query filters and ordering of the marketplace lists, as data (django-filter semantics).

A list declares a table `param -> Filter`; `apply` runs the table over the raw multi-dict query
(unknown parameters are ignored, as django-filter does), collects every bad value into one 400
`{"param": ["message"]}` and then orders by `o` (the allowed values are read from the spec's `o`
parameter of the operation; the last repeated key wins, as in the orders list).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar

from mockserver import spec
from mockserver.orders.exceptions import ValidationError
from mockserver.orders.filters import INVALID_CHOICE, INVALID_UUID, parse_bool, parse_uuid

T = TypeVar("T")

# kinds: "uuid" (one uuid, 400 if malformed), "uuids" (repeatable), "bool" (ignored when not a
# boolean), "text" (last value), "choices" (repeatable, each checked against `choices`),
# "strings" (repeatable, unchecked).
KINDS = ("uuid", "uuids", "bool", "text", "choices", "strings")


@dataclass(frozen=True)
class Filter:
    """`keep(item, value)` says whether an item passes; `value` is the parsed parameter: a hex
    uuid, a set of them, a bool, a string or a set of strings (by kind)."""

    kind: str
    keep: Callable[[Any, Any], bool]
    choices: Callable[[], Sequence[str]] | None = None


def parse(query: Mapping[str, list[str]], table: Mapping[str, Filter]) -> dict[str, Any]:
    """Parsed values of the table's parameters present in `query`; one 400 for all bad ones."""
    values: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name, flt in table.items():
        raw = [v for v in query.get(name, ()) if v != ""]
        if not raw:
            continue
        if flt.kind == "uuid":
            hex_ = parse_uuid(raw[-1])
            if hex_ is None:
                errors[name] = [INVALID_UUID]
            else:
                values[name] = hex_
        elif flt.kind == "uuids":
            parsed = [parse_uuid(v) for v in raw]
            if any(p is None for p in parsed):
                errors[name] = [INVALID_UUID]
            else:
                values[name] = set(parsed)
        elif flt.kind == "bool":
            value = parse_bool(raw[-1])
            if value is not None:
                values[name] = value
        elif flt.kind == "text":
            values[name] = raw[-1]
        elif flt.kind == "choices":
            allowed = flt.choices() if flt.choices else ()
            bad = next((v for v in raw if v not in allowed), None)
            if bad is not None:
                errors[name] = [INVALID_CHOICE.format(bad)]
            else:
                values[name] = set(raw)
        else:  # strings
            values[name] = set(raw)
    if errors:
        raise ValidationError(errors)
    return values


@cache
def ordering_choices(operation_id: str) -> tuple[str, ...]:
    """The `o` values the operation's contract allows (its `o` query parameter's enum)."""
    method, path = spec.operations()[operation_id]
    operation = spec.load_spec()["paths"][path][method.lower()]
    for param in operation.get("parameters", []):
        if "$ref" in param:
            param = spec.load_spec()["components"]["parameters"][spec.ref_name(param["$ref"])]
        if param.get("name") == "o" and param.get("in") == "query":
            return tuple(param["schema"]["items"]["enum"])
    return ()


def ordering(query: Mapping[str, list[str]], operation_id: str) -> str | None:
    """The requested `o` (last value), checked against the contract; None = default order."""
    raw = [v for v in query.get("o", ()) if v != ""]
    if not raw:
        return None
    value = raw[-1]
    if value not in ordering_choices(operation_id):
        raise ValidationError({"o": [INVALID_CHOICE.format(value)]})
    return value


def apply(items: Iterable[T], query: Mapping[str, list[str]], table: Mapping[str, Filter],
          operation_id: str, sort_keys: Mapping[str, Callable[[T], Any]],
          default: str, presorted: bool = False) -> list[T]:
    """Filter `items` by the table, then order by `o` (or `default`); ties keep the default
    order. `presorted`: `items` already come in the default order (no sort needed for it).
    Bad parameters (filters and `o`) are reported together in one 400."""
    errors: dict[str, Any] = {}
    try:
        values = parse(query, table)
    except ValidationError as exc:
        errors.update(exc.body)
        values = {}
    try:
        order = ordering(query, operation_id) or default
    except ValidationError as exc:
        errors.update(exc.body)
        order = default
    if errors:
        raise ValidationError(errors)
    kept = list(items)
    for name, value in values.items():  # one pass per filter: no per-item generator
        keep = table[name].keep
        kept = [it for it in kept if keep(it, value)]
    key, base = order.lstrip("-"), default.lstrip("-")
    if not presorted:
        kept.sort(key=sort_keys[base])
    if key != base:
        kept.sort(key=sort_keys[key], reverse=order.startswith("-"))
    elif order.startswith("-"):
        kept.reverse()
    return kept


def icontains(needle: str, *haystacks: str) -> bool:
    low = needle.lower()
    return any(low in (h or "").lower() for h in haystacks)
