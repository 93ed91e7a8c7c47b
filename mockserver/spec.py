"""The OpenAPI spec, loaded once. Everything the code needs to know about the contract
(field lists, enums, operation ids) is read from here, never typed again by hand."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

OPENAPI_DIR = Path(__file__).resolve().parent.parent / "openapi"
SPEC_PATH = OPENAPI_DIR / "marketplace-orders.yaml"


@cache
def load_spec(path: Path = SPEC_PATH) -> dict[str, Any]:
    with open(path, encoding="utf-8") as fh:
        # libyaml's loader when present: the pure-Python one costs ~1 s per load of this spec.
        return yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def schema(name: str) -> dict[str, Any]:
    return load_spec()["components"]["schemas"][name]


@cache
def schema_properties(name: str) -> tuple[str, ...]:
    """Property names of a component schema, in spec order (follows allOf)."""
    sch = schema(name)
    names: list[str] = []
    for part in sch.get("allOf", []):
        if "$ref" in part:
            names.extend(schema_properties(part["$ref"].rsplit("/", 1)[-1]))
        else:
            names.extend(part.get("properties", {}))
    names.extend(sch.get("properties", {}))
    return tuple(dict.fromkeys(names))


@cache
def enum_values(name: str) -> tuple[str, ...]:
    return tuple(schema(name)["enum"])


@cache
def operations() -> dict[str, tuple[str, str]]:
    """operationId -> (METHOD, path)."""
    ops: dict[str, tuple[str, str]] = {}
    for path, item in load_spec()["paths"].items():
        for method, op in item.items():
            if isinstance(op, dict) and "operationId" in op:
                ops[op["operationId"]] = (method.upper(), path)
    return ops
