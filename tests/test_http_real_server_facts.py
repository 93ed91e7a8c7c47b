"""Facts seen on a real Waldur server that the stub once answered differently (issue 13)."""

from __future__ import annotations

import copy
import re
from typing import Any

import jsonschema
import pytest
from schemathesis.specs.openapi.converter import to_json_schema

from mockserver import spec

ORDERS = "/api/marketplace-orders/"
BASE = "http://testserver"
NO_ORDER = {"detail": "No Order matches the given query."}


def create_body(api: Any, offering: str = "basic", **change: Any) -> dict[str, Any]:
    off = api.url("offerings", offering)
    plan = api.backend.offerings[api.uuid("offerings", offering)].plans[0].uuid
    return {"project": api.url("projects", "consumer-main"), "offering": off,
            "plan": f"{off}plans/{plan}/", "attributes": {"name": "x"}, **change}


def test_plan_of_another_offering_is_a_plan_error(api: Any) -> None:
    other = create_body(api, "slurm")["plan"]
    r = api.post(ORDERS, "cons_owner", json=create_body(api, plan=other))
    assert r.status_code == 400
    assert r.json() == {"plan": ["This plan is not available for selected offering."]}


@pytest.mark.parametrize(("value", "kind"), [("text", "str"), (5, "int"), ([1], "list"),
                                             (True, "bool")])
def test_attributes_that_are_not_an_object(api: Any, value: Any, kind: str) -> None:
    before = api.head(ORDERS, "staff").headers["x-result-count"]
    r = api.post(ORDERS, "cons_owner", json=create_body(api, attributes=value))
    assert r.status_code == 400
    text = f"Invalid data. Expected a dictionary, but got {kind}."
    assert r.json() == {"non_field_errors": [text]}
    assert api.head(ORDERS, "staff").headers["x-result-count"] == before


def test_field_errors_come_before_the_attributes_check(api: Any) -> None:
    """validate() (where attributes are checked) runs only once every field is valid."""
    body = create_body(api, attributes="text")
    del body["project"]
    r = api.post(ORDERS, "cons_owner", json=body)
    assert (r.status_code, r.json()) == (400, {"project": ["This field is required."]})


def uuid_routes() -> list[tuple[str, str]]:
    return [(method.upper(), path) for path, item in spec.load_spec()["paths"].items()
            if "{uuid}" in path for method in item if method in ("get", "post", "put", "patch",
                                                                  "delete", "head")]


@pytest.mark.parametrize(("method", "path"), uuid_routes())
@pytest.mark.parametrize("bad", ["not-a-uuid", "12345", "g" * 32])
def test_a_path_that_is_not_a_uuid_is_no_order(api: Any, method: str, path: str,
                                               bad: str) -> None:
    r = api.request(method, path.replace("{uuid}", bad), "staff", json={})
    assert r.status_code == 404, r.text
    if method != "HEAD" and path.startswith(ORDERS):
        assert r.json() == NO_ORDER
    elif method != "HEAD":  # another area's object: its own model's name (listing.lookup)
        assert re.fullmatch(r"No [A-Za-z]+ matches the given query\.", r.json()["detail"])


def test_create_with_consumer_review_at_once_names_the_reviewer(api: Any) -> None:
    r = api.post(ORDERS, "cons_owner", json=create_body(api))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["state"] == "pending-provider"
    assert body["consumer_reviewed_by"].startswith(f"{BASE}/api/users/")
    owner = api.backend.user_by_username("cons_owner")
    assert body["consumer_reviewed_by_full_name"] == owner.full_name
    assert body["consumer_reviewed_by_username"] == "cons_owner"
    keys = list(body)
    at = keys.index("consumer_reviewed_by")
    assert keys[at:at + 4] == ["consumer_reviewed_by", "consumer_reviewed_by_full_name",
                               "consumer_reviewed_by_username", "consumer_reviewed_at"]
    # no review yet (example 1 of the reference): neither key
    r = api.post(ORDERS, "proj_manager", json=create_body(api, attributes={"name": "y"}))
    assert r.status_code == 201 and r.json()["consumer_reviewed_by"] is None
    assert "consumer_reviewed_by_full_name" not in r.json()
    assert "consumer_reviewed_by_username" not in r.json()


def accepts_null(op_id: str) -> bool:
    """Whether the spec's JSON request body of the operation admits JSON null (OpenAPI 3.0
    `nullable`, as Schemathesis reads it); the named component is stood in for by an object."""
    schema = copy.deepcopy(
        spec.request_body(op_id)["content"]["application/json"]["schema"])  # type: ignore[index]
    if "$ref" in schema:
        schema = {"type": "object"}
    if "anyOf" in schema:
        schema["anyOf"] = [{"type": "object"} if "$ref" in b else b for b in schema["anyOf"]]
    return jsonschema.Draft4Validator(to_json_schema(schema, "nullable")).is_valid(None)


def test_reject_by_consumer_with_a_null_body(api: Any) -> None:
    r = api.post(api.order_url("ord-pc-slurm", "reject_by_consumer"), "cons_owner",
                 content=b"null", headers={"Content-Type": "application/json"})
    assert r.status_code == 200
    assert api.order("ord-pc-slurm")["state"] == "rejected"
    assert accepts_null("marketplace_orders_reject_by_consumer")


@pytest.mark.parametrize("op_id", [op for op in spec.operations()
                                   if (spec.request_body(op) or {}).get("content", {})
                                   .get("application/json")])
def test_the_contract_admits_null_exactly_where_the_server_does(api: Any, op_id: str) -> None:
    """For every JSON body: if some order answers 2xx to `null`, the contract admits null;
    if none does (and `{}` is refused alike), it does not."""
    method, path = spec.operations()[op_id]
    statuses = set()
    for key in ("ord-pc-slurm", "ord-pp-slurm", "ord-pc-basic", "ord-pp-support"):
        api.app.registry.reset(None)
        r = api.request(method, path.replace("{uuid}", api.uuid("orders", key)), "staff",
                        content=b"null", headers={"Content-Type": "application/json"})
        statuses.add(r.status_code)
    accepted = any(200 <= s < 300 for s in statuses)
    assert accepts_null(op_id) == accepted, (op_id, statuses)
