"""Generic rendering: an entity's values as the spec's schema says, and hyperlinks built from
the spec's own paths. Serializers of new areas are a dict of values per entity, nothing more.

    render("Customer", {"uuid": c.uuid, "name": c.name, ...})
        -> the keys in the order of the schema's properties (DRF renders a serializer's fields
           in declaration order, and the client models list them in that order too)
    Links(base_url).url("customers_retrieve", uuid=c.uuid)
        -> "http://host/api/customers/<uuid>/"
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from mockserver import spec


def render(schema_name: str, values: Mapping[str, Any],
           fields: Iterable[str] | None = None) -> dict[str, Any]:
    """`values` keyed in the order of `schema_name`'s properties; a property without a value
    is left out (the schema says whether it may be). A value the schema does not declare is a
    bug in the caller: KeyError naming it. `fields` (`?field=`): only those keys; names the
    schema does not know are ignored, and when none is left every key is kept (as the orders)."""
    order = spec.schema_properties(schema_name)
    unknown = [k for k in values if k not in _positions(schema_name)]
    if unknown:
        raise KeyError(f"{schema_name} declares no propert(ies) {', '.join(unknown)}")
    out = {name: values[name] for name in order if name in values}
    return select(out, fields)


def select(body: dict[str, Any], fields: Iterable[str] | None) -> dict[str, Any]:
    """The sparse fieldset `?field=a&field=b` of an already rendered body."""
    if not fields:
        return body
    wanted = set(fields)
    return {k: v for k, v in body.items() if k in wanted} or body


_POSITIONS: dict[str, frozenset[str]] = {}


def _positions(schema_name: str) -> frozenset[str]:
    known = _POSITIONS.get(schema_name)
    if known is None:
        known = _POSITIONS[schema_name] = frozenset(spec.schema_properties(schema_name))
    return known


class Links:
    """Absolute URLs of the served spec's operations, from the request's base (scheme://host)."""

    __slots__ = ("base",)

    def __init__(self, base_url: str) -> None:
        self.base = base_url.rstrip("/")

    def url(self, operation_id: str, **params: str) -> str:
        return self.base + spec.path_of(operation_id).format(**params)
