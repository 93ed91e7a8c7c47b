"""Connexion validator hooks that answer like Django REST framework.

* Query parameters are not validated by Connexion: the domain filters produce the real server's
  400/404 messages (`{"state": ["Select a valid choice. ..."]}`, `{"detail": "Invalid page."}`).
* JSON bodies are parsed the way DRF's JSONParser does (`JSON parse error - ...`, strict floats,
  an empty body is `{}`). Their fields are validated by the domain (OrdersBackend), with DRF's
  messages and in DRF's order: a serializer runs inside the action, after the 404 / 403 /
  400 (blocked) / 409 checks, so a schema check here would answer too early.
* Multipart / form bodies are not validated here; the handlers read them.
* Response bodies: mockserver.fastvalidation (jsonschema_rs).
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from contextvars import ContextVar
from typing import Any

from connexion.datastructures import MediaTypeDict
from connexion.validators import AbstractRequestBodyValidator, TextResponseBodyValidator
from starlette.types import Receive, Scope, Send

from mockserver.fastvalidation import FastJSONResponseBodyValidator
from mockserver.orders.exceptions import ValidationError, detail

# The parsed JSON body of the request being served (set by the body validator); NO_BODY when
# the validator did not run. JSON `null` is a body too (None).
NO_BODY: Any = object()
parsed_body: ContextVar[Any] = ContextVar("mockserver_parsed_body", default=NO_BODY)



class ParseError(ValidationError):
    """DRF ParseError: 400 `{"detail": "JSON parse error - ..."}`."""


def _strict_constant(value: str) -> Any:
    raise ValueError(f"Out of range float values are not JSON compliant: {value!r}")


# `json.loads(text, parse_constant=_strict_constant)` builds this decoder per call
_DECODER = json.JSONDecoder(parse_constant=_strict_constant)


def parse_json(raw: bytes, encoding: str = "utf-8") -> Any:
    """DRF JSONParser.parse: decode, `json.loads` with strict constants; errors -> ParseError."""
    if not raw:
        return {}
    try:
        text = raw.decode(encoding)
        if text.startswith("\ufeff"):  # json.loads' own check, before it decodes a str
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
        return _DECODER.decode(text)
    except LookupError:
        raise ParseError(detail(f"JSON parse error - unknown encoding: {encoding}")) from None
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise ParseError(detail(f"JSON parse error - {exc}")) from None


class NoQueryParameterValidator:
    """Replaces Connexion's ParameterValidator: the domain validates query parameters itself."""

    def __init__(self, parameters: Any, uri_parser: Any, **kwargs: Any) -> None:
        pass

    def validate(self, scope: Scope) -> None:
        return None


class DRFJSONBodyValidator(AbstractRequestBodyValidator):
    """JSON request bodies: DRF parsing and DRF-shaped validation errors."""

    async def _parse(self, stream: AsyncGenerator[bytes, None], scope: Scope) -> Any:
        raw = b"".join([chunk async for chunk in stream])
        return parse_json(raw, self._encoding)

    def _validate(self, body: Any) -> None:
        # Field validation is the domain's (DRF validates serializers inside the action, i.e.
        # after the 404/403/400/409 checks): nothing to do here.
        return None

    async def wrap_receive(self, receive: Receive, *, scope: Scope) -> tuple[Receive, Scope]:
        # Unlike Connexion's, a missing body is `{}` (as DRF's request.data) and the
        # Content-Length header is not trusted to be a number.
        messages: list[Any] = []

        async def stream() -> AsyncGenerator[bytes, None]:
            more_body = True
            while more_body:
                message = await receive()
                messages.append(message)
                more_body = message.get("more_body", False)
                yield message.get("body", b"")

        body = await self._parse(stream(), scope=scope)
        self._validate(body)
        parsed_body.set(body)
        return self._insert_messages(receive, messages=messages), scope


class PassThroughBodyValidator(AbstractRequestBodyValidator):
    """Multipart and form bodies: no Connexion validation (the handler reads the form)."""

    async def wrap_receive(self, receive: Receive, *, scope: Scope) -> tuple[Receive, Scope]:
        return receive, scope


_stripped: dict[int, tuple[dict[str, Any], dict[str, Any]]] = {}


def _has_ref(node: Any, seen: set[int] | None = None) -> bool:
    seen = set() if seen is None else seen
    if id(node) in seen:
        return False
    seen.add(id(node))
    if isinstance(node, dict):
        return "$ref" in node or any(_has_ref(v, seen) for v in node.values())
    if isinstance(node, list):
        return any(_has_ref(v, seen) for v in node)
    return False


def without_components(schema: dict[str, Any]) -> dict[str, Any]:
    """Connexion attaches the whole (already resolved) `components` to some response schemas
    (those reached through `components/responses`); compiling them inline exceeds
    jsonschema_rs's recursion limit. Drop them when nothing refers to them."""
    hit = _stripped.get(id(schema))
    if hit is not None and hit[0] is schema:
        return hit[1]
    out = schema
    if "components" in schema:
        rest = {k: v for k, v in schema.items() if k != "components"}
        if not _has_ref(rest):
            out = rest
    _stripped[id(schema)] = (schema, out)
    return out


class ResponseBodyValidator(FastJSONResponseBodyValidator):
    """mockserver.fastvalidation's compiled validator, on schemas without unused components."""

    def __init__(self, scope: Scope, *, schema: dict, **kwargs: Any) -> None:
        super().__init__(scope, schema=without_components(schema), **kwargs)

    def wrap_send(self, send: Send) -> Send:
        # HEAD shares the GET route; its answer has the GET headers and no body.
        if self._scope.get("method") == "HEAD":
            return send
        return super().wrap_send(send)


VALIDATOR_MAP: dict[str, Any] = {
    "parameter": NoQueryParameterValidator,
    "body": MediaTypeDict(
        {
            "*/*json": DRFJSONBodyValidator,
            "application/x-www-form-urlencoded": PassThroughBodyValidator,
            "multipart/form-data": PassThroughBodyValidator,
        }
    ),
    "response": MediaTypeDict(
        {
            "*/*json": ResponseBodyValidator,
            "text/plain": TextResponseBodyValidator,
        }
    ),
}
