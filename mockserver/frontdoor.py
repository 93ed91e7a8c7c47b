"""The front door: the outer middlewares' work for a plain request, done in one step.

Between uvicorn and the handlers, a request crosses about ten pure-ASGI layers (CORS, control:
journal and faults, the request guard, sessions, `?x-auth-token=`, OPTIONS, static routes' 405, the
GET fast paths) before Connexion's exception handling; each wraps `send`, most look at the
headers again. For most requests nearly all of them only pass it on, and together they cost
~30 µs of every answer (docs/performance.md). The front door sits directly inside Connexion's
ServerErrorMiddleware, outside all of them. A request that none of them would act on beyond
their common bookkeeping - a *plain* one - is served here: it does that bookkeeping itself
(the session's backend and context variables; the CORS headers: Starlette's own `send` for a
request with an `Origin`, the `Vary: Origin` of our CORS shortcut without one; the journal
entry; the state file's record of a write), serves a GET from the fast paths (`fastpath`,
`fastroutes`) and hands anything else to the layer right after the skipped ones (Connexion's
ExceptionMiddleware, with FastWriteMiddleware inside it), exactly where it would have arrived.

Plain means none of these (each goes the whole way, unchanged): not an HTTP request; OPTIONS
(a CORS preflight, or DRF's metadata); the control API, Swagger UI, `/media/`; a path without
its trailing slash or with control characters; a method a static route does not serve;
`?x-auth-token=`; a chunked body or one over `max_body_bytes`; a fault armed for the session;
a state file that is not replayed yet. `Settings.fast_path = False` turns it off with the
fast paths, and `Settings.extra["front_door"] = False` alone (tests compare each way byte for
byte).

With `Settings.answer_memo` (on in `serve`), the 200 of a fast GET is remembered by the whole
request (path, query string, every header, scheme, server) and sent again for the very same
request until anything may have changed: every request that is not GET, HEAD or OPTIONS (the
Waldur API's writes, the login, the control API's reset, import, forced states, session drops:
all of them, whichever way they go) and every order the background processor completes start a
new generation, and an answer is only used in the generation it was made in. Under `serve`
nothing else changes a world (GET handlers never do; rendering never reads the wall clock), so
the answer is the one the handlers would give. At most 512 answers and 64 MiB of bodies are
kept (the oldest go first); an answer over 1 MiB is not kept. An answer is also tied to the
backend it came from (a weak reference), so a world replaced in-process is noticed; a world
changed in place by a test's own code is not: in-process (tests, the pytest plugin) it is off
unless asked for.
"""

from __future__ import annotations

import time
import weakref
from datetime import UTC, datetime
from typing import Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver import auth
from mockserver.app import (
    _CONTROL_CHARS,
    MEDIA_PREFIX,
    RequestGuardMiddleware,
    StaticRouteMethods,
    _lowercase_media_type,
    static_route_methods,
)
from mockserver.control.context import Control
from mockserver.control.cors import CORSMiddleware, with_vary_origin
from mockserver.control.journal_store import RecordingMiddleware, recorded
from mockserver.control.middleware import DROPPED, ControlMiddleware, record
from mockserver.control.spec import PREFIX
from mockserver.fastpath import FastPathMiddleware
from mockserver.fastroutes import AreaFastPathMiddleware
from mockserver.metadata import OptionsMiddleware
from mockserver.registry import SESSION_HEADER, SessionMiddleware, _current, _current_session
from mockserver.settings import Settings
from mockserver.validators import NO_BODY, parsed_body

Answer = tuple[tuple[tuple[bytes, bytes], ...], bytes]  # a 200's raw headers and body (no CORS)
_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})
MEMO_ENTRIES = 512  # remembered answers at most (the oldest goes first) ...
MEMO_BYTES = 64 << 20  # ... and bytes of their bodies at most
MEMO_MAX_BODY = 1 << 20  # bytes: a larger answer is not remembered
_ORIGIN = b"origin"
_CONTENT_LENGTH = b"content-length"
_CONTENT_TYPE = b"content-type"
_TRANSFER_ENCODING = b"transfer-encoding"


