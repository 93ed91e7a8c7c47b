"""mockserver.control.cors.CORSMiddleware answers exactly as Starlette's CORSMiddleware: the
same messages reach the server for requests with and without an Origin, whatever Vary headers
the app sends."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from starlette.middleware.cors import CORSMiddleware as StarletteCORS

from mockserver.control.cors import CORSMiddleware, cors_options
from mockserver.settings import Settings

RESPONSE_HEADERS = [
    [],
    [(b"content-type", b"application/json")],
    [(b"vary", b"Accept")],
    [(b"vary", b"Accept"), (b"x-a", b"1"), (b"vary", b"Cookie"), (b"vary", b"Authorization")],
    ((b"link", b"<x>"), (b"vary", b"Accept")),  # a tuple
    None,  # no headers key at all
]
REQUEST_HEADERS = [
    [(b"authorization", b"Token x")],
    [(b"origin", b"http://localhost:5173"), (b"authorization", b"Token x")],
    ((b"host", b"h"),),
    [(b"origin", b"http://elsewhere.example")],
]


def _app(headers: Any) -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        start: dict[str, Any] = {"type": "http.response.start", "status": 200}
        if headers is not None:
            start["headers"] = headers
        await send(start)
        await send({"type": "http.response.body", "body": b"ok"})

    return app


def _run(middleware: Any, request_headers: Any, method: str = "GET") -> list[Any]:
    sent: list[Any] = []
    scope = {"type": "http", "method": method, "path": "/", "headers": request_headers}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    asyncio.run(middleware(scope, receive, send))
    return [*sent, scope["headers"]]


@pytest.mark.parametrize("origins", [("*",), ("http://localhost:5173",)])
def test_same_messages_as_starlette(origins: tuple[str, ...]) -> None:
    options = cors_options(Settings(cors_origins=origins))
    for response_headers in RESPONSE_HEADERS:
        for request_headers in REQUEST_HEADERS:
            for method in ("GET", "POST"):
                ours = _run(CORSMiddleware(_app(response_headers), **options),
                            request_headers, method)
                theirs = _run(StarletteCORS(_app(response_headers), **options),
                              request_headers, method)
                assert ours == theirs, (response_headers, request_headers)


def test_the_comparison_has_teeth() -> None:
    """A Vary appended instead of folded into the first one is told apart."""

    class Appending(CORSMiddleware):
        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            async def appending(message: dict[str, Any]) -> None:
                if message["type"] == "http.response.start":
                    message["headers"] = [*message.get("headers", []), (b"vary", b"Origin")]
                await send(message)

            await self.app(scope, receive, appending)

    options = cors_options(Settings())
    headers = [(b"vary", b"Accept")]
    assert (_run(Appending(_app(headers), **options), REQUEST_HEADERS[0])
            != _run(StarletteCORS(_app(headers), **options), REQUEST_HEADERS[0]))
