"""`create_app(settings)`: the Connexion AsyncApp serving the Waldur Orders API contract.

Middleware, outermost first (all pure ASGI):
  RequestGuardMiddleware   session backend (X-Mock-Session), body size cap, `/media/` files,
                           missing trailing slash -> 301, `?x-auth-token=` -> Authorization
  FastPathMiddleware       mockserver.fastpath: GET list and retrieve of the orders, same code,
                           else falls through; then AreaFastPathMiddleware
                           (mockserver.fastroutes): the other areas' GETs
  Connexion stack          exceptions -> FastWriteMiddleware -> routing -> security
                           (mockserver.auth.token_info) ->
                           request validation (mockserver.validators) -> response validation
                           (optional) -> handlers (mockserver.orders.responses)
Every error leaves as the real server's JSON (`{"detail": ...}`, field errors, bare lists).
"""

from __future__ import annotations

import logging
import re
from functools import cache
from typing import Any

from connexion import AsyncApp
from connexion.exceptions import ProblemException
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from connexion.middleware import MiddlewarePosition
from connexion.options import SwaggerUIOptions
from connexion.resolver import RelativeResolver
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver import auth, resolvedspec, spec
from mockserver.fastpath import FastPathMiddleware
from mockserver.fastwrite import FastWriteMiddleware
from mockserver.metadata import OptionsMiddleware
from mockserver.orders.exceptions import ApiError, NotAuthenticated, detail
from mockserver.orders.responses import dump_json
from mockserver.registry import BackendRegistry, SessionMiddleware
from mockserver.settings import Settings
from mockserver.validators import NO_BODY, VALIDATOR_MAP, parsed_body

log = logging.getLogger("mockserver")
# "this operation accepts multiple content types" on every multipart request: noise.
logging.getLogger("connexion.operations.openapi3").setLevel(logging.ERROR)

JSON = "application/json"
MEDIA_PREFIX = "/media/"
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")
MEDIA_ATTACHMENTS = "marketplace_order_attachments"
# DRF's order of `allowed_methods` (http_method_names), restricted to what the spec serves plus
# OPTIONS, which DRF serves on every route (mockserver.metadata).
METHOD_ORDER = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


class RequestTooLarge(ApiError):
    status = 413
    default_body = detail("Request body is too large.")


# ---------------------------------------------------------------------------------------------
# Routes of the spec (for 301 and Allow)


@cache
def _routes() -> tuple[tuple[re.Pattern[str], bool, tuple[str, ...]], ...]:
    """(path regex, is_static, allowed methods in DRF order) per spec path; static paths first."""
    return tuple(sorted(_unsorted_routes(), key=lambda r: not r[1]))


@cache
def _unsorted_routes() -> tuple[tuple[re.Pattern[str], bool, tuple[str, ...]], ...]:
    out = []
    for path, static, allowed in _route_table():
        regex = re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "$")
        out.append((regex, static, allowed))
    return tuple(out)


@cache
def _route_table() -> tuple[tuple[str, bool, tuple[str, ...]], ...]:
    """(path template, is_static, allowed methods in DRF order) per spec path, in spec order."""
    out = []
    for path, item in spec.load_spec()["paths"].items():
        methods = {m.upper() for m in item if m.upper() in METHOD_ORDER} | {"OPTIONS"}
        allowed = tuple(m for m in METHOD_ORDER if m in methods)
        out.append((path, "{" not in path, allowed))
    return tuple(out)


def allowed_methods(path: str) -> tuple[str, ...] | None:
    for regex, _static, allowed in _routes():
        if regex.match(path):
            return allowed
    return None


# ---------------------------------------------------------------------------------------------
# Responses


def json_bytes(status: int, body: Any, headers: dict[str, str] | None = None) -> ConnexionResponse:
    return ConnexionResponse(
        status_code=status,
        mimetype=JSON,
        content_type=JSON,
        body=dump_json(body),
        headers=headers or {},
    )


async def _send_json(
    send: Send, status: int, body: Any, headers: dict[str, str] | None = None
) -> None:
    payload = dump_json(body) if body is not None else b""
    raw = [(b"content-length", str(len(payload)).encode())]
    if body is not None:
        raw.append((b"content-type", JSON.encode()))
    for k, v in (headers or {}).items():
        raw.append((k.lower().encode("latin-1"), v.encode("latin-1")))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": payload})


# ---------------------------------------------------------------------------------------------
# Error handlers


