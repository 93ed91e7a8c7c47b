"""The control API's own OpenAPI document (openapi/mock-control.yaml): loaded once, and used to
validate request bodies, so the document and the code cannot drift apart."""

from __future__ import annotations

from functools import cache
from typing import Any

import yaml
from jsonschema import Draft4Validator

from mockserver.spec import OPENAPI_DIR

CONTROL_SPEC_PATH = OPENAPI_DIR / "mock-control.yaml"
PREFIX = "/__mock__"

_TYPE_MESSAGES = {
    "integer": "A valid integer is required.",
    "number": "A valid number is required.",
    "boolean": "Must be a valid boolean.",
    "string": "Not a valid string.",
    "object": "Expected a dictionary of items.",
    "array": "Expected a list of items.",
}


@cache
def control_spec_text() -> str:
    return CONTROL_SPEC_PATH.read_text(encoding="utf-8")


@cache
def control_spec() -> dict[str, Any]:
    return yaml.safe_load(control_spec_text())


def control_paths() -> list[str]:
    """Every path of the control API, with the /__mock__ prefix."""
    return [PREFIX + path for path in control_spec()["paths"]]


def _inline(node: Any, schemas: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        if "$ref" in node:
            return _inline(schemas[node["$ref"].rsplit("/", 1)[-1]], schemas)
        return {k: _inline(v, schemas) for k, v in node.items() if k != "nullable"}
    if isinstance(node, list):
        return [_inline(v, schemas) for v in node]
    return node


@cache
def _validator(name: str) -> Draft4Validator:
    schemas = control_spec()["components"]["schemas"]
    return Draft4Validator(_inline(schemas[name], schemas))


def _message(error: Any) -> str:
    if error.validator == "enum":
        return f'"{error.instance}" is not a valid choice.'
    if error.validator == "type":
        expected = error.validator_value
        expected = expected[0] if isinstance(expected, list) else expected
        return _TYPE_MESSAGES.get(expected, "Invalid value.")
    if error.validator == "required":
        return "This field is required."
    if error.validator == "minimum":
        return f"Ensure this value is greater than or equal to {error.validator_value}."
    if error.validator == "maximum":
        return f"Ensure this value is less than or equal to {error.validator_value}."
    if error.validator in ("minItems", "maxItems"):
        return "Expected a list of exactly two numbers."
    if error.validator == "oneOf":
        return "Expected a number or a list [min, max]."
    return "Invalid value."


def validation_errors(schema_name: str, data: Any) -> dict[str, list[str]]:
    """DRF-style field errors of `data` against a component schema ({} when valid)."""
    if not isinstance(data, dict):
        return {"non_field_errors": ["Invalid data. Expected a dictionary, but got "
                                     f"{type(data).__name__}."]}
    errors: dict[str, list[str]] = {}
    for error in sorted(_validator(schema_name).iter_errors(data), key=lambda e: list(e.path)):
        if error.validator == "additionalProperties":
            allowed = _validator(schema_name).schema.get("properties", {})
            unknown = sorted(k for k in data if k not in allowed)
            errors.setdefault("non_field_errors", []).append(
                f"Unknown field(s): {', '.join(unknown)}."
            )
            continue
        if error.validator == "required":
            field = error.message.split("'")[1]
        elif error.path:
            field = str(error.path[0])
        else:
            field = "non_field_errors"
        message = _message(error)
        if message not in errors.get(field, []):
            errors.setdefault(field, []).append(message)
    return errors
