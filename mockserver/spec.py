"""The OpenAPI spec, loaded once. Everything the code needs to know about the contract
(field lists, enums, operation ids) is read from here, never typed again by hand."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

# Shipped inside the package (a wheel carries it); `openapi/` at the repository root links here.
OPENAPI_DIR = Path(__file__).resolve().parent / "openapi"
SPEC_PATH = OPENAPI_DIR / "marketplace-orders.yaml"


@cache
def load_spec(path: Path = SPEC_PATH) -> dict[str, Any]:
    with open(path, encoding="utf-8") as fh:
        # libyaml's loader when present: the pure-Python one costs ~1 s per load of this spec.
        return yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def schema(name: str) -> dict[str, Any]:
    return load_spec()["components"]["schemas"][name]


def ref_name(ref: str) -> str:
    """'#/components/schemas/Name' -> 'Name'."""
    return ref.rsplit("/", 1)[-1]


@cache
def property_schemas(name: str) -> dict[str, dict[str, Any]]:
    """Property name -> property schema of a component schema, in spec order (follows allOf;
    a later definition of a name wins, its first position stays)."""
    sch = schema(name)
    props: dict[str, dict[str, Any]] = {}
    for part in sch.get("allOf", []):
        if "$ref" in part:
            props.update(property_schemas(ref_name(part["$ref"])))
        props.update(part.get("properties", {}))
    props.update(sch.get("properties", {}))
    return props


@cache
def schema_properties(name: str) -> tuple[str, ...]:
    """Property names of a component schema, in spec order (follows allOf)."""
    return tuple(property_schemas(name))


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


def path_of(operation_id: str) -> str:
    """The operation's path template, e.g. `/api/marketplace-orders/{uuid}/`."""
    return operations()[operation_id][1]


def request_body(operation_id: str) -> dict[str, Any] | None:
    """The operation's requestBody (None when it declares none)."""
    method, path = operations()[operation_id]
    return load_spec()["paths"][path][method.lower()].get("requestBody")


@cache
def request_properties(operation_id: str, media_type: str) -> dict[str, dict[str, Any]]:
    """name -> property schema of the operation's request body in `media_type` ({} if none)."""
    content = (request_body(operation_id) or {}).get("content", {})
    ref = body_schema_ref(content.get(media_type, {}).get("schema", {}))
    return property_schemas(ref_name(ref)) if ref is not None else {}


def body_schema_ref(schema: dict[str, Any]) -> str | None:
    """The component a request body schema names: `$ref`, or the `$ref` branch of a body that
    may also be JSON null (`anyOf: [$ref, {nullable: true, enum: [null]}]`)."""
    if "$ref" in schema:
        return schema["$ref"]
    return next((b["$ref"] for b in schema.get("anyOf", ()) if "$ref" in b), None)
