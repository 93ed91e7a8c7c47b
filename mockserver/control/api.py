"""The control API under /__mock__/ (openapi/mock-control.yaml). A tiny router of its own: it runs
outside Connexion's stack, so nothing here can turn into a 500 or a problem+json body."""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from mockserver.control import sessions
from mockserver.control.persistence import InvalidState, decode_state, encode_state
from mockserver.control.spec import PREFIX, control_spec_text, validation_errors
from mockserver.orders.exceptions import ApiError
from mockserver.registry import session_from_scope

if TYPE_CHECKING:  # pragma: no cover
    from mockserver.control.context import Control

log = logging.getLogger("mockserver.control")
JSON = "application/json"


@dataclass(frozen=True)
class Call:
    """One control request: the API, the Starlette request, the session, the path params."""

    api: ControlAPI
    request: Request
    session: str | None
    params: dict[str, str]

    @property
    def control(self) -> Control:
        return self.api.control


Handler = Callable[[Call], Awaitable[Response]]
_ROUTES: list[tuple[str, str, Handler]] = []


@cache
def _pattern(path: str) -> re.Pattern[str]:
    """A route's regex, compiled on the first control request (not at every start-up)."""
    return re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path) + "/?$")


def route(method: str, path: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        _ROUTES.append((method, path, fn))
        return fn

    return register


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    try:
        raw = orjson.dumps(body)
    except TypeError:  # integers beyond 64 bits (journal of a client's attributes)
        raw = json.dumps(body, ensure_ascii=False, separators=(",", ":"),
                         allow_nan=False).encode()
    return Response(raw, status, headers, media_type=JSON)


def no_content() -> Response:
    return Response(b"", 204)


def detail(text: str, status: int) -> Response:
    return json_response({"detail": text}, status)


def done(text: str, session: str | None, **extra: Any) -> Response:
    return json_response({"detail": text, "session": session, **extra})


class BadRequest(Exception):
    def __init__(self, body: Any) -> None:
        self.body = body


async def json_body(request: Request) -> Any:
    raw = await request.body()
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequest({"detail": f"JSON parse error - {exc}"}) from None


class ControlAPI:
    def __init__(self, control: Control) -> None:
        self.control = control

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"][len(PREFIX):] or "/"
        method = scope["method"]
        request = Request(scope, receive)
        session = session_from_scope(scope)
        allowed: list[str] = []
        response: Response | None = None
        for route_method, route_path, handler in _ROUTES:
            found = _pattern(route_path).match(path)
            if not found:
                continue
            if route_method != method and not (method == "HEAD" and route_method == "GET"):
                allowed.append(route_method)
                continue
            try:
                response = await handler(Call(self, request, session, found.groupdict()))
            except BadRequest as exc:
                response = json_response(exc.body, 400)
            except ApiError as exc:
                response = json_response(exc.body, exc.status, dict(exc.headers))
            except Exception:  # noqa: BLE001 - a bug here must not kill the connection
                log.exception("control API %s %s failed", method, path)
                response = detail("A server error occurred.", 500)
            break
        if response is None:
            if allowed:
                response = json_response({"detail": f'Method "{method}" not allowed.'}, 405,
                                         {"Allow": ", ".join(allowed)})
            else:
                response = detail("Not found.", 404)
        await response(scope, receive, send)



# ---------------------------------------------------------------------------------------------
# Handlers (each: Call -> Response)


@route("GET", "/")
async def index(call: Call) -> Response:
    settings = call.control.settings
    delay = settings.process_delay
    return json_response({
        "session": call.session,
        "process_delay": "manual" if delay is None else str(delay),
        "state_file": str(settings.state_file) if settings.state_file else None,
        "endpoints": [f"{method} {PREFIX}{path}" for method, path, _ in _ROUTES],
    })


@route("GET", "/openapi.yaml")
async def openapi(call: Call) -> Response:
    return Response(control_spec_text(), 200, media_type="application/yaml")


@route("POST", "/reset")
async def reset(call: Call) -> Response:
    started = time.perf_counter()
    backend = call.control.reset(call.session)
    elapsed = round((time.perf_counter() - started) * 1000, 3)
    return done("Session reset to the seeded start state.", call.session,
                orders=sessions.order_count(backend), duration_ms=elapsed)


@route("GET", "/state")
async def state_export(call: Call) -> Response:
    body = encode_state(call.control.backend(call.session).export_state())
    return Response(body, 200, media_type=JSON)


@route("PUT", "/state")
async def state_import(call: Call) -> Response:
    try:
        data = decode_state(await call.request.body())
        backend = call.control.load(call.session, data)
    except InvalidState as exc:
        return detail(f"Invalid state: {exc}.", 400)
    return done("State loaded.", call.session, orders=sessions.order_count(backend))


@route("POST", "/save")
async def save(call: Call) -> Response:
    control = call.control
    if control.state_file is None:
        return detail("No state file: start the stub with --state-file PATH.", 409)
    try:
        path = control.save_state_file(call.session)
    except OSError as exc:
        return detail(f"Could not write {control.state_file}: {exc.strerror}.", 409)
    return done("State saved.", call.session, path=str(path))


@route("POST", "/orders/{uuid}/state")
async def set_order_state(call: Call) -> Response:
    data = await json_body(call.request)
    errors = validation_errors("OrderStateRequest", data)
    if errors:
        raise BadRequest(errors)
    backend = call.control.backend(call.session)
    uuid = call.params["uuid"]
    previous = sessions.force_order_state(backend, uuid, data["state"], data)
    return json_response({"uuid": uuid.replace("-", "").lower(), "state": data["state"],
                          "previous_state": previous})


@route("GET", "/requests")
async def journal(call: Call) -> Response:
    raw = call.request.query_params.get("limit")
    limit = None
    if raw is not None:
        if not raw.isdigit() or int(raw) < 1:
            raise BadRequest({"limit": ["A valid integer is required."]})
        limit = int(raw)
    return json_response(call.control.journal.entries(call.session, limit))


@route("DELETE", "/requests")
async def journal_clear(call: Call) -> Response:
    call.control.journal.clear(call.session)
    return no_content()


@route("GET", "/faults")
async def faults_list(call: Call) -> Response:
    return json_response([f.to_dict() for f in call.control.faults.list(call.session)])


@route("POST", "/faults")
async def faults_add(call: Call) -> Response:
    parsed = call.control.faults.parse(await json_body(call.request))
    if isinstance(parsed, dict):
        raise BadRequest(parsed)
    call.control.faults.add(call.session, parsed)
    return json_response(parsed.to_dict(), 201)


@route("DELETE", "/faults")
async def faults_clear(call: Call) -> Response:
    call.control.faults.clear(call.session)
    return no_content()


@route("DELETE", "/faults/{id}")
async def faults_remove(call: Call) -> Response:
    raw = call.params["id"]
    if raw.isdigit() and call.control.faults.remove(call.session, int(raw)):
        return no_content()
    return detail("Not found.", 404)


@route("GET", "/sessions")
async def sessions_list(call: Call) -> Response:
    registry = call.control.registry
    return json_response([
        {"session": name, "orders": sessions.order_count(registry.get(name))}
        for name in registry.sessions()
    ])


@route("DELETE", "/sessions/{name}")
async def sessions_drop(call: Call) -> Response:
    call.control.drop(unquote(call.params["name"]))
    return no_content()
