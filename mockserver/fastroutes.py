"""The fast path for the GET operations of every area but the orders (which have their own,
mockserver/fastpath.py): the same idea and the same guarantees, generic over the spec.

Every `get` operation of the composed spec whose handler module is not the orders' becomes a
route (path regex -> handler of its `x-openapi-router-controller`). A matching GET is served
here, before Connexion's routing, with the very same code Connexion would run: the security
hook `auth.token_info` (unless the operation is anonymous, `security: []`), the area's handler
with Connexion's context variables set, and - when `Settings.validate_responses` is on - the
compiled validation of the operation's 200 schema and required headers (fastpath._checks).
Only a plain 200 `application/json` answer leaves from here; anything else (a bad token, an
error, a request body, a path parameter that is not uuid-like, a validation failure) falls
through to Connexion, which produces the exact answer. GETs change nothing, so running one twice
on a fall-through is harmless - an area's GET handlers must never change state. `Settings.fast_path
= False` turns it off with the orders' one.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from functools import cache
from typing import Any, NamedTuple

import orjson
from connexion.exceptions import NonConformingResponseHeaders
from connexion.middleware.response_validation import ResponseValidationOperation
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope

from mockserver import auth, spec
from mockserver.fastpath import GetFastPath, call_handler
from mockserver.fastvalidation import first_error
from mockserver.routeindex import RouteIndex, compiled, literal_prefix
from mockserver.settings import Settings

ORDERS_MODULE = "mockserver.orders.responses"  # served by mockserver/fastpath.py
_PARAM = r"([0-9A-Za-z-]{1,64})"  # uuid-like path parameters only; others go to Connexion
_BODY_HEADERS = (b"content-length", b"transfer-encoding")


class Route(NamedTuple):
    pattern: str  # the path regex, compiled on first use (all of them: ~15 ms of every start)
    prefix: str  # the template's text before its first parameter: every match starts with it
    template: str
    params: tuple[str, ...]
    handler: Callable[..., Any]
    secured: bool


@cache
def routes() -> tuple[Route, ...]:
    """The GET routes of the non-orders areas; static paths before parameterised ones (DRF
    registers `users/me/` before `users/<uuid>/`)."""
    document = spec.load_spec()
    default_security = document.get("security") or []
    out = []
    for path, item in document["paths"].items():
        op = item.get("get")
        module = (op or {}).get("x-openapi-router-controller")
        if not op or not module or module == ORDERS_MODULE:
            continue
        handler = getattr(importlib.import_module(module), op["operationId"])
        params = tuple(re.findall(r"\{([^}]+)\}", path))
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", _PARAM, re.escape(path)) + "$"
        secured = bool(op.get("security", default_security))
        out.append(Route(pattern, literal_prefix(path), path, params, handler, secured))
    out.sort(key=lambda r: len(r.params))
    return tuple(out)


@cache
def _index() -> tuple[dict[str, Route], RouteIndex[Route]]:
    """Static paths by path (their regex matches only the path itself; they come first), and
    the parameterised routes grouped by their leading segments (routeindex)."""
    static = {r.template: r for r in reversed(routes()) if not r.params}
    return static, RouteIndex([(r.template, r) for r in routes() if r.params])


def match(path: str) -> tuple[Route, dict[str, str]] | None:
    static, index = _index()
    route = static.get(path)
    if route is not None:
        return route, {}
    # `$` also matches before a final newline: such a path is tried on every route, in order
    for route in index.candidates(path) if not path.endswith("\n") else routes():
        if not path.startswith(route.prefix):  # the regex could not match: spare running it
            continue
        found = compiled(route.pattern).match(path)
        if found is not None:
            return route, dict(zip(route.params, found.groups(), strict=True))
    return None


class AreaFastPathMiddleware(GetFastPath):
    """Every other area's GET list / retrieve."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        super().__init__(app, settings)
        if self.enabled:
            routes()

    async def _try(self, scope: Scope, receive: Receive) -> Response | None:
        found = match(scope["path"])
        if found is None:
            return None
        route, kwargs = found
        authorization = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                if authorization is not None:
                    return None
                authorization = value
            elif name in _BODY_HEADERS and value.strip() != b"0":
                return None
        context: dict[str, Any] = {}
        if route.secured:
            if not authorization:
                return None
            try:
                token_info = auth.token_info(authorization.decode("latin-1"))
            except Exception:
                return None
            context = {"token_info": token_info, "user": token_info.get("sub")}
        response = await call_handler(route.handler, kwargs, scope, receive, context)
        if response is None:
            return None
        if self.validate and not _conforms(route.template, response):
            return None
        return response


def _conforms(template: str, response: Response) -> bool:
    """What Connexion's response validation would accept; an answer joined from rendered
    entries (memo.rendered) is checked entry by entry, each once per stamp."""
    from mockserver.fastpath import _checks
    from mockserver.orders.responses import CachedJSONResponse

    try:
        checks = _checks(template)
    except Exception:  # an operation whose 200 is not plain JSON: Connexion answers it
        return False
    try:
        ResponseValidationOperation.validate_required_headers(response.raw_headers,
                                                              checks.definition)
        if checks.order is not None and isinstance(response, CachedJSONResponse):
            return all(entry.conforms(checks.order) for entry in response.entries)
        return first_error(checks.body, orjson.loads(response.body)) is None
    except (NonConformingResponseHeaders, orjson.JSONDecodeError):
        return False
