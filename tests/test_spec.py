"""openapi/marketplace-orders.yaml: valid OpenAPI 3.0, loadable by Connexion and Schemathesis, and
faithful to the rules of the real server that the spec is meant to encode."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from openapi_spec_validator import validate

ROOT = Path(__file__).resolve().parent.parent
SPEC_PATH = ROOT / "openapi" / "marketplace-orders.yaml"
INVENTORY_PATH = ROOT / "openapi" / "docs-inventory.yaml"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

# Operations of the current Waldur API that the documentation page does not show.
CURRENT_API = {
    "marketplace_orders_count", "marketplace_orders_update", "marketplace_orders_partial_update",
    "marketplace_orders_resource_retrieve", "marketplace_orders_retry",
    "marketplace_orders_set_consumer_info", "marketplace_orders_set_provider_info",
    "marketplace_orders_dashboard_my_orders_list", "marketplace_orders_dashboard_my_orders_count",
}

# Reference §7: the OrderDetails fields that may be null (plus the three null in practice).
NULLABLE_ORDER_FIELDS = {
    "plan_unit", "plan_name", "plan_uuid", "plan_description", "resource_uuid", "resource_type",
    "resource_end_date", "cost", "output_updated_at", "error_updated_at", "completed_at",
    "callback_url", "request_comment", "attachment", "start_date", "consumer_reviewed_by",
    "consumer_reviewed_by_full_name", "consumer_reviewed_by_username", "consumer_reviewed_at",
    "provider_reviewed_by", "provider_reviewed_by_full_name", "provider_reviewed_by_username",
    "provider_reviewed_at", "created_by_civil_number", "created_by_email",
    "created_by_organization",
    "created_by_organization_country", "created_by_organization_registry_code",
    "created_by_organization_vat_code", "created_by_organization_address", "old_plan_name",
    "new_plan_name", "old_plan_uuid", "new_plan_uuid", "old_plan_billing_mode",
    "new_plan_billing_mode", "new_cost_estimate", "termination_comment", "order_subtype",
    "provider_message_attachment", "provider_message_updated_at", "consumer_message_attachment",
    "consumer_message_updated_at", "auto_approved_by_rule_uuid",
    "auto_approved_cost_limit_snapshot",
    "issue", "offering_image", "offering_thumbnail", "category_icon",
    # Not in the client's list, but the real server renders an order without a plan as null.
    "plan",
}

# Reference §2.2/§2.3/§6: the error statuses each operation can produce.
ERROR_CODES = {
    "marketplace_orders_list": {400, 401, 404},
    "marketplace_orders_count": {400, 401, 404},
    "marketplace_orders_dashboard_my_orders_list": {400, 401, 404},
    "marketplace_orders_dashboard_my_orders_count": {400, 401, 404},
    "marketplace_orders_create": {400, 401, 403},
    "marketplace_orders_retrieve": {401, 404},
    "marketplace_orders_offering_retrieve": {401, 404},
    "marketplace_orders_resource_retrieve": {401, 404},
    "marketplace_orders_update": {400, 401, 403, 404, 405, 409},
    "marketplace_orders_partial_update": {400, 401, 403, 404, 405, 409},
    "marketplace_orders_destroy": {400, 401, 403, 404, 409},
    "marketplace_orders_unlink": {401, 403, 404},
    "marketplace_orders_approve_by_consumer": {400, 401, 403, 404, 409},
    "marketplace_orders_approve_by_provider": {400, 401, 403, 404, 409},
    "marketplace_orders_reject_by_consumer": {400, 401, 403, 404, 409},
    "marketplace_orders_reject_by_provider": {400, 401, 403, 404, 409},
    "marketplace_orders_cancel": {401, 403, 404, 405, 409},
    "marketplace_orders_set_state_executing": {401, 403, 404, 405, 409},
    "marketplace_orders_set_state_done": {401, 403, 404, 405, 409},
    "marketplace_orders_set_state_erred": {400, 401, 403, 404, 405, 409},
    "marketplace_orders_retry": {401, 403, 404, 405, 409},
    "marketplace_orders_set_backend_id": {400, 401, 403, 404},
    "marketplace_orders_update_attachment": {400, 401, 403, 404, 409},
    "marketplace_orders_delete_attachment": {401, 403, 404, 409},
    "marketplace_orders_set_consumer_info": {400, 401, 403, 404, 409},
    "marketplace_orders_set_provider_info": {400, 401, 403, 404, 409},
}

# Reference §7: success status and body of each operation (None: no body).
SUCCESS = {
    "marketplace_orders_approve_by_consumer": ("200", "OrderInfoResponse"),
    "marketplace_orders_approve_by_provider": ("200", "OrderInfoResponse"),
    "marketplace_orders_set_consumer_info": ("200", "OrderInfoResponse"),
    "marketplace_orders_set_provider_info": ("200", "OrderInfoResponse"),
    "marketplace_orders_reject_by_consumer": ("200", None),
    "marketplace_orders_reject_by_provider": ("200", None),
    "marketplace_orders_set_state_done": ("200", None),
    "marketplace_orders_set_state_erred": ("200", None),
    "marketplace_orders_set_state_executing": ("200", None),
    "marketplace_orders_retry": ("200", None),
    "marketplace_orders_cancel": ("202", None),
    "marketplace_orders_destroy": ("204", None),
    "marketplace_orders_unlink": ("204", None),
    "marketplace_orders_delete_attachment": ("204", None),
    "marketplace_orders_set_backend_id": ("200", "Status"),
    "marketplace_orders_update_attachment": ("200", "OrderAttachment"),
    "marketplace_orders_create": ("201", "OrderCreated"),
    "marketplace_orders_retrieve": ("200", "OrderDetails"),
    "marketplace_orders_offering_retrieve": ("200", "PublicOfferingDetails"),
    "marketplace_orders_resource_retrieve": ("200", "Resource"),
    "marketplace_orders_update": ("200", "OrderUpdate"),
    "marketplace_orders_partial_update": ("200", "OrderUpdate"),
}


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    with open(SPEC_PATH, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def _operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def _by_id(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {op["operationId"]: op for _, _, op in _operations(spec)}


def _deref(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = spec
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def test_valid_openapi_30(spec: dict[str, Any]) -> None:
    assert spec["openapi"].startswith("3.0.")
    validate(spec)


def test_no_jinja_markers() -> None:
    text = SPEC_PATH.read_text(encoding="utf-8")
    assert "{{" not in text and "{%" not in text


def test_loads_in_connexion() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import connexion
    app = connexion.AsyncApp(__name__)
    app.add_api(SPEC_PATH, resolver_error=501, validate_responses=True)


def test_loads_in_schemathesis(spec: dict[str, Any]) -> None:
    import schemathesis

    schema = schemathesis.openapi.from_path(str(SPEC_PATH))
    ops = [result.ok() for result in schema.get_all_operations()]
    ids = {op.definition.raw["operationId"] for op in ops}
    assert ids == set(_by_id(spec))
    assert len(ops) == 26


def test_every_documented_operation_is_present(spec: dict[str, Any]) -> None:
    with open(INVENTORY_PATH, encoding="utf-8") as fh:
        inventory = yaml.safe_load(fh)
    documented = {(o["method"].lower(), o["path"]): o["operation_id"]
                  for o in inventory["operations"]}
    assert len(documented) == 17
    present = {(method, path): op["operationId"] for path, method, op in _operations(spec)}
    for key, op_id in documented.items():
        assert present.get(key) == op_id, key


def test_current_api_operations_are_marked(spec: dict[str, Any]) -> None:
    ops = _by_id(spec)
    assert CURRENT_API <= set(ops)
    for op_id, op in ops.items():
        marked = op.get("x-source") == "current-api"
        assert marked == (op_id in CURRENT_API), op_id
        if marked:
            assert "current Waldur API" in op["description"], op_id
    assert len(ops) == 17 + len(CURRENT_API)


def test_operation_ids_are_unique_and_paths_end_with_slash(spec: dict[str, Any]) -> None:
    ids = [op["operationId"] for _, _, op in _operations(spec)]
    assert len(ids) == len(set(ids))
    assert all(path.endswith("/") for path in spec["paths"])


@pytest.mark.parametrize("op_id", sorted(ERROR_CODES))
def test_error_codes_per_operation(spec: dict[str, Any], op_id: str) -> None:
    responses = _by_id(spec)[op_id]["responses"]
    errors = {int(code) for code in responses if int(code) >= 400}
    assert errors == ERROR_CODES[op_id]


def test_every_operation_is_covered_by_the_error_table(spec: dict[str, Any]) -> None:
    assert set(_by_id(spec)) == set(ERROR_CODES)


@pytest.mark.parametrize("op_id", sorted(SUCCESS))
def test_success_responses(spec: dict[str, Any], op_id: str) -> None:
    status, body = SUCCESS[op_id]
    responses = _by_id(spec)[op_id]["responses"]
    successes = [code for code in responses if int(code) < 400]
    assert successes == [status]
    content = _deref(spec, responses[status]).get("content")
    if body is None:
        assert not content
    else:
        assert content["application/json"]["schema"] == {"$ref": f"#/components/schemas/{body}"}


def test_list_responses_are_plain_arrays_with_pagination_headers(spec: dict[str, Any]) -> None:
    ops = _by_id(spec)
    for op_id in ("marketplace_orders_list", "marketplace_orders_count",
                  "marketplace_orders_dashboard_my_orders_list",
                  "marketplace_orders_dashboard_my_orders_count"):
        ok = ops[op_id]["responses"]["200"]
        assert ok["headers"]["X-Result-Count"]["required"] is True
        assert ok["headers"]["X-Result-Count"]["schema"]["type"] == "integer"
        assert ok["headers"]["Link"]["schema"]["type"] == "string"
        if op_id.endswith("_count"):
            assert "content" not in ok
        else:
            assert ok["content"]["application/json"]["schema"]["type"] == "array"
    assert ops["marketplace_orders_create"]["responses"]["201"]["headers"]["Location"]["required"]


def test_error_bodies(spec: dict[str, Any]) -> None:
    responses = spec["components"]["responses"]
    schemas = spec["components"]["schemas"]
    unauthorized = responses["Unauthorized"]
    assert unauthorized["headers"]["WWW-Authenticate"]["required"] is True
    assert schemas["ErrorDetail"]["required"] == ["detail"]
    branches = [b["$ref"].rsplit("/", 1)[1] for b in schemas["ValidationErrorBody"]["anyOf"]]
    assert {"FieldErrors", "ErrorList"} <= set(branches)
    assert schemas["ErrorList"]["type"] == "array"
    assert schemas["FieldErrors"]["additionalProperties"]["type"] == "array"
    for name in ("Forbidden", "NotFound", "MethodNotAllowed", "Conflict", "InvalidPage"):
        schema = responses[name]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/ErrorDetail"}
    assert responses["InvalidPage"]["content"]["application/json"]["example"] == {
        "detail": "Invalid page."}


def test_security_scheme(spec: dict[str, Any]) -> None:
    scheme = spec["components"]["securitySchemes"]["tokenAuth"]
    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header", "Authorization")
    assert scheme["x-apikeyInfoFunc"] == "mockserver.auth.token_info"
    assert "x-auth-token" in scheme["description"]
    assert spec["security"] == [{"tokenAuth": []}]
    names = {_deref(spec, p)["name"]
             for _, _, op in _operations(spec) for p in op.get("parameters", [])}
    assert "x-auth-token" not in names


def test_uuid_path_parameter_has_no_pattern(spec: dict[str, Any]) -> None:
    for path, item in spec["paths"].items():
        if "{uuid}" not in path:
            continue
        params = [_deref(spec, p) for p in item["parameters"]]
        (uuid,) = [p for p in params if p["in"] == "path"]
        assert uuid["name"] == "uuid" and uuid["required"] is True
        assert uuid["schema"]["type"] == "string" and "pattern" not in uuid["schema"]


def test_list_query_parameters(spec: dict[str, Any]) -> None:
    params = {(p := _deref(spec, ref))["name"]: p
              for ref in _by_id(spec)["marketplace_orders_list"]["parameters"]}
    for name in ("state", "type", "field", "offering_type", "o"):
        assert params[name]["schema"]["type"] == "array", name
        assert params[name].get("style") == "form" and params[name].get("explode") is True, name
    assert params["offering_slug"]["explode"] is False
    assert _deref(spec, params["state"]["schema"]["items"])["enum"] == \
        spec["components"]["schemas"]["OrderState"]["enum"]
    assert set(params["o"]["schema"]["items"]["enum"]) == {
        "created", "-created", "consumer_reviewed_at", "-consumer_reviewed_at", "cost", "-cost",
        "state", "-state"}
    # The spec describes what the server accepts (contract findings F4, F9, F11, docs/
    # contract-tests.md): django-filter skips an empty date/uuid filter (`?created=` is 200), so
    # those are "date-time (or uuid) or blank"; an unparseable boolean is ignored and a
    # non-integer page_size means 10, so those are strings whose accepted values are described.
    for name in ("created", "modified", "created_before", "modified_before"):
        assert _formats_or_blank(spec, params[name]["schema"]) == {"date-time"}, name
    for name in ("can_approve_as_consumer", "can_approve_as_provider", "was_auto_approved"):
        assert params[name]["schema"] == {"type": "string"}, name
        assert "any other value is ignored" in params[name]["description"], name
    assert params["page"]["schema"]["type"] == "integer"  # a bad page is 404 Invalid page.
    assert params["page_size"]["schema"] == {"type": "string"}
    for name in (n for n in params if n.endswith("_uuid") and n != "service_manager_uuid"):
        assert _formats_or_blank(spec, params[name]["schema"]) == {"uuid"}, name
    # any value: one that is not a user's uuid matches no order (200, empty)
    assert {b.get("format") for b in params["service_manager_uuid"]["schema"]["anyOf"]} == {
        "uuid", None}
    from waldur_api_client.models.order_details_field_enum import OrderDetailsFieldEnum

    # unknown names are dropped, not refused: any string; the known ones are listed
    items = params["field"]["schema"]["items"]
    assert items["type"] == "string" and "enum" not in items
    assert set(items["x-known-values"]) == {e.value for e in OrderDetailsFieldEnum}


def _formats_or_blank(spec: dict[str, Any], schema: dict[str, Any]) -> set[str]:
    """Formats of a `string, anyOf: [formatted string, BlankEnum]` schema (asserts the shape)."""
    assert schema["type"] == "string"
    branches = [_deref(spec, b) for b in schema["anyOf"]]
    assert {"type": "string", "enum": [""]} in branches
    return {b["format"] for b in branches if "format" in b}


def test_enums(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    assert schemas["OrderState"]["enum"] == [
        "canceled", "done", "erred", "executing", "pending-consumer", "pending-project",
        "pending-provider", "pending-start-date", "rejected"]
    assert set(schemas["RequestTypes"]["enum"]) == {"Create", "Update", "Terminate", "Restore"}
    props = schemas["OrderDetails"]["properties"]
    assert props["state"] == {"$ref": "#/components/schemas/OrderState"}
    assert props["type"] == {"$ref": "#/components/schemas/RequestTypes"}


def test_order_details_nullability(spec: dict[str, Any]) -> None:
    order = spec["components"]["schemas"]["OrderDetails"]
    assert "required" not in order

    def nullable(prop: dict[str, Any]) -> bool:
        return bool(prop.get("nullable")) or any(b.get("nullable") for b in prop.get("anyOf", []))

    assert {k for k, v in order["properties"].items() if nullable(v)} == NULLABLE_ORDER_FIELDS
    for key in ("uuid", "offering_uuid", "provider_uuid", "category_uuid", "customer_uuid",
                "project_uuid", "marketplace_resource_uuid", "created", "modified"):
        assert not nullable(order["properties"][key]), key


def test_number_fields(spec: dict[str, Any]) -> None:
    props = spec["components"]["schemas"]["OrderDetails"]["properties"]
    assert props["cost"]["type"] == "string" and props["cost"]["format"] == "decimal"
    for key in ("old_cost_estimate", "fixed_price", "activation_price"):
        assert props[key]["type"] == "number", key
    kinds = {b["type"] for b in props["new_cost_estimate"]["anyOf"]}
    assert kinds == {"string", "number"}  # the page says decimal string; the server sends a number


def test_nullable_modelling_is_connexion_safe(spec: dict[str, Any]) -> None:
    """`allOf` + nullable fails Connexion's response validator; a nullable enum must list null."""
    for node in _walk(spec):
        if node.get("nullable") and "allOf" in node:
            pytest.fail(f"allOf with nullable: {node}")
        if node.get("nullable") and "enum" in node:
            assert None in node["enum"], node


