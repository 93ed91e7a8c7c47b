"""mockserver.fastvalidation: the compiled response validator, wired into a real Connexion app."""

from __future__ import annotations

import warnings
from typing import Any

import jsonschema_rs
import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import connexion
    from connexion.resolver import Resolver

from mockserver.fastvalidation import VALIDATOR_MAP, compiled, first_error, to_json_schema

SPEC: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "t", "version": "1"},
    "paths": {
        "/things/": {
            "get": {
                "operationId": "get_thing",
                "responses": {
                    "200": {
                        "description": "ok",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}
                        },
                    }
                },
            }
        }
    },
    "components": {
        "schemas": {
            "State": {"type": "string", "enum": ["pending", "done"]},
            "Ref": {"type": "object", "properties": {"id": {"type": "integer"}}},
            "Thing": {
                "type": "object",
                "required": ["uuid", "state", "count"],
                "properties": {
                    "uuid": {"type": "string", "format": "uuid"},
                    "state": {"$ref": "#/components/schemas/State"},
                    "count": {"type": "integer", "maximum": 10, "exclusiveMaximum": True},
                    "note": {"type": "string", "nullable": True},
                    "kind": {"type": "string", "enum": ["a", "b"], "nullable": True},
                    "ref": {"allOf": [{"$ref": "#/components/schemas/Ref"}], "nullable": True},
                    "secret": {"type": "string", "writeOnly": True},
                },
            },
        }
    },
}

GOOD = {"uuid": "0123456789abcdef0123456789abcdef", "state": "done", "count": 3, "note": "x"}
BODY: dict[str, Any] = {}


def get_thing() -> tuple[dict[str, Any], int]:
    return BODY["value"], 200


def make_client(validator_map: dict[str, Any] | None) -> Any:
    app = connexion.AsyncApp(__name__)
    app.add_api(
        SPEC,
        validate_responses=True,
        validator_map=validator_map,
        resolver=Resolver(function_resolver=lambda _op: get_thing),
    )
    return app.test_client()


@pytest.fixture(scope="module")
def client() -> Any:
    return make_client(VALIDATOR_MAP)


def status_for(client: Any, body: dict[str, Any]) -> int:
    BODY["value"] = body
    return int(client.get("/things/").status_code)


def test_accepts_a_conforming_response(client: Any) -> None:
    assert status_for(client, GOOD) == 200


@pytest.mark.parametrize("field", ["note", "kind", "ref"])
def test_accepts_null_where_the_spec_says_nullable(client: Any, field: str) -> None:
    assert status_for(client, {**GOOD, field: None}) == 200


@pytest.mark.parametrize(
    "bad",
    [
        {k: v for k, v in GOOD.items() if k != "state"},  # required field missing
        {**GOOD, "state": "lost"},  # not in the enum
        {**GOOD, "state": None},  # null where not nullable
        {**GOOD, "count": "3"},  # wrong type
        {**GOOD, "count": 10},  # exclusiveMaximum (OpenAPI 3.0 boolean form)
        {**GOOD, "ref": {"id": "one"}},  # wrong type inside a nullable allOf ref
        {**GOOD, "secret": "s"},  # writeOnly field in a response
    ],
)
def test_rejects_a_non_conforming_response_with_a_500(client: Any, bad: dict[str, Any]) -> None:
    assert status_for(client, bad) == 500


def test_error_message_names_the_path() -> None:
    thing = SPEC["components"]["schemas"]["Thing"]
    schema = to_json_schema({**thing, "components": SPEC["components"]})
    validator = jsonschema_rs.Draft7Validator(schema)
    assert first_error(validator, GOOD) is None
    message = first_error(validator, {**GOOD, "count": "3"})
    assert message == '"3" is not of type "integer" - \'count\''
    assert str(first_error(validator, {**GOOD, "ref": {"id": "x"}})).endswith("- 'ref'")


def test_required_write_only_fields_are_not_required_in_responses() -> None:
    converted = to_json_schema(
        {"type": "object", "required": ["a", "b"], "properties": {"b": {"writeOnly": True}}}
    )
    assert converted["required"] == ["a"] and converted["properties"]["b"] == {"not": {}}


def test_validators_are_compiled_once_per_schema_object() -> None:
    schema = {"type": "object"}
    assert compiled(schema) is compiled(schema)
    assert compiled(dict(schema)) is not compiled(schema)


def test_connexions_default_validator_agrees_except_for_nullable_allof() -> None:
    """The behaviours above match Connexion's own validator, apart from its known bug."""
    default = make_client(None)
    assert status_for(default, GOOD) == 200
    assert status_for(default, {**GOOD, "note": None}) == 200
    assert status_for(default, {**GOOD, "state": "lost"}) == 500
    assert status_for(default, {**GOOD, "ref": None}) == 500  # fastvalidation: 200


@pytest.mark.parametrize("value", [[], ["created"], ["nope"], "x", None, ["-cost", 3]])
def test_fast_parameter_validator_answers_like_connexions(value: Any) -> None:
    from connexion.validators import ParameterValidator

    from mockserver.fastvalidation import FastParameterValidator

    param = {
        "name": "o",
        "in": "query",
        "required": True,
        "schema": {"type": "array", "items": {"type": "string", "enum": ["created", "-cost"]}},
    }
    expected = ParameterValidator.validate_parameter("query", value, param)
    for _ in range(2):  # second call: cached validator
        assert FastParameterValidator.validate_parameter("query", value, param) == expected


def test_responses_without_a_schema_share_one_validator_and_the_cache_stays_bounded() -> None:
    """Connexion builds a new `{}` schema for every response declared without one (e.g. the
    empty 200 of set_state_erred): those must not compile and keep a validator per request."""
    from starlette.testclient import TestClient

    from mockserver import fastvalidation
    from mockserver.app import create_app
    from mockserver.settings import Settings

    assert compiled({}) is compiled({})
    app = create_app(Settings(validate_responses=True))
    backend = app.registry.get(None)
    token = backend.user_by_username("staff").token
    slurm = backend.world.keys["orders"]["ord-exec-slurm"]
    with TestClient(app, base_url="http://testserver") as client:
        def erred() -> int:
            return client.post(f"/api/marketplace-orders/{slurm}/set_state_erred/",
                               headers={"Authorization": f"Token {token}"},
                               json={"error_message": "x"}).status_code

        assert erred() == 200
        size = len(fastvalidation._cache)
        assert all(erred() == 200 for _ in range(20))
        assert len(fastvalidation._cache) == size
