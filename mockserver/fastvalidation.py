"""Fast response validation for Connexion: a compiled validator (jsonschema_rs) per schema.

Connexion's default `JSONResponseBodyValidator` builds a new pure-Python jsonschema validator
for every response and parses the body with the stdlib `json`: 7-10 ms for a 10-order page.
This one converts each OpenAPI 3.0 response schema to JSON Schema Draft 7 once, compiles it
with jsonschema_rs, caches it, and parses bodies with orjson.

Wiring (the app factory)::

    from mockserver.fastvalidation import VALIDATOR_MAP   # {"response": ...} only
    app.add_api(spec, validate_responses=True, validator_map={**other_maps, **VALIDATOR_MAP})

`FastParameterValidator` is a drop-in for Connexion's parameter validator (same messages, no
per-request deepcopy/compile), for apps that let Connexion validate parameters.

Semantics follow Connexion's `Draft4ResponseValidator`: `nullable: true` accepts null
(including on `allOf`/`$ref` fields, where Connexion wrongly refuses null), a `writeOnly`
property present in a response is an error, and formats are not checked (Connexion checks none
of uuid, date-time or uri either).
"""

from __future__ import annotations

import threading
from collections.abc import Generator
from typing import Any

import jsonschema_rs
import orjson
from connexion.datastructures import MediaTypeDict
from connexion.exceptions import NonConformingResponseBody
from connexion.utils import is_null, is_nullable
from connexion.validators import (
    AbstractResponseBodyValidator,
    ParameterValidator,
    TextResponseBodyValidator,
)
from jsonschema import Draft4Validator, ValidationError

_SCHEMA_MAPS = ("properties", "patternProperties", "definitions")
_SCHEMA_ONE = ("items", "additionalProperties", "not")
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf")
_OPENAPI_ONLY = ("nullable", "discriminator", "xml", "externalDocs", "example", "deprecated")
_NEVER: dict[str, Any] = {"not": {}}  # Draft 7 `false`, spelled so every draft accepts it