def api_error_handler(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    assert isinstance(exc, ApiError)
    return json_bytes(exc.status, exc.body, dict(exc.headers))


def _unauthorized(text: str = auth.NO_CREDENTIALS) -> ConnexionResponse:
    return json_bytes(401, detail(text), {"WWW-Authenticate": "Token"})


def method_not_allowed(request: ConnexionRequest) -> ConnexionResponse:
    # DRF authenticates before it looks the method up: 401 beats 405.
    try:
        auth.authenticate(request.headers.get("authorization"))
    except NotAuthenticated as exc:
        return api_error_handler(request, exc)
    allowed = allowed_methods(request.url.path) or ()
    headers = {"Allow": ", ".join(allowed)} if allowed else {}
    return json_bytes(405, detail(f'Method "{request.method}" not allowed.'), headers)


def http_exception_handler(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    assert isinstance(exc, HTTPException)
    status = exc.status_code
    if status == 405:
        return method_not_allowed(request)
    if status == 404:
        return json_bytes(404, detail("Not found."))
    if status == 401:
        return _unauthorized()
    if status == 415:
        content_type = request.headers.get("content-type", "")
        return json_bytes(415, detail(f'Unsupported media type "{content_type}" in request.'))
    if status >= 500:
        log.error("server error: %r", exc)
        text = exc.detail if isinstance(exc, ProblemException) else "A server error occurred."
        return json_bytes(status, detail(str(text)))
    text = str(getattr(exc, "detail", "") or "Bad request.")
    if status == 400 and type(exc) is HTTPException:  # starlette's multipart parser
        text = f"Multipart form parse error - {text}"
    return json_bytes(status, detail(text.split("\n\n", 1)[0]), dict(exc.headers or {}))


def unicode_error_handler(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    return json_bytes(400, detail(f"JSON parse error - {exc}"))


def server_error_handler(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    log.error("unhandled error", exc_info=exc)
    return json_bytes(500, detail("A server error occurred."))


# ---------------------------------------------------------------------------------------------
# Outer middleware


class RequestGuardMiddleware:
    """Everything that must happen before Connexion sees the request (see module docstring)."""

    def __init__(self, app: ASGIApp, settings: Settings, registry: BackendRegistry) -> None:
        self.app = SessionMiddleware(
            auth.QueryTokenMiddleware(OptionsMiddleware(StaticRouteMethods(app))), registry)
        self.media = SessionMiddleware(self._serve_media, registry)
        self.max_body = settings.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        parsed_body.set(NO_BODY)
        path: str = scope["path"]
        if _CONTROL_CHARS.search(path):
            # Django's URL patterns end in \Z: a newline never matches (Python's `$` would).
            await _send_json(send, 404, detail("Not found."))
            return
        if path.startswith(MEDIA_PREFIX):
            await self.media(scope, receive, send)
            return
        if not path.endswith("/") and allowed_methods(path + "/") is not None:
            await self._redirect(scope, send, path + "/")
            return
        _lowercase_media_type(scope)
        length = _content_length(scope)
        if length is not None and length > self.max_body:
            await _send_json(send, 413, RequestTooLarge().body)
            return
        await self.app(scope, self._capped(receive), send)

    def _capped(self, receive: Receive) -> Receive:
        limit = self.max_body
        seen = 0

        async def capped() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise RequestTooLarge()
            return message

        return capped

    @staticmethod
    async def _redirect(scope: Scope, send: Send, target: str) -> None:
        query = scope.get("query_string", b"")
        location = target + ("?" + query.decode("latin-1") if query else "")
        headers = [(b"location", location.encode("latin-1")), (b"content-length", b"0")]
        await send({"type": "http.response.start", "status": 301, "headers": headers})
        await send({"type": "http.response.body", "body": b""})

    @staticmethod
    async def _serve_media(scope: Scope, receive: Receive, send: Send) -> None:
        from mockserver.registry import current_backend

        if scope["method"] not in ("GET", "HEAD"):
            await _send_json(send, 405, detail(f'Method "{scope["method"]}" not allowed.'),
                             {"Allow": "GET, HEAD"})
            return
        found = media_file(current_backend(), scope["path"])
        if found is None:
            await _send_json(send, 404, detail("Not found."))
            return
        content_type, content = found
        body = content if scope["method"] == "GET" else b""
        headers = [
            (b"content-type", (content_type or "application/octet-stream").encode("latin-1")),
            (b"content-length", str(len(content)).encode()),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def media_file(backend: Any, path: str) -> tuple[str, bytes] | None:
    """`/media/marketplace_order_attachments/<order hex>/<filename>` -> (content type, bytes)."""
    parts = path[len(MEDIA_PREFIX):].split("/")
    if len(parts) != 3 or parts[0] != MEDIA_ATTACHMENTS:
        return None
    order = backend.orders.get(parts[1])
    if order is None:
        return None
    for att in (order.attachment, order.provider_message_attachment,
                order.consumer_message_attachment):
        if att is not None and att.filename == parts[2]:
            return att.content_type, att.content
    return None


class StaticRouteMethods:
    """A method a static path (e.g. `dashboard-my-orders/`) does not serve gets its 405 here:
    otherwise Connexion would route it to `{uuid}/` and answer 404 (DRF registers the list
    action before the detail routes). 401 first, as everywhere."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            allowed = static_route_methods(scope["path"])
            if allowed is not None and scope["method"] not in allowed:
                header = next((v.decode("latin-1") for k, v in scope["headers"]
                               if k == b"authorization"), None)
                try:
                    auth.authenticate(header)
                except NotAuthenticated as exc:
                    await _send_json(send, exc.status, exc.body, dict(exc.headers))
                    return
                await _send_json(send, 405, detail(f'Method "{scope["method"]}" not allowed.'),
                                 {"Allow": ", ".join(allowed)})
                return
        await self.app(scope, receive, send)


def static_route_methods(path: str) -> tuple[str, ...] | None:
    return _static_routes().get(path)


@cache
def _static_routes() -> dict[str, tuple[str, ...]]:
    # no regex needed (compiling every route's costs ~6 ms of the first request)
    return {path: allowed for path, static, allowed in _route_table() if static}


def _lowercase_media_type(scope: Scope) -> None:
    """Media types are case-insensitive (RFC 9110 8.3.1; Django lower-cases them): write the
    Content-Type's type/subtype in lower case, so `Application/JSON` is parsed as JSON (Connexion
    matched it case-blind for the 415 check but then found no body validator, and the handler
    waited for a body that had been consumed)."""
    headers = scope.get("headers") or ()
    for i, (name, value) in enumerate(headers):
        if name == b"content-type":
            media, sep, params = value.partition(b";")
            if media != media.lower():
                headers = list(headers)
                headers[i] = (name, media.lower() + sep + params)
                scope["headers"] = headers
            return


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


# ---------------------------------------------------------------------------------------------
# Factory


def create_app(
    settings: Settings | None = None, registry: BackendRegistry | None = None
) -> AsyncApp:
    """The stub as an ASGI app; `app.settings` and `app.registry` are attached to it."""
    settings = settings or Settings()
    registry = registry or BackendRegistry(settings)
    app = AsyncApp(__name__)
    raw = spec.load_spec()  # never changed: Connexion is handed its resolved copy of it
    with resolvedspec.served_as(raw, resolvedspec.fresh()):
        app.add_api(
            raw,
            base_path="",
            resolver=RelativeResolver("mockserver.orders.responses"),
            validate_responses=settings.validate_responses,
            strict_validation=False,
            validator_map=VALIDATOR_MAP,
            swagger_ui_options=SwaggerUIOptions(swagger_ui=False, serve_spec=False),
            pythonic_params=False,
        )
    app.add_error_handler(ApiError, api_error_handler)
    app.add_error_handler(ProblemException, _problem_handler)
    app.add_error_handler(HTTPException, http_exception_handler)
    app.add_error_handler(UnicodeDecodeError, unicode_error_handler)
    app.add_error_handler(Exception, server_error_handler)
    app.add_middleware(
        RequestGuardMiddleware,
        position=MiddlewarePosition.BEFORE_EXCEPTION,
        settings=settings,
        registry=registry,
    )
    from mockserver.fastroutes import AreaFastPathMiddleware  # every other area's GETs

    # The GET fast paths sit right inside RequestGuardMiddleware, before Connexion's exception
    # handling: they catch every error themselves and fall through (into it) for anything but a
    # plain 200; the exception layers cost ~3 µs of each answer they would only have passed on.
    app.add_middleware(FastPathMiddleware, position=MiddlewarePosition.BEFORE_EXCEPTION,
                       settings=settings)  # the orders' first: the hottest reads
    app.add_middleware(AreaFastPathMiddleware, position=MiddlewarePosition.BEFORE_EXCEPTION,
                       settings=settings)
    app.add_middleware(FastWriteMiddleware, position=MiddlewarePosition.BEFORE_SWAGGER,
                       settings=settings)
    from mockserver import control

    control.install(app, settings, registry)
    from mockserver.frontdoor import FrontDoor

    app.add_middleware(FrontDoor, position=MiddlewarePosition.BEFORE_EXCEPTION,
                       settings=settings, control=app.control)
    control.move_outward(app, FrontDoor, 0)  # outside CORS and the control middleware
    from mockserver import deferredapis

    deferredapis.install(app.middleware)  # Connexion's per-route operations: on first use
    app.settings = settings  # type: ignore[attr-defined]
    app.registry = registry  # type: ignore[attr-defined]
    return app


def _problem_handler(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    assert isinstance(exc, ProblemException)
    if exc.status == 401:
        return _unauthorized()
    if exc.status == 500 and "does not conform" in str(exc.detail):
        log.error("response validation: %s", exc.detail)
    return http_exception_handler(request, exc)
