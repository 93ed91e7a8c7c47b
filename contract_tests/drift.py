"""Fields a server sends that the contract does not know: version drift that fails nothing.

The contract's objects allow extra properties (as Waldur's own schema does; clients ignore
them), so no check can fail on a new field. A newer server's new fields are still worth a line in
the report: the run collects, per operation, the top-level keys of its 2xx JSON answers that the
response schema does not name (docs/contract-tests.md, "Summary groups").
"""

from __future__ import annotations

from functools import cache
from typing import Any

from mockserver import spec


@cache
def known_fields(method: str, path: str, status: int) -> frozenset[str] | None:
    """Property names of the operation's response object for `status` (the items' for an
    array); None when the spec names no object schema there."""
    item = spec.load_spec()["paths"].get(path, {}).get(method.lower())
    if not isinstance(item, dict):
        return None
    response = item.get("responses", {}).get(str(status))
    if not isinstance(response, dict):
        return None
    if "$ref" in response:
        response = spec.load_spec()["components"]["responses"][spec.ref_name(response["$ref"])]
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    if schema.get("type") == "array":
        schema = schema.get("items", {})
    ref = schema.get("$ref")
    if ref is None:
        return None
    props = spec.property_schemas(spec.ref_name(ref))
    return frozenset(props) if props else None


def unknown_fields(method: str, path: str, status: int, body: Any) -> set[str]:
    """Top-level keys of a JSON answer (each item of a list) the contract does not name."""
    known = known_fields(method, path, status)
    if known is None:
        return set()
    items = body if isinstance(body, list) else [body]
    return {key for item in items[:50] if isinstance(item, dict) for key in item
            if key not in known}