class FrontDoor:
    """See the module docstring. `app` is the next layer (CORS); the layers it stands in for
    are found below it when it is built (Connexion builds its stack from the inside out)."""

    def __init__(self, app: ASGIApp, settings: Settings, control: Control) -> None:
        self.app = app
        self.control = control
        self.max_body = settings.max_body_bytes
        self.docs = control.docs
        layers = _layers_below(app)
        self.cors = _one(layers, CORSMiddleware)
        self.orders_get = _one(layers, FastPathMiddleware)
        self.areas_get = _one(layers, AreaFastPathMiddleware)
        self.inner = _after(layers, AreaFastPathMiddleware)  # Connexion's ExceptionMiddleware
        skipped = layers[:layers.index(self.inner)] if self.inner in layers else None
        # only when the layers between are the known ones (a layer added there is never skipped)
        known = (skipped is not None and {type(layer) for layer in skipped} <= _STANDS_IN_FOR
                 and all(_one(layers, cls) is not None for cls in _REQUIRED))
        self.enabled = (getattr(settings, "fast_path", True) and known
                        and settings.extra.get("front_door", True))
        # GET answers by request (path, query, headers, scheme, server), each valid while
        # `generation` is unchanged (every write and every order the processor completes
        # changes it; a reset, an import, a new session are writes too) and for the very
        # backend it was made from (a world replaced in-process, not over HTTP, is noticed)
        self.answers: dict[Any, tuple[int, Any, Answer]] | None = (
            {} if self.enabled and getattr(settings, "answer_memo", False) else None)
        self.generation = 0
        self.memo_bytes = 0  # of the remembered bodies
        control.processor.completed.append(self._changed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.enabled or scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] in _SAFE:
            await self._route(scope, receive, send)
            return
        # Whatever a write changes, it changes between these two: no answer remembered before
        # it ends is used after it (a GET served meanwhile is remembered under the first).
        self.generation += 1
        try:
            await self._route(scope, receive, send)
        finally:
            self.generation += 1

    async def _route(self, scope: Scope, receive: Receive, send: Send) -> None:
        control = self.control
        durable = control.durable
        path: str = scope["path"]
        method: str = scope["method"]
        if (method == "OPTIONS" or not path.endswith("/") or path.startswith(PREFIX)
                or path.startswith(MEDIA_PREFIX) or self.docs.handles(path)
                or b"x-auth-token" in scope["query_string"] or _CONTROL_CHARS.search(path)
                or (durable is not None and not durable.ready)):
            await self.app(scope, receive, send)
            return
        session = impersonated = None
        lower_media = has_session = has_origin = False
        for name, value in scope["headers"]:  # the first of repeated headers counts, as inside
            if name == _CONTENT_LENGTH:
                try:
                    too_large = int(value) > self.max_body
                except ValueError:
                    too_large = True
                if too_large:
                    break
            elif name == SESSION_HEADER:
                if not has_session:
                    session = value.decode("latin-1").strip() or None
                    has_session = True
            elif name == auth.IMPERSONATION_HEADER:
                if impersonated is None:
                    impersonated = value
            elif name == _CONTENT_TYPE:
                media = value.partition(b";")[0]
                lower_media = media != media.lower()
            elif name == _ORIGIN:
                has_origin = True
            elif name == _TRANSFER_ENCODING:
                break
        else:
            allowed = static_route_methods(path)
            if ((allowed is None or method in allowed)
                    and not control.faults.armed(session)):
                if lower_media:
                    _lowercase_media_type(scope)
                await self._serve(scope, receive, send, session, impersonated, has_origin)
                return
        await self.app(scope, receive, send)

    async def _serve(self, scope: Scope, receive: Receive, send: Send, session: str | None,
                     impersonated: bytes | None, has_origin: bool) -> None:
        """What the skipped layers do for a plain request, then the answer."""
        control = self.control
        observed = control.settings.control
        if observed:
            started_at = datetime.now(UTC)
            started = time.perf_counter()
        status = DROPPED
        parsed_body.set(NO_BODY)
        backend = control.backend(session)
        tokens = (_current.set(backend), _current_session.set(session),
                  auth._impersonated.set(impersonated))
        if has_origin:  # Starlette's CORS `send`, as its simple_response uses it
            cors, request_headers = self.cors, Headers(scope=scope)

            async def observing_send(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                await cors.send(message, send, request_headers)
        else:
            async def observing_send(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                    message["headers"] = with_vary_origin(message.get("headers", ()))
                await send(message)

        try:
            if scope["method"] == "GET":
                answer = await self._get(scope, receive, backend)
                if answer is not None:
                    await observing_send({"type": "http.response.start", "status": 200,
                                          "headers": list(answer[0])})
                    await observing_send({"type": "http.response.body", "body": answer[1]})
                    return

            durable = control.durable
            if (durable is not None and session is None
                    and scope["method"] not in ("GET", "HEAD")):
                await self.inner(scope, *recorded(durable, scope, receive, observing_send))
            else:
                await self.inner(scope, receive, observing_send)
        finally:
            auth._impersonated.reset(tokens[2])
            _current_session.reset(tokens[1])
            _current.reset(tokens[0])
            if observed:
                record(control, scope, session,
                       control.operations.match(scope["method"], scope["path"]), status,
                       started, started_at)


    async def _get(self, scope: Scope, receive: Receive, backend: Any) -> Answer | None:
        """A GET's 200 answer from the fast paths (None: they leave it to Connexion), or the
        same answer remembered for the very same request since the last write."""
        answers = self.answers
        if answers is None:
            return await self._fast_get(scope, receive)
        headers = tuple(scope["headers"])
        if headers and type(headers[0]) is not tuple:  # lists from some in-process clients
            headers = tuple(tuple(header) for header in headers)
        server = scope.get("server")
        key = (scope["path"], scope["query_string"], headers, scope["scheme"],
               server if server is None else tuple(server), scope.get("root_path", ""))
        generation = self.generation
        known = answers.get(key)
        if known is not None and known[0] == generation and known[1]() is backend:
            return known[2]
        answer = await self._fast_get(scope, receive)
        if (answer is not None and self.generation == generation
                and len(answer[1]) <= MEMO_MAX_BODY):
            if known is not None:
                del answers[key]
                self.memo_bytes -= len(known[2][1])
            while answers and (len(answers) >= MEMO_ENTRIES
                               or self.memo_bytes + len(answer[1]) > MEMO_BYTES):
                oldest = next(iter(answers))  # the oldest first
                self.memo_bytes -= len(answers.pop(oldest)[2][1])
            answers[key] = (generation, weakref.ref(backend), answer)
            self.memo_bytes += len(answer[1])
        return answer

    async def _fast_get(self, scope: Scope, receive: Receive) -> Answer | None:
        response = await self.orders_get._try(scope, receive)
        if response is None:
            response = await self.areas_get._try(scope, receive)
        if response is None:
            return None
        return tuple(response.raw_headers), response.body

    def _changed(self, *_args: Any) -> None:
        self.generation += 1


# Every layer the front door skips for a plain request (what each does for one is done in
# `FrontDoor._serve`; each leaves it alone otherwise), and those it cannot do without.
_STANDS_IN_FOR = frozenset({CORSMiddleware, ControlMiddleware, RecordingMiddleware,
                            RequestGuardMiddleware, SessionMiddleware, auth.QueryTokenMiddleware,
                            OptionsMiddleware, StaticRouteMethods, FastPathMiddleware,
                            AreaFastPathMiddleware})
_REQUIRED = (CORSMiddleware, ControlMiddleware, RequestGuardMiddleware, FastPathMiddleware,
             AreaFastPathMiddleware)


def _layers_below(app: Any) -> list[Any]:
    """The chain of ASGI apps from `app` inwards (each pure-ASGI layer keeps the next as
    `.app`; RequestGuardMiddleware keeps its own chain there too)."""
    layers = []
    while app is not None and len(layers) < 64:
        layers.append(app)
        app = getattr(app, "app", None)
    return layers


def _one(layers: list[Any], cls: type) -> Any:
    found = [layer for layer in layers if type(layer) is cls]
    return found[0] if len(found) == 1 else None


def _after(layers: list[Any], cls: type) -> Any:
    for i, layer in enumerate(layers[:-1]):
        if type(layer) is cls:
            return layers[i + 1]
    return None
