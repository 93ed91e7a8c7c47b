"""The spec's examples are valid and parse with the published client (waldur-api-client 8.1.3);
null in every nullable OrderDetails field passes Connexion's response validator and the client."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft4Validator
from openapi_schema_validator import OAS30Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4
from waldur_api_client import models as client_models

ROOT = Path(__file__).resolve().parent.parent
SPEC_PATH = ROOT / "openapi" / "marketplace-orders.yaml"
SPEC_URI = "urn:marketplace-orders"

# Component schema -> the client model that parses a body of that schema.
CLIENT_MODEL = {
    "OrderDetails": "OrderDetails",
    "OrderCreated": "OrderDetails",  # the client parses the 201 body with OrderDetails
    "PublicOfferingDetails": "PublicOfferingDetails",
    "Resource": "Resource",
    "DashboardMyOrder": "DashboardMyOrder",
    "OrderInfoResponse": "OrderInfoResponse",
    "Status": "Status",
    "OrderAttachment": "OrderAttachment",
    "OrderUpdate": "OrderUpdate",
}


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    with open(SPEC_PATH, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def _validator(spec: dict[str, Any], schema: dict[str, Any]) -> OAS30Validator:
    registry = Registry().with_resource(
        SPEC_URI, Resource.from_contents(spec, default_specification=DRAFT4))
    return OAS30Validator(_rebase(schema), registry=registry)


def _rebase(node: Any) -> Any:
    """Point local `#/...` references at the registered spec document."""
    if isinstance(node, dict):
        return {k: (SPEC_URI + v if k == "$ref" and v.startswith("#") else _rebase(v))
                for k, v in node.items()}
    if isinstance(node, list):
        return [_rebase(v) for v in node]
    return node


def _examples(spec: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], Any]]:
    """(where, schema, example) for every example in the spec."""
    for name, schema in spec["components"]["schemas"].items():
        if "example" in schema:
            yield f"schemas/{name}", {"$ref": f"#/components/schemas/{name}"}, schema["example"]
    for name, response in spec["components"]["responses"].items():
        for media, content in response.get("content", {}).items():
            if "example" in content:
                yield f"responses/{name}/{media}", content["schema"], content["example"]
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if not isinstance(op, dict) or "responses" not in op:
                continue
            holders = [("request", op.get("requestBody", {}))]
            holders += [(f"response {code}", r) for code, r in op["responses"].items()]
            for label, holder in holders:
                for media, content in holder.get("content", {}).items():
                    if "example" in content:
                        where = f"{method.upper()} {path} {label} {media}"
                        yield where, content["schema"], content["example"]


def _schema_name(schema: dict[str, Any]) -> str | None:
    ref = schema.get("$ref") or schema.get("items", {}).get("$ref")
    return ref.rsplit("/", 1)[1] if ref else None


def test_the_spec_has_the_expected_examples(spec: dict[str, Any]) -> None:
    where = {w for w, _, _ in _examples(spec)}
    for name in ("OrderDetails", "PublicOfferingDetails", "Resource", "OrderInfoResponse", "Status",
                 "OrderAttachment", "DashboardMyOrder"):
        assert f"schemas/{name}" in where, name
    assert "POST /api/marketplace-orders/ response 201 application/json" in where
    assert "GET /api/marketplace-orders/ response 200 application/json" in where


def test_every_example_validates_against_its_schema(spec: dict[str, Any]) -> None:
    failures = []
    count = 0
    for where, schema, example in _examples(spec):
        count += 1
        errors = [e.message for e in _validator(spec, schema).iter_errors(example)]
        if errors:
            failures.append((where, errors[:3]))
    assert failures == []
    assert count >= 15


def test_validation_is_not_vacuous(spec: dict[str, Any]) -> None:
    example = dict(spec["components"]["schemas"]["OrderDetails"]["example"])
    validator = _validator(spec, {"$ref": "#/components/schemas/OrderDetails"})
    assert validator.is_valid(example)
    assert not validator.is_valid(dict(example, state="finished"))
    assert not validator.is_valid(dict(example, uuid=None))
    assert not validator.is_valid(dict(example, can_terminate="no"))


def test_the_client_parses_every_response_example(spec: dict[str, Any]) -> None:
    parsed = set()
    for where, schema, example in _examples(spec):
        name = _schema_name(schema)
        if name not in CLIENT_MODEL:
            continue
        model = getattr(client_models, CLIENT_MODEL[name])
        items = example if isinstance(example, list) else [example]
        for item in items:
            obj = model.from_dict(item)
            assert isinstance(obj, model), where
        parsed.add(name)
    assert parsed >= {"OrderDetails", "OrderCreated", "PublicOfferingDetails", "Resource",
                      "DashboardMyOrder", "OrderInfoResponse", "Status", "OrderAttachment"}


def test_reference_examples_round_trip_through_the_client(spec: dict[str, Any]) -> None:
    created = spec["paths"]["/api/marketplace-orders/"]["post"]["responses"]["201"]["content"][
        "application/json"]["example"]
    order = client_models.OrderDetails.from_dict(created)
    assert order.state == client_models.OrderState.PENDING_CONSUMER
    assert str(order.uuid.hex) == created["uuid"]
    assert order.additional_properties["project"] == created["project"]


def _nullable(prop: dict[str, Any]) -> bool:
    return bool(prop.get("nullable")) or any(b.get("nullable") for b in prop.get("anyOf", []))


def _all_null_order(spec: dict[str, Any]) -> dict[str, Any]:
    props = spec["components"]["schemas"]["OrderDetails"]["properties"]
    return {k: None for k, v in props.items() if _nullable(v)}


def test_all_null_order_validates_under_oas30(spec: dict[str, Any]) -> None:
    order = _all_null_order(spec)
    assert len(order) == 50  # the 49 nullable fields of the client + plan (null without a plan)
    validator = _validator(spec, {"$ref": "#/components/schemas/OrderDetails"})
    assert list(validator.iter_errors(order)) == []
    assert not validator.is_valid(dict(order, state=None))


def test_all_null_order_passes_connexions_response_validator(spec: dict[str, Any]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from connexion.json_schema import Draft4ResponseValidator
        from connexion.spec import Specification
    resolved = Specification.load(SPEC_PATH)
    for path, code in (("/api/marketplace-orders/{uuid}/", "200"),):
        schema = resolved["paths"][path]["get"]["responses"][code]["content"][
            "application/json"]["schema"]
        validator = Draft4ResponseValidator(schema, format_checker=Draft4Validator.FORMAT_CHECKER)
        order = _all_null_order(spec)
        assert [e.message for e in validator.iter_errors(order)] == []
        assert not validator.is_valid(dict(order, uuid=None))
        assert not validator.is_valid(dict(order, plan_unit="fortnight"))
    created = resolved["paths"]["/api/marketplace-orders/"]["post"]["responses"]["201"]
    validator = Draft4ResponseValidator(created["content"]["application/json"]["schema"],
                                        format_checker=Draft4Validator.FORMAT_CHECKER)
    assert validator.is_valid(dict(_all_null_order(spec), created_by="https://x.example/u/1/"))


def test_all_null_order_parses_with_the_client(spec: dict[str, Any]) -> None:
    order = client_models.OrderDetails.from_dict(_all_null_order(spec))
    assert order.cost is None and order.plan_unit is None and order.issue is None
    assert order.consumer_reviewed_at is None and order.start_date is None


def test_new_cost_estimate_accepts_what_the_server_sends(spec: dict[str, Any]) -> None:
    validator = _validator(spec, {"$ref": "#/components/schemas/OrderDetails"})
    for value in (0.0, "12.5000000000", None):
        assert validator.is_valid({"new_cost_estimate": value}), value
    assert not validator.is_valid({"new_cost_estimate": True})


@pytest.mark.parametrize("name", ["OrderInfoResponse", "Status"])
def test_required_keys_the_client_pops(spec: dict[str, Any], name: str) -> None:
    """The client's from_dict pops these keys: an empty body must not validate."""
    validator = _validator(spec, {"$ref": f"#/components/schemas/{name}"})
    assert not validator.is_valid({})
    with pytest.raises(KeyError):
        getattr(client_models, name).from_dict({})


BODY_SCHEMAS = ["OrderDetails", "OrderCreated", "PublicOfferingDetails", "Resource",
                "DashboardMyOrder"]


@pytest.mark.parametrize("name", BODY_SCHEMAS)
def test_examples_use_only_declared_properties(spec: dict[str, Any], name: str) -> None:
    """The reference's real bodies are fully described: no key relies on additionalProperties."""
    schemas = spec["components"]["schemas"]
    declared: set[str] = set()
    for part in [schemas[name], *schemas[name].get("allOf", [])]:
        part = schemas[part["$ref"].rsplit("/", 1)[1]] if "$ref" in part else part
        declared |= set(part.get("properties", {}))
    examples = [ex for _, schema, ex in _examples(spec) if _schema_name(schema) == name]
    assert examples
    for example in examples:
        for item in example if isinstance(example, list) else [example]:
            assert set(item) <= declared, set(item) - declared