def to_json_schema(node: Any) -> Any:
    """An OpenAPI 3.0 schema object (with `components` attached) as a JSON Schema Draft 7 one."""
    if isinstance(node, list):
        return [to_json_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    write_only: list[str] = []
    for key, value in node.items():
        if key in _OPENAPI_ONLY:
            continue
        if key == "components" and isinstance(value, dict):
            out[key] = {
                k: ({n: to_json_schema(s) for n, s in v.items()} if k == "schemas" else v)
                for k, v in value.items()
            }
        elif key in _SCHEMA_MAPS and isinstance(value, dict):
            props: dict[str, Any] = {}
            for name, sub in value.items():
                if key == "properties" and isinstance(sub, dict) and sub.get("writeOnly"):
                    write_only.append(name)
                    props[name] = _NEVER
                else:
                    props[name] = to_json_schema(sub)
            out[key] = props
        elif key in _SCHEMA_ONE and isinstance(value, dict):
            out[key] = to_json_schema(value)
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            out[key] = [to_json_schema(s) for s in value]
        elif key in ("exclusiveMaximum", "exclusiveMinimum") and isinstance(value, bool):
            bound = "maximum" if key == "exclusiveMaximum" else "minimum"
            if value and bound in node:
                out[key] = node[bound]
        elif key in ("maximum", "minimum") and node.get("exclusive" + key.title()) is True:
            continue
        else:
            out[key] = value
    if write_only and "required" in out:
        out["required"] = [r for r in out["required"] if r not in write_only]
        if not out["required"]:
            del out["required"]
    if node.get("nullable") is True:
        return _nullable(out)
    return out


def _nullable(out: dict[str, Any]) -> dict[str, Any]:
    """Let `out` accept null: widen `type`/`enum` when that is enough (clearer error messages),
    else wrap it in `anyOf: [null, out]` (needed for `allOf`/`$ref` fields)."""
    if isinstance(out.get("type"), str) and not any(k in out for k in (*_SCHEMA_LISTS, "$ref")):
        out["type"] = [out["type"], "null"]
        if "enum" in out and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
        return out
    components = out.pop("components", None)
    wrapped: dict[str, Any] = {"anyOf": [{"type": "null"}, out]}
    if components is not None:
        wrapped["components"] = components
    return wrapped


_cache: dict[int, tuple[dict[str, Any], jsonschema_rs.Validator]] = {}
_lock = threading.Lock()
MAX_CACHED = 1024  # far more than the spec's (operation, status) pairs
_EMPTY: dict[str, Any] = {}


def compiled(schema: dict[str, Any]) -> jsonschema_rs.Validator:
    """The compiled validator of `schema`, built once per schema object.

    Connexion hands the same (resolved, long-lived) dict for an operation and status on every
    request, so the object identity is the key; the dict is kept in the cache so that its id
    cannot be reused by another object. The exception is a response declared without a schema,
    for which Connexion makes a new `{}` per response: all of those share one validator (keying
    them by identity would compile one per request and keep it forever). The cache is bounded
    all the same, in case another caller hands fresh dicts.
    """
    if not schema:
        schema = _EMPTY
    hit = _cache.get(id(schema))
    if hit is not None and hit[0] is schema:
        return hit[1]
    validator = jsonschema_rs.Draft7Validator(to_json_schema(schema), validate_formats=False)
    with _lock:
        if len(_cache) >= MAX_CACHED:
            _cache.clear()
        _cache[id(schema)] = (schema, validator)
    return validator


def first_error(validator: jsonschema_rs.Validator, instance: Any) -> str | None:
    """None when `instance` conforms; else Connexion's message shape: `msg - 'a.0.b'`."""
    if validator.is_valid(instance):
        return None
    err = next(iter(validator.iter_errors(instance)))
    path = ".".join(str(p) for p in err.instance_path)
    return f"{err.message}" + (f" - '{path}'" if path else "")


class FastJSONResponseBodyValidator(AbstractResponseBodyValidator):
    """Drop-in for Connexion's `JSONResponseBodyValidator` (same 500 on a non-conforming body)."""

    def _parse(self, stream: Generator[bytes, None, None]) -> Any:
        body = b"".join(stream)
        if not body:
            return None
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise NonConformingResponseBody(str(exc)) from exc

    def _validate(self, body: Any) -> None:
        message = first_error(compiled(self._schema), body)
        if message is not None:
            raise NonConformingResponseBody(
                detail=f"Response body does not conform to specification. {message}"
            )


_param_cache: dict[int, tuple[dict[str, Any], Draft4Validator]] = {}


class FastParameterValidator(ParameterValidator):
    """Connexion's `ParameterValidator` without its per-request `deepcopy` of the parameter and
    new `Draft4Validator`: one validator per parameter object, same checks, same messages.

    (Array query parameters arrive as `[]` when absent, so Connexion deep-copies and recompiles
    every array parameter of the operation - a 100-value `field` enum included - per request.)
    """

    @staticmethod
    def validate_parameter(
        parameter_type: str, value: Any, param: dict[str, Any], param_name: str | None = None
    ) -> str | None:
        if is_nullable(param) and is_null(value):
            return None
        if value is not None:
            hit = _param_cache.get(id(param))
            if hit is None or hit[0] is not param:
                validator = Draft4Validator(
                    param.get("schema", param), format_checker=Draft4Validator.FORMAT_CHECKER
                )
                with _lock:
                    if len(_param_cache) >= MAX_CACHED:
                        _param_cache.clear()
                    _param_cache[id(param)] = hit = (param, validator)
            try:
                hit[1].validate(value)
            except ValidationError as exception:
                return str(exception)
            return None
        if param.get("required"):
            return f"Missing {parameter_type} parameter '{param['name']}'"
        return None


# Response validation only (what mockserver.validators merges into its own map). Apps that keep
# Connexion's parameter validation can add `"parameter": FastParameterValidator`.
VALIDATOR_MAP: dict[str, Any] = {
    "response": MediaTypeDict(
        {
            "*/*json": FastJSONResponseBodyValidator,
            "text/plain": TextResponseBodyValidator,
        }
    ),
}
