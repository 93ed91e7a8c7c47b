"""The control middleware (pure ASGI, outside Connexion's stack): serves /__mock__/ (the control
API) and /api/docs/ (Swagger UI), hooks the session's backend to the background processor, and
around every Waldur API request applies the session's faults and writes the journal entry."""

from __future__ import annotations

import asyncio
import functools
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver.control.faults import Fault, real_response
from mockserver.control.journal import redact_query
from mockserver.control.spec import PREFIX
from mockserver.registry import session_from_scope

if TYPE_CHECKING:  # pragma: no cover
    from mockserver.control.context import Control

DROPPED = 0  # journal status of a dropped connection


async def wait_at_least(seconds: float) -> None:
    """Sleep for no less than `seconds` by the clock the journal uses: asyncio may wake a timer
    up to its clock resolution early, and an injected delay must really have been waited."""
    deadline = time.perf_counter() + seconds
    while (remaining := deadline - time.perf_counter()) > 0:
        await asyncio.sleep(remaining)


class ControlMiddleware:
    def __init__(self, app: ASGIApp, control: Control) -> None:
        self.app = app
        self.control = control

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, self.control.lifespan_receive(receive), send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        control = self.control
        if control.durable is not None and not control.durable.ready:
            await control.durable.start()  # the journal replayed before anything is answered
        if control.settings.control and (path == PREFIX or path.startswith(PREFIX + "/")):
            await control.api(scope, receive, send)
            if (control.durable is not None and scope["method"] not in ("GET", "HEAD")
                    and session_from_scope(scope) is None and not path.endswith("/save")):
                control.durable.compact()  # reset, state import, forced state: a new snapshot
            return
        if control.docs.handles(path):
            await control.docs(scope, receive, send)
            return
        session = session_from_scope(scope)
        control.backend(session)
        if not control.settings.control:
            await self.app(scope, receive, send)
            return
        await self._observed(scope, receive, send, session)

    async def _observed(
        self, scope: Scope, receive: Receive, send: Send, session: str | None
    ) -> None:
        control = self.control
        started_at = datetime.now(UTC)
        started = time.perf_counter()
        method: str = scope["method"]
        operation = control.operations.match(method, scope["path"])
        status = [DROPPED]
        injected_delay: list[float | None] = [None]

        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        fault = control.faults.pick(session, operation, method)
        try:
            if fault is None:
                await self.app(scope, receive, recording_send)
            else:
                injected_delay[0] = fault.delay_seconds() if fault.delay is not None else None
                await self._with_fault(
                    fault, scope, receive, send, recording_send, status, injected_delay[0] or 0.0
                )
        finally:
            record(control, scope, session, operation, status[0], started, started_at, fault,
                   injected_delay[0])

    async def _with_fault(
        self,
        fault: Fault,
        scope: Scope,
        receive: Receive,
        send: Send,
        recording_send: Any,
        status: list[int],
        delay: float,
    ) -> None:
        if delay > 0:
            await wait_at_least(delay)
        if fault.status is None and not fault.drop:
            await self.app(scope, receive, recording_send)
            return
        if fault.after:
            await self.app(scope, receive, _discard)
        if fault.drop:
            status[0] = DROPPED
            await drop_connection(send)
            return
        assert fault.status is not None
        response = real_response(fault.status, scope["method"], fault.body)
        headers = [
            (b"content-type", response.content_type.encode()),
            (b"content-length", str(len(response.body)).encode()),
        ]
        headers += [(k.lower().encode(), v.encode()) for k, v in response.headers.items()]
        await recording_send({"type": "http.response.start", "status": response.status,
                              "headers": headers})
        body = b"" if scope["method"] == "HEAD" else response.body
        await send({"type": "http.response.body", "body": body})


def record(
    control: Control, scope: Scope, session: str | None, operation: str | None, status: int,
    started: float, started_at: datetime, fault: Fault | None = None,
    injected_delay: float | None = None,
) -> None:
    """The journal entry of one Waldur API request (`started`: its perf_counter at arrival)."""
    control.journal.record(
        method=scope["method"],
        path=scope["path"],
        query=redact_query(scope.get("query_string", b"")),
        operation=operation,
        status=status,
        duration_ms=(time.perf_counter() - started) * 1000,
        user=control.username(session, scope),
        session=session,
        fault=fault.id if fault is not None else None,
        fault_delay_ms=None if injected_delay is None else injected_delay * 1000,
        started=started_at,
    )


async def _discard(message: Message) -> None:
    """`send` for a request whose response the client never gets (fault with after=true)."""


def find_transport(send: Any, depth: int = 0) -> Any:
    """The server's asyncio transport behind a chain of wrapped `send` callables, if reachable.

    uvicorn's `send` is a bound method of its request cycle (which has `.transport`); Starlette
    and Connexion wrap it in closures and partials. Returns None when it cannot be found (other
    servers, in-process test clients)."""
    if depth > 8 or send is None:
        return None
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is not None and hasattr(transport, "abort"):
        return transport
    if isinstance(send, functools.partial):
        candidates = [send.func, *send.args, *send.keywords.values()]
    else:
        candidates = []
        for cell in getattr(send, "__closure__", None) or ():
            try:
                candidates.append(cell.cell_contents)
            except ValueError:  # empty cell
                continue
    for candidate in candidates:
        if callable(candidate):
            found = find_transport(candidate, depth + 1)
            if found is not None:
                return found
    return None


async def drop_connection(send: Send) -> None:
    """Close the client's connection without a response (RST when the server allows it)."""
    transport = find_transport(send)
    if transport is not None:
        transport.abort()
        # Let the server notice the lost connection before the app returns, so that it does
        # not try to send a 500 of its own.
        for _ in range(3):
            await asyncio.sleep(0)
        return
    # Fallback: start a response that promises a body and never send it; the server closes
    # the connection when the app returns (the client sees an incomplete response).
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", b"1024"), (b"content-type", b"application/json")]})
