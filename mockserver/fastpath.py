"""A fast path for the two hot reads: `GET /api/marketplace-orders/` and
`GET /api/marketplace-orders/<uuid>/` (docs/performance.md, recommendation 2).

A pure-ASGI middleware at Connexion's `BEFORE_EXCEPTION` position, right inside
RequestGuardMiddleware and the control middlewares (so faults, journal, CORS, sessions and
`?x-auth-token=` still apply), before Connexion's exception handling and routing: it catches
every error itself and falls through into them for anything but a plain 200. It
does what Connexion would for these two operations, with the very same code: the security hook
`auth.token_info` on the Authorization header, the handlers of `orders/responses.py` (run with
Connexion's context variables set), and - when `Settings.validate_responses` is on - the same
compiled response validation (`fastvalidation`) on the operation's resolved 200 schema plus its
required headers. Only a plain 200 `application/json` answer is sent from here; anything else
(other methods, HEAD, a request body, a missing or bad token, a domain error, a validation failure,
anything unexpected) falls through to Connexion untouched, which then produces the exact answer.
Both operations are read-only, so running them twice on a fall-through changes nothing.
Neither declares a request body, so Connexion checks no Content-Type for them (the benchmark's
and many clients' GETs carry `Content-Type: application/json`): that header is accepted.
`Settings.fast_path = False` turns it off (tests compare both).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from functools import cache
from typing import Any, NamedTuple

import orjson
from connexion.context import _context, _receive, _scope
from connexion.exceptions import NonConformingResponseHeaders
from connexion.middleware.response_validation import ResponseValidationOperation
from connexion.operations import OpenAPIOperation
from connexion.resolver import RelativeResolver
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from mockserver import auth, resolvedspec
from mockserver.fastvalidation import compiled, first_error
from mockserver.orders import responses
from mockserver.orders.responses import CachedJSONResponse
from mockserver.settings import Settings
from mockserver.validators import without_components

log = logging.getLogger("mockserver")

LIST_PATH = "/api/marketplace-orders/"
RETRIEVE_PATH = LIST_PATH + "{uuid}/"
# hex or dashed uuids (and anything else of those characters: the domain answers 404 for it,
# which falls through); other path segments (static routes, encoded characters) go to Connexion.
_RETRIEVE = re.compile(r"^/api/marketplace-orders/([0-9A-Fa-f-]{1,64})/$")
_BODY_HEADERS = (b"content-length", b"transfer-encoding")
JSON = b"application/json"


@cache
def _operation_of(path: str) -> OpenAPIOperation:
    """The resolved Connexion operation of GET `path` (as Connexion builds it from the spec)."""
    return OpenAPIOperation.from_spec(
        resolvedspec.shared(), path=path, method="get",
        resolver=RelativeResolver("mockserver.orders.responses"),
    )


class Checks(NamedTuple):
    body: Any  # compiled validator of the whole 200 JSON body
    definition: dict[str, Any]  # the 200 response definition (required headers)
    order: Callable[[bytes], bool] | None  # one order's encoding, as it appears in the body


@cache
def _checks(path: str) -> Checks:
    op = _operation_of(path)
    schema = without_components(op.response_schema("200", "application/json"))
    return Checks(compiled(schema), op.response_definition("200", "application/json"),
                  _order_check(schema))


def _order_check(schema: dict[str, Any]) -> Callable[[bytes], bool] | None:
    """The check of one order in a body of `schema`: the schema itself for a single order, its
    `items` for a plain array (a page is valid when each of its orders is); None when the
    schema constrains the array itself (then only the whole body can be checked)."""
    outer = {k: v for k, v in schema.items() if k != "components"}
    if outer.get("type") == "array":
        if set(outer) != {"type", "items"}:
            return None
        schema = {**schema["items"], **({"components": schema["components"]}
                                        if "components" in schema else {})}
    validator = compiled(schema)

    def check(encoded: bytes) -> bool:
        return first_error(validator, orjson.loads(encoded)) is None

    return check


class GetFastPath:
    """A GET served by `_try` when it can answer exactly as Connexion would (else None: the
    request goes on to Connexion). Subclasses say which routes and how."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.enabled = getattr(settings, "fast_path", True)
        self.validate = settings.validate_responses

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.enabled and scope["type"] == "http" and scope["method"] == "GET":
            response = await self._try(scope, receive)
            if response is not None:
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _try(self, scope: Scope, receive: Receive) -> Response | None:
        raise NotImplementedError


class FastPathMiddleware(GetFastPath):
    """The orders list and retrieve."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        super().__init__(app, settings)
        if self.enabled and self.validate:
            _checks(LIST_PATH)
            _checks(RETRIEVE_PATH)

    async def _try(self, scope: Scope, receive: Receive) -> Response | None:
        path: str = scope["path"]
        if path == LIST_PATH:
            route, kwargs = LIST_PATH, {}
        else:
            match = _RETRIEVE.match(path)
            if match is None:
                return None
            route, kwargs = RETRIEVE_PATH, {"uuid": match.group(1)}
        authorization = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                if authorization is not None:
                    return None
                authorization = value
            elif name in _BODY_HEADERS and value.strip() != b"0":
                return None  # a request body (Connexion ignores it here; rare: not worth it)
        if not authorization:
            return None
        try:
            token_info = auth.token_info(authorization.decode("latin-1"))
        except Exception:
            return None
        handler = (responses.marketplace_orders_list if route == LIST_PATH
                   else responses.marketplace_orders_retrieve)
        context = {"token_info": token_info, "user": token_info.get("sub")}
        response = await call_handler(handler, kwargs, scope, receive, context)
        if response is None:
            return None
        if self.validate and not self._conforms(route, response):
            return None
        return response

    @staticmethod
    def _conforms(route: str, response: Response) -> bool:
        """What Connexion's response validation would accept, checking an answer joined from
        render-cache entries order by order, each once per revision (rendercache.Entry)."""
        checks = _checks(route)
        try:
            ResponseValidationOperation.validate_required_headers(response.raw_headers,
                                                                  checks.definition)
            if checks.order is not None and isinstance(response, CachedJSONResponse):
                return all(entry.conforms(checks.order) for entry in response.entries)
            return first_error(checks.body, orjson.loads(response.body)) is None
        except (NonConformingResponseHeaders, orjson.JSONDecodeError):
            return False


async def call_handler(
    handler: Callable[..., Any], kwargs: dict[str, Any], scope: Scope, receive: Receive,
    context: dict[str, Any],
) -> Response | None:
    """Call a Connexion handler outside Connexion, with the context variables it reads (the
    security context, scope and receive) set as Connexion would; its answer when it is a 200
    JSON answer, else None (the request then goes the Connexion way)."""
    tokens = (_context.set(context), _scope.set(scope), _receive.set(receive))
    try:
        response = await handler(**kwargs)
    except Exception:
        return None
    finally:
        _receive.reset(tokens[2])
        _scope.reset(tokens[1])
        _context.reset(tokens[0])
    if response.status_code != 200 or response.media_type != "application/json":
        return None
    return response