def test_request_bodies(spec: dict[str, Any]) -> None:
    ops = _by_id(spec)
    schemas = spec["components"]["schemas"]
    create = schemas["OrderCreateRequest"]
    assert set(create["required"]) == {"project", "offering"}
    assert create["properties"]["accepting_terms_of_service"]["writeOnly"] is True
    assert create["properties"]["type"]["default"] == "Create"
    assert create["properties"]["limits"]["additionalProperties"] == {"type": "integer"}
    assert create["properties"]["start_date"]["format"] == "date"
    backend = schemas["OrderBackendIDRequest"]
    assert backend["required"] == ["backend_id"]
    assert backend["properties"]["backend_id"]["maxLength"] == 255
    assert ops["marketplace_orders_create"]["requestBody"]["required"] is True
    assert ops["marketplace_orders_set_backend_id"]["requestBody"]["required"] is True
    for op_id in ("approve_by_provider", "reject_by_consumer", "reject_by_provider",
                  "set_state_erred", "update_attachment", "set_consumer_info", "set_provider_info",
                  "update", "partial_update"):
        assert ops[f"marketplace_orders_{op_id}"]["requestBody"]["required"] is False, op_id
    for op_id in ("update_attachment", "set_consumer_info", "set_provider_info"):
        content = ops[f"marketplace_orders_{op_id}"]["requestBody"]["content"]
        assert set(content) == {"application/json", "multipart/form-data"}
        multipart = _deref(spec, content["multipart/form-data"]["schema"])
        assert any(p.get("format") == "binary" for p in multipart["properties"].values())


