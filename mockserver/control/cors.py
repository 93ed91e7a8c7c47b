"""CORS for browser apps on another origin: any origin by default (`--cors-origin` narrows it),
preflight for the Authorization and X-Mock-Session headers, and the pagination headers exposed
so that a browser app can read them."""

from __future__ import annotations

from typing import Any

from starlette.middleware.cors import CORSMiddleware as StarletteCORS
from starlette.types import Message, Receive, Scope, Send

from mockserver.settings import Settings

EXPOSED = ("Link", "X-Result-Count", "Location", "WWW-Authenticate", "Allow", "Retry-After")
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
PREFLIGHT_MAX_AGE = 600


def cors_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments of starlette.middleware.cors.CORSMiddleware."""
    origins = list(settings.cors_origins) or ["*"]
    return {
        "allow_origins": ["*"] if "*" in origins else origins,
        "allow_methods": list(METHODS),
        # "*" makes Starlette echo the requested headers, which is what a preflight for
        # `Authorization` needs (a literal "*" does not cover Authorization in browsers).
        "allow_headers": ["*"],
        "expose_headers": list(EXPOSED),
        "allow_credentials": False,
        "max_age": PREFLIGHT_MAX_AGE,
    }


class CORSMiddleware(StarletteCORS):
    """Starlette's CORSMiddleware with a shortcut for requests without an `Origin` header
    (every client but a browser on another origin): their answer only gets `Vary: Origin`,
    set exactly as Starlette's `send` sets it (after any Vary the app sent, duplicates folded
    into the first), without building two header objects and a partial per request (~5 µs of
    a cached GET). Requests with an `Origin` go through Starlette's code unchanged."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        headers = scope["headers"] = list(scope["headers"])  # as starlette's Headers(scope=)
        for name, _value in headers:
            if name == b"origin":
                await super().__call__(scope, receive, send)
                return

        async def vary_origin(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = with_vary_origin(message.get("headers", []))
            await send(message)

        await self.app(scope, receive, vary_origin)


def with_vary_origin(headers: Any) -> list[tuple[bytes, bytes]]:
    """A copy of a response's raw headers with `Origin` added to its Vary, as Starlette's CORS
    `send` adds it to an answer without an `Origin` request header: after any Vary the app
    sent, several Vary headers folded into the first."""
    raw = list(headers)
    found = [i for i, (name, _v) in enumerate(raw) if name == b"vary"]
    if not found:
        raw.append((b"vary", b"Origin"))
        return raw
    value = ", ".join([*(raw[i][1].decode("latin-1") for i in found), "Origin"])
    for i in reversed(found[1:]):
        del raw[i]
    raw[found[0]] = (b"vary", value.encode("latin-1"))
    return raw
