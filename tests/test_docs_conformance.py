"""Every fact of the documentation page (openapi/docs-inventory.yaml) is in the spec.

The checker `check(spec, inventory)` returns a list of problems. A test of the test removes each
inventory item from a copy of the spec (or changes its type) and asserts the checker notices.

Compatibility rule, explicit: the spec must accept every value the page's type allows.
- "any" matches any schema; "array"/"array of objects" need `type: array`; "object" needs an object.
- "string (fmt)" needs `type: string` with `format: fmt`; "integer (int64)" needs the int64 format.
- "integer" is also satisfied by `type: number` (a number schema accepts every integer; the
  published client declares some documented integers, e.g. components.limit_amount, as numbers).
- "string (decimal)" is also satisfied by `type: number`: the real server sends some documented
  decimals as JSON numbers (old_cost_estimate; new_cost_estimate is an anyOf of both).
- An `anyOf` schema is compatible when one branch is; `nullable` plays no part.
- A query parameter travels as text: a plain `type: string` (no format, enum or pattern) accepts
  the text of every boolean and integer, so it is compatible with "boolean" and "integer". The spec
  uses it where the server ignores or replaces what it cannot parse (was_auto_approved,
  can_approve_as_*, page_size: contract findings F4, docs/contract-tests.md).
- KNOWN_DEVIATIONS lists the page's facts the spec deliberately does not copy, each with its reason.
"""

from __future__ import annotations

import copy
import importlib.util
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
SPEC_PATH = ROOT / "openapi" / "marketplace-orders.yaml"
INVENTORY_PATH = ROOT / "openapi" / "docs-inventory.yaml"
PAGE_PATH = ROOT.parent / "shared" / "docs" / "marketplace-orders-api.md"

# (operation_id, where, field) -> reason
KNOWN_DEVIATIONS: dict[tuple[str, str, str], str] = {
    ("marketplace_orders_offering_retrieve", "response", "scope_name"):
        "the page says string (uuid) but the field carries the scope's name (a plain string in "
        "the client)",
    ("marketplace_orders_unlink", "response-body", "403"):
        "the page says no body; the real server sends {detail} like every 403 (reference §6)",
}

Problem = str


def _load_yaml(path: Path) -> Any:
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


