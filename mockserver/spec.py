"""The OpenAPI spec, loaded once. Everything the code needs to know about the contract
(field lists, enums, operation ids) is read from here, never typed again by hand."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from mockserver import speccache

# Shipped inside the package (a wheel carries it); `openapi/` at the root of a checkout links here.
OPENAPI_DIR = Path(__file__).resolve().parent / "openapi"
# The orders contract: the file the contract harness and the docs tests read on its own.
SPEC_PATH = OPENAPI_DIR / "marketplace-orders.yaml"
# An area contract names the module of its handlers at its top level (docs/architecture.md).
HANDLER_KEY = "x-handler-module"
COMPONENT_KINDS = ("schemas", "parameters", "responses", "securitySchemes", "headers",
                   "requestBodies", "examples", "links")


class SpecError(ValueError):
    """The area contracts cannot be composed (a clash between two files)."""


def read_yaml(path: Path) -> dict[str, Any]:
    with open(path, encoding="utf-8") as fh:
        # libyaml's loader when present: the pure-Python one costs ~1 s per load of this spec.
        return yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def area_files(directory: Path = OPENAPI_DIR) -> tuple[Path, ...]:
    """The area contracts: every `*.yaml` of `directory` that declares `x-handler-module`.
    The orders contract comes first, the others by file name (a stable composition)."""
    found = []
    for path in sorted(directory.glob("*.yaml")):
        with open(path, encoding="utf-8") as fh:
            head = fh.read()
        if re.search(rf"^{HANDLER_KEY}:", head, re.MULTILINE):
            found.append(path)
    found.sort(key=lambda p: (p.name != SPEC_PATH.name, p.name))
    return tuple(found)


@cache
def load_spec(path: Path | None = None) -> dict[str, Any]:
    """The served spec: every area contract composed into one document (`compose`).
    With `path`: that one file as written."""
    if path is not None:
        return read_yaml(path)
    # ~0.16 s of YAML parsing, or ~5 ms from the spec cache (mockserver/speccache.py)
    return speccache.load("spec", spec_inputs(), compose_files)


def compose_files() -> dict[str, Any]:
    """The served spec, parsed from the area contracts' YAML (what `load_spec()` returns)."""
    return compose([(p.name, read_yaml(p)) for p in area_files()])


def spec_inputs() -> tuple[Path, ...]:
    """Every file the served spec is made from: the YAML files and this module (it composes
    them). The spec caches' key (mockserver/speccache.py)."""
    return (Path(__file__), *sorted(OPENAPI_DIR.glob("*.yaml")))


def compose(documents: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """One OpenAPI document out of several area contracts.

    The first document gives `openapi`, `info` (retitled when there are several) and
    `security`; paths, tags and components
    are merged. A path or operationId may appear in one file only; a component name may
    appear in several files only with an identical definition. Each operation gets
    `x-openapi-router-controller` = its file's `x-handler-module`, so that operationIds stay
    bare (as in waldur-api-client) and Connexion finds every handler in its area's module.
    """
    if not documents:
        raise SpecError("no area contract found")
    first = documents[0][1]
    out: dict[str, Any] = {k: first[k] for k in ("openapi", "info") if k in first}
    if "security" in first:
        out["security"] = first["security"]
    tags: dict[str, dict[str, Any]] = {}
    paths: dict[str, Any] = {}
    components: dict[str, dict[str, Any]] = {}
    owner: dict[tuple[str, str], str] = {}
    operation_ids: dict[str, str] = {}
    for name, doc in documents:
        module = doc.get(HANDLER_KEY)
        if not module:
            raise SpecError(f"{name}: no top-level {HANDLER_KEY}")
        for tag in doc.get("tags", ()):
            tags.setdefault(tag["name"], tag)
        for path, item in doc.get("paths", {}).items():
            if path in paths:
                raise SpecError(f"{name}: path {path} is already in {owner[('path', path)]}")
            owner[("path", path)] = name
            routed = dict(item)
            for method, op in item.items():
                if isinstance(op, dict) and "operationId" in op:
                    op_id = op["operationId"]
                    if op_id in operation_ids:
                        raise SpecError(f"{name}: operationId {op_id} is already in "
                                        f"{operation_ids[op_id]}")
                    operation_ids[op_id] = name
                    routed[method] = {**op, "x-openapi-router-controller": module}
            paths[path] = routed
        for kind in COMPONENT_KINDS:
            for cname, definition in doc.get("components", {}).get(kind, {}).items():
                merged = components.setdefault(kind, {})
                if cname in merged and merged[cname] != definition:
                    raise SpecError(f"{name}: components/{kind}/{cname} differs from the one "
                                    f"in {owner[(kind, cname)]} (rename it, or make it identical)")
                merged.setdefault(cname, definition)
                owner.setdefault((kind, cname), name)
    if len(documents) > 1 and "info" in first:
        areas = "; ".join(f"`{name}`: {doc.get('info', {}).get('title', name)}"
                          for name, doc in documents)
        out["info"] = {**first["info"], "title": "Waldur API (waldur-orders-mock)",
                       "description": f"The area contracts the stub serves, composed: {areas}."}
    if tags:
        out["tags"] = list(tags.values())
    out["paths"] = paths
    out["components"] = components
    return out


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


def response_example(operation_id: str, status: str = "200") -> Any:
    """The `example` of an operation's JSON response: what the stub serves for a fixed answer
    (configuration, version, health check), so that the contract shows exactly that."""
    method, path = operations()[operation_id]
    response = load_spec()["paths"][path][method.lower()]["responses"][status]
    return response["content"]["application/json"]["example"]


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