def test_links_chain_the_lifecycle(spec: dict[str, Any]) -> None:
    ops = _by_id(spec)
    path_params = {op_id: {_deref(spec, p)["name"] for p in
                           spec["paths"][path].get("parameters", []) + op.get("parameters", [])
                           if _deref(spec, p)["in"] == "path"}
                   for path, _, op in _operations(spec) for op_id in [op["operationId"]]}
    targets: dict[str, set[str]] = {}
    for op_id, op in ops.items():
        for response in op["responses"].values():
            for link in response.get("links", {}).values():
                assert link["operationId"] in ops
                assert set(link["parameters"]) <= path_params[link["operationId"]]
                targets.setdefault(op_id, set()).add(link["operationId"])
    p = "marketplace_orders_"
    from_create = {p + x for x in ("retrieve", "approve_by_consumer", "reject_by_consumer",
                                   "cancel", "destroy", "offering_retrieve", "set_backend_id")}
    assert from_create <= targets[p + "create"]
    assert {p + "approve_by_provider", p + "reject_by_provider"} <= \
        targets[p + "approve_by_consumer"]
    assert {p + "set_state_executing", p + "set_state_done", p + "set_state_erred"} <= \
        targets[p + "approve_by_provider"]
    link = ops[p + "create"]["responses"]["201"]["links"]["Retrieve"]
    assert link["parameters"] == {"uuid": "$response.body#/uuid"}