# ----------------------------------------------------------------------------- schema helpers
def _deref(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    seen = 0
    while isinstance(node, dict) and "$ref" in node:
        parts = node["$ref"].lstrip("#/").split("/")
        node = spec
        for p in parts:
            node = node[p]
        seen += 1
        if seen > 20:
            raise ValueError("reference loop")
    return node


def _object_schema(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """The schema carrying `properties` for `schema` (follows $ref, allOf, anyOf, arrays)."""
    schema = _deref(spec, schema)
    if schema.get("type") == "array":
        return _object_schema(spec, schema.get("items", {}))
    if "allOf" in schema or "anyOf" in schema:
        merged: dict[str, Any] = {"properties": {}, "required": []}
        for part in schema.get("allOf", []) + schema.get("anyOf", []):
            sub = _object_schema(spec, part)
            merged["properties"].update(sub.get("properties", {}))
            merged["required"] += sub.get("required", [])
        merged["properties"].update(schema.get("properties", {}))
        merged["required"] += schema.get("required", [])
        return merged
    return schema


def _resolved_leaf(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    schema = _deref(spec, schema)
    if len(schema.get("allOf", [])) == 1:
        inner = dict(_resolved_leaf(spec, schema["allOf"][0]))
        inner.update({k: v for k, v in schema.items() if k != "allOf"})
        return inner
    return schema


def _field_schema(spec: dict[str, Any], root: dict[str, Any], dotted: str) -> dict[str, Any] | None:
    node = root
    parts = dotted.split(".")
    for i, part in enumerate(parts):
        props = _object_schema(spec, node).get("properties", {})
        if part not in props:
            return None
        node = props[part]
        if i == len(parts) - 1:
            return _resolved_leaf(spec, node)
    return None


def compatible(spec: dict[str, Any], doc_type: str, schema: dict[str, Any],
               query: bool = False) -> bool:
    """Does `schema` accept every value of the page's type `doc_type`? (see the module docstring)"""
    schema = _resolved_leaf(spec, schema)
    if "anyOf" in schema:
        return any(compatible(spec, doc_type, branch, query) for branch in schema["anyOf"])
    kind, _, fmt = doc_type.partition(" (")
    fmt = fmt.rstrip(")")
    stype = schema.get("type")
    if doc_type == "any":
        return True
    if query and kind in ("boolean", "integer") and not fmt and stype == "string" \
            and not any(k in schema for k in ("format", "enum", "pattern")):
        return True
    if kind == "array" or doc_type == "array of objects":
        return stype == "array"
    if kind == "object":
        return stype == "object" or "properties" in schema or "additionalProperties" in schema
    if kind == "boolean":
        return stype == "boolean"
    if kind == "integer":
        if stype == "number" and not fmt:
            return True
        return stype == "integer" and (not fmt or schema.get("format") == fmt)
    if kind == "number":
        return stype == "number" and (not fmt or schema.get("format") == fmt)
    if kind == "string":
        if fmt == "decimal" and stype == "number":
            return True
        return stype == "string" and (not fmt or schema.get("format") == fmt)
    return False


def _enum_of(schema: dict[str, Any]) -> set[Any] | None:
    if "enum" in schema:
        return {v for v in schema["enum"] if v is not None}
    return None


# ----------------------------------------------------------------------------- the checker
def _parameters(spec: dict[str, Any], path_item: dict[str, Any], op: dict[str, Any]) -> dict:
    params: dict[tuple[str, str], dict[str, Any]] = {}
    for p in path_item.get("parameters", []) + op.get("parameters", []):
        p = _deref(spec, p)
        params[(p["in"], p["name"])] = p
    return params


def _json_schema(spec: dict[str, Any], holder: dict[str, Any]) -> dict[str, Any] | None:
    content = _deref(spec, holder).get("content", {})
    media = content.get("application/json")
    return media.get("schema") if media else None


def check(spec: dict[str, Any], inventory: dict[str, Any]) -> list[Problem]:
    """Every inventory fact that the spec lacks or contradicts, as readable problems."""
    problems: list[Problem] = []
    for doc_op in inventory["operations"]:
        op_id, method, path = doc_op["operation_id"], doc_op["method"].lower(), doc_op["path"]
        where = f"{doc_op['method']} {path}"
        path_item = spec.get("paths", {}).get(path)
        op = path_item.get(method) if path_item else None
        if op is None:
            problems.append(f"{where}: operation missing")
            continue
        if op.get("operationId") != op_id:
            problems.append(f"{where}: operationId {op.get('operationId')!r} != {op_id!r}")
        params = _parameters(spec, path_item, op)
        for loc, key in (("path", "path_parameters"), ("query", "query_parameters")):
            for fact in doc_op.get(key, []):
                name = fact["name"]
                p = params.get((loc, name))
                if p is None:
                    problems.append(f"{op_id}: {loc} parameter {name} missing")
                    continue
                if not compatible(spec, fact["type"], p.get("schema", {}), query=loc == "query"):
                    problems.append(
                        f"{op_id}: {loc} parameter {name}: {fact['type']} not compatible"
                    )
                if loc == "path" and fact.get("required") and not p.get("required"):
                    problems.append(f"{op_id}: path parameter {name} must be required")
                if fact.get("multi_value") == "comma-separated" and p.get("explode", True):
                    problems.append(f"{op_id}: query parameter {name} must be explode: false")
        body = doc_op.get("request_body")
        if body is not None:
            problems += _check_request(spec, op_id, op, body)
        responses = {str(k): v for k, v in op.get("responses", {}).items()}
        for resp in doc_op["responses"]:
            code = str(resp["code"])
            if code not in responses:
                problems.append(f"{op_id}: response {code} missing")
                continue
            problems += _check_response(spec, op_id, code, responses[code], resp)
    return problems


def _check_request(spec: dict, op_id: str, op: dict, body: dict) -> list[Problem]:
    """Each documented field must be declared, compatibly, in at least one of the body's media types
    (a file field is only meaningful in multipart/form-data)."""
    problems: list[Problem] = []
    request = op.get("requestBody")
    if request is None:
        return [f"{op_id}: request body missing"]
    request = _deref(spec, request)
    if bool(request.get("required", False)) != body["required"]:
        problems.append(f"{op_id}: request body required should be {body['required']}")
    schemas = [m["schema"] for m in request.get("content", {}).values() if "schema" in m]
    if _json_schema(spec, request) is None:
        problems.append(f"{op_id}: request body has no application/json schema")
    for fact in body["fields"]:
        name = fact["name"]
        where = f"{op_id}: request field {name}"
        found = [(sch, f) for sch in schemas if (f := _field_schema(spec, sch, name)) is not None]
        if not found:
            problems.append(f"{op_id}: request field {name} missing")
            continue
        if not any(compatible(spec, fact["type"], f) for _, f in found):
            problems.append(f"{op_id}: request field {name}: {fact['type']} not compatible")
        for sch, field in found:
            required = set(_object_schema(spec, sch).get("required", []))
            if fact.get("required", False) != (name in required):
                problems.append(f"{where}: required should be {fact['required']}")
            if fact.get("write_only") and not field.get("writeOnly"):
                problems.append(f"{op_id}: request field {name} should be writeOnly")
            if "default" in fact and field.get("default") != fact["default"]:
                problems.append(f"{where}: default should be {fact['default']!r}")
    return problems


def _check_response(spec: dict, op_id: str, code: str, response: dict, fact: dict) -> list[Problem]:
    problems: list[Problem] = []
    response = _deref(spec, response)
    schema = _json_schema(spec, response)
    body_deviation = (op_id, "response-body", code) in KNOWN_DEVIATIONS
    if fact.get("body") is False and response.get("content") and not body_deviation:
        problems.append(f"{op_id}: response {code} should have no body")
    if fact.get("array") and (schema is None or _deref(spec, schema).get("type") != "array"):
        problems.append(f"{op_id}: response {code} should be an array")
    for field_fact in fact.get("fields", []):
        name = field_fact["name"]
        if schema is None:
            problems.append(f"{op_id}: response {code} field {name} missing (no schema)")
            continue
        field = _field_schema(spec, schema, name)
        if field is None:
            problems.append(f"{op_id}: response {code} field {name} missing")
            continue
        if (op_id, "response", name) in KNOWN_DEVIATIONS:
            continue
        if not compatible(spec, field_fact["type"], field):
            problems.append(
                f"{op_id}: response {code} field {name}: {field_fact['type']} not compatible"
            )
        if "enum" in field_fact and _enum_of(field) != set(field_fact["enum"]):
            problems.append(f"{op_id}: response {code} field {name}: enum differs")
    return problems


# ----------------------------------------------------------------------------- inventory items
@dataclass(frozen=True)
class Item:
    kind: str  # op | path_param | query_param | request_field | response_code | response_field
    op_id: str
    method: str
    path: str
    name: str = ""
    doc_type: str = ""
    code: str = ""

    def __str__(self) -> str:
        return f"{self.kind}:{self.op_id}:{self.code}:{self.name}"


def items(inventory: dict[str, Any]) -> Iterator[Item]:
    for op in inventory["operations"]:
        base = {"op_id": op["operation_id"], "method": op["method"].lower(), "path": op["path"]}
        yield Item("op", **base)
        for p in op.get("path_parameters", []):
            yield Item("path_param", name=p["name"], doc_type=p["type"], **base)
        for p in op.get("query_parameters", []):
            yield Item("query_param", name=p["name"], doc_type=p["type"], **base)
        for f in op.get("request_body", {}).get("fields", []):
            yield Item("request_field", name=f["name"], doc_type=f["type"], **base)
        for r in op["responses"]:
            yield Item("response_code", code=str(r["code"]), **base)
            for f in r.get("fields", []):
                code = str(r["code"])
                yield Item("response_field", name=f["name"], doc_type=f["type"], code=code, **base)


def _op(spec: dict, item: Item) -> dict:
    return spec["paths"][item.path][item.method]


def _find_props(spec: dict, schema: dict) -> dict:
    """The actual (not merged) properties dict that declares fields for `schema`."""
    schema = _deref(spec, schema)
    if schema.get("type") == "array":
        return _find_props(spec, schema["items"])
    for part in schema.get("allOf", []) + schema.get("anyOf", []):
        props = _find_props(spec, part)
        if props:
            return props
    return schema.get("properties", {})


def _find_all_props(spec: dict, schema: dict, key: str) -> list[dict]:
    """Every properties dict under `schema` (allOf parts included) that declares `key`."""
    schema = _deref(spec, schema)
    if schema.get("type") == "array":
        return _find_all_props(spec, schema["items"], key)
    found = [schema["properties"]] if key in schema.get("properties", {}) else []
    for part in schema.get("allOf", []) + schema.get("anyOf", []):
        found += _find_all_props(spec, part, key)
    return found


def _field_holders(spec: dict, item: Item) -> list[dict]:
    op = _op(spec, item)
    holder = op["requestBody"] if item.kind == "request_field" else op["responses"][item.code]
    found: list[dict] = []
    for media in _deref(spec, holder).get("content", {}).values():
        parts = item.name.split(".")
        node: dict = media.get("schema", {})
        for part in parts[:-1]:
            node = _object_schema(spec, node)["properties"][part]
        found += [p for p in _find_all_props(spec, node, parts[-1]) if p not in found]
    return found


def _is_param(spec: dict, p: dict, item: Item) -> bool:
    loc = "path" if item.kind == "path_param" else "query"
    resolved = _deref(spec, p)
    return resolved["in"] == loc and resolved["name"] == item.name


def _param_lists(spec: dict, item: Item) -> list[list]:
    out = []
    for holder in (spec["paths"][item.path], _op(spec, item)):
        plist = holder.get("parameters", [])
        if any(_is_param(spec, p, item) for p in plist):
            out.append(plist)
    return out


def remove(spec: dict, item: Item) -> None:
    """Delete the spec element that documents `item` (in place)."""
    if item.kind == "op":
        del spec["paths"][item.path][item.method]
    elif item.kind in ("path_param", "query_param"):
        for plist in _param_lists(spec, item):
            plist[:] = [p for p in plist if not _is_param(spec, p, item)]
    elif item.kind == "response_code":
        responses = _op(spec, item)["responses"]
        for key in (item.code, int(item.code)):
            responses.pop(key, None)
    else:
        key = item.name.split(".")[-1]
        for props in _field_holders(spec, item):
            del props[key]


INCOMPATIBLE = {"boolean": {"type": "string"}}


def retype(spec: dict, item: Item) -> None:
    """Give the spec element of `item` a type that cannot hold the page's values (in place)."""
    wrong = INCOMPATIBLE.get(item.doc_type.split(" ")[0], {"type": "boolean"})
    if item.kind == "query_param" and item.doc_type == "boolean":
        wrong = {"type": "integer"}  # a query string accepts "true" (see compatible())
    if item.kind in ("path_param", "query_param"):
        loc = "path" if item.kind == "path_param" else "query"
        for plist in _param_lists(spec, item):
            for i, p in enumerate(plist):
                resolved = _deref(spec, p)
                if resolved["in"] == loc and resolved["name"] == item.name:
                    plist[i] = dict(resolved, schema=dict(wrong))
    else:
        key = item.name.split(".")[-1]
        for props in _field_holders(spec, item):
            props[key] = dict(wrong)


# ----------------------------------------------------------------------------- fixtures and tests
@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return _load_yaml(SPEC_PATH)


@pytest.fixture(scope="module")
def inventory() -> dict[str, Any]:
    return _load_yaml(INVENTORY_PATH)


def _fast_copy(obj: Any) -> Any:
    return json.loads(json.dumps(obj))


def test_inventory_covers_the_whole_page(inventory: dict[str, Any]) -> None:
    ops = inventory["operations"]
    assert len(ops) == 17
    assert len({o["operation_id"] for o in ops}) == 17
    kinds = {i.kind for i in items(inventory)}
    assert kinds == {"op", "path_param", "query_param", "request_field", "response_code",
                     "response_field"}
    assert any("." in i.name for i in items(inventory) if i.kind == "response_field")


def test_spec_conforms_to_every_documented_fact(spec: dict, inventory: dict) -> None:
    problems = check(spec, inventory)
    assert problems == []
    all_items = list(items(inventory))
    assert len(all_items) > 400  # coverage: every fact of the page was checked, none skipped
    covered = [i for i in all_items if not any(str(i.name) in p and i.op_id in p for p in problems)]
    assert len(covered) == len(all_items)


def test_known_deviations_are_real(inventory: dict) -> None:
    """Each listed deviation still exists on the page; stale entries would hide regressions."""
    facts = {(o["operation_id"], "response", f["name"]) for o in inventory["operations"]
             for r in o["responses"] for f in r.get("fields", [])}
    facts |= {(o["operation_id"], "response-body", str(r["code"])) for o in inventory["operations"]
              for r in o["responses"] if r.get("body") is False}
    assert set(KNOWN_DEVIATIONS) <= facts


def test_compatibility_rule() -> None:
    s: dict = {}
    assert compatible(s, "string (uuid)", {"type": "string", "format": "uuid"})
    assert not compatible(s, "string (uuid)", {"type": "string"})
    assert not compatible(s, "string", {"type": "integer"})
    assert compatible(s, "string (decimal)", {"type": "number"})
    assert compatible(s, "string (decimal)", {"anyOf": [{"type": "number"}, {"type": "string"}]})
    assert compatible(s, "integer", {"type": "number"})
    assert not compatible(s, "integer (int64)", {"type": "integer"})
    assert not compatible(s, "boolean", {"type": "string"})
    assert compatible(s, "any", {})
    assert not compatible(s, "array", {"type": "object"})
    assert compatible(s, "object (free-form)", {"type": "object", "additionalProperties": True})
    assert compatible(s, "boolean", {"type": "string"}, query=True)
    assert compatible(s, "integer", {"type": "string"}, query=True)
    assert not compatible(s, "integer", {"type": "string", "format": "uuid"}, query=True)
    assert not compatible(s, "boolean", {"type": "integer"}, query=True)


KINDS = ["op", "path_param", "query_param", "request_field", "response_code", "response_field"]


@pytest.mark.parametrize("kind", KINDS)
def test_checker_notices_each_removed_item(spec: dict, inventory: dict, kind: str) -> None:
    base = _fast_copy(spec)
    chosen = [i for i in items(inventory) if i.kind == kind]
    assert chosen
    missed = []
    for item in chosen:
        mutated = _fast_copy(base)
        remove(mutated, item)
        if not check(mutated, inventory):
            missed.append(str(item))
    assert missed == []


@pytest.mark.parametrize("kind", ["path_param", "query_param", "request_field", "response_field"])
def test_checker_notices_each_type_change(spec: dict, inventory: dict, kind: str) -> None:
    base = _fast_copy(spec)
    chosen = [i for i in items(inventory) if i.kind == kind and i.doc_type != "any"]
    assert chosen
    missed = []
    for item in chosen:
        key = ("response" if kind == "response_field" else "", item.name)
        if (item.op_id, *key) in KNOWN_DEVIATIONS:
            continue
        mutated = _fast_copy(base)
        retype(mutated, item)
        if not check(mutated, inventory):
            missed.append(str(item))
    assert missed == []


def test_checker_notices_operation_id_and_style_changes(spec: dict, inventory: dict) -> None:
    mutated = _fast_copy(spec)
    mutated["paths"]["/api/marketplace-orders/{uuid}/cancel/"]["post"]["operationId"] = "cancel_it"
    assert any("operationId" in p for p in check(mutated, inventory))
    mutated = _fast_copy(spec)
    mutated["components"]["parameters"]["offering_slug"]["explode"] = True
    assert any("offering_slug" in p and "explode" in p for p in check(mutated, inventory))
    mutated = _fast_copy(spec)
    mutated["components"]["schemas"]["OrderCreateRequest"]["required"].remove("project")
    assert any("project" in p and "required" in p for p in check(mutated, inventory))
    mutated = _fast_copy(spec)
    del mutated["components"]["schemas"]["OrderCreateRequest"]["properties"][
        "accepting_terms_of_service"]["writeOnly"]
    assert any("writeOnly" in p for p in check(mutated, inventory))
    mutated = _fast_copy(spec)
    mutated["paths"]["/api/marketplace-orders/{uuid}/cancel/"]["post"]["responses"]["202"][
        "content"] = {"application/json": {"schema": {"type": "object"}}}
    assert any("no body" in p for p in check(mutated, inventory))
    mutated = _fast_copy(spec)
    mutated["components"]["schemas"]["BillingUnit"]["enum"].append("week")
    assert any("enum" in p for p in check(mutated, inventory))


def _extractor() -> Any:
    path = ROOT / "tools" / "extract_docs_inventory.py"
    module_spec = importlib.util.spec_from_file_location("extract_docs_inventory", path)
    assert module_spec and module_spec.loader
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


def test_inventory_is_fresh() -> None:
    if not PAGE_PATH.exists():
        pytest.skip(f"documentation page not available at {PAGE_PATH}")
    tool = _extractor()
    regenerated = tool.render(tool.extract(PAGE_PATH.read_text(encoding="utf-8")))
    assert regenerated == INVENTORY_PATH.read_text(encoding="utf-8")


def test_inventory_holds_facts_not_sentences(inventory: dict) -> None:
    allowed = {"operation_id", "method", "path", "path_parameters", "query_parameters",
               "request_body", "responses", "required", "fields", "name", "type", "code", "body",
               "array", "enum", "write_only", "default", "multi_value", "operations"}

    def keys(node: Any) -> Iterator[str]:
        if isinstance(node, dict):
            for k, v in node.items():
                yield k
                yield from keys(v)
        elif isinstance(node, list):
            for v in node:
                yield from keys(v)

    assert set(keys(inventory)) <= allowed
    text = INVENTORY_PATH.read_text(encoding="utf-8")
    assert "Unit of measurement" not in text and "Accessible to all customers" not in text


def test_mutations_do_not_touch_the_original(spec: dict, inventory: dict) -> None:
    before = copy.deepcopy(spec)
    item = next(i for i in items(inventory) if i.kind == "response_field" and "." in i.name)
    mutated = _fast_copy(spec)
    remove(mutated, item)
    assert spec == before and mutated != before