def test_examples_use_the_page_values(spec: dict[str, Any]) -> None:
    uuid = spec["components"]["parameters"]["uuid"]
    assert uuid["example"] == "a1b2c3d4-e5f6-7890-abcd-ef1234567890"
    body = _by_id(spec)["marketplace_orders_set_backend_id"]["requestBody"]
    assert body["content"]["application/json"]["example"] == {"backend_id": "ext-a1b2c3d4"}


def test_spec_helpers_read_this_spec() -> None:
    from mockserver import spec as spec_module

    assert spec_module.enum_values("OrderState")[0] == "canceled"
    assert spec_module.operations()["marketplace_orders_cancel"] == (
        "POST", "/api/marketplace-orders/{uuid}/cancel/")
    assert "url" in spec_module.schema_properties("OrderDetails")
    assert "created_by" in spec_module.schema_properties("OrderCreated")


def _texts(node: Any) -> Iterator[str]:
    for d in _walk(node):
        for key in ("description", "summary"):
            if isinstance(d.get(key), str):
                yield d[key]


def test_no_sentence_of_the_page_is_copied(spec: dict[str, Any]) -> None:
    page = ROOT.parent / "shared" / "docs" / "marketplace-orders-api.md"
    if not page.exists():
        pytest.skip(f"documentation page not available at {page}")
    import re

    text = page.read_text(encoding="utf-8")
    sentences = {s.strip().strip("|").strip() for s in re.split(r"(?<=[.!?])\s+|\n|\|", text)}
    sentences = {s for s in sentences if len(s) >= 20 and " " in s}
    headings = {h.strip() for h in re.findall(r"^### (.+)$", text, re.M)}
    assert len(sentences) > 100 and len(headings) == 17
    texts = list(_texts(spec))
    assert [s for s in sentences for t in texts if s in t] == []
    assert headings.isdisjoint(texts)
