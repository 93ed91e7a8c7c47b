"""Connexion's spec middlewares, registering the spec on their first HTTP request.

Connexion builds its middleware stack on the first ASGI event (the lifespan start-up, under
`serve`), and there each of its six spec middlewares (Swagger UI, routing, security, request and
response validation, context) builds its own operation object per route of the spec: ~660 of
them for our 110 routes, ~35-40 ms of every start and of every app a test builds. Most requests
never reach these layers: the front door and the fast paths answer them further out. Here each
such middleware keeps what it was given and builds it when a request first reaches it; the
lifespan events pass through without building anything.

The result is the same stack, built later: the first request that falls through to Connexion
builds each layer as it arrives there (no `await` in between, so concurrent first requests
cannot see half of it), and the layer is then an instance of Connexion's own class again.
"""

from __future__ import annotations

import types
from functools import cache, partial
from typing import Any

from connexion.middleware import ConnexionMiddleware
from connexion.middleware.abstract import SpecMiddleware
from starlette.types import Receive, Scope, Send


def install(middleware: ConnexionMiddleware) -> None:
    """Build `middleware`'s stack with deferred spec middlewares. Only the build sees the
    deferred classes: the list `add_middleware` matches positions against stays Connexion's."""
    build = type(middleware)._build_middleware_stack

    def build_deferred(self: ConnexionMiddleware) -> Any:
        listed = self.middlewares
        self.middlewares = [_deferred_entry(m) for m in listed]
        try:
            return build(self)
        finally:
            self.middlewares = listed

    middleware._build_middleware_stack = types.MethodType(  # type: ignore[method-assign]
        build_deferred, middleware)


def _deferred_entry(entry: Any) -> Any:
    """A class of the list, or a `partial` of one (a middleware added with options)."""
    cls = entry.func if isinstance(entry, partial) else entry
    if not (isinstance(cls, type) and issubclass(cls, SpecMiddleware)):
        return entry
    if isinstance(entry, partial):
        return partial(deferred(cls), *entry.args, **entry.keywords)
    return deferred(cls)


@cache
def deferred(cls: type) -> type:
    """`cls` whose `add_api` calls wait for the first HTTP or WebSocket request."""

    class Deferred(cls):  # type: ignore[valid-type, misc]
        _pending: list[tuple[Any, dict[str, Any]]] | None = None

        def add_api(self, specification: Any, **kwargs: Any) -> None:
            if self._pending is None:
                self._pending = []
            self._pending.append((specification, kwargs))

        def register_pending(self) -> None:
            """Register what `add_api` kept and become a plain `cls` again, so that later
            requests pay nothing for the deferral."""
            pending, self._pending = self._pending, None
            self.__class__ = cls
            for specification, kwargs in pending or ():
                cls.add_api(self, specification, **kwargs)

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "lifespan":
                self.register_pending()
            await cls.__call__(self, scope, receive, send)

    Deferred.__name__ = Deferred.__qualname__ = f"Deferred{cls.__name__}"
    Deferred.__module__ = __name__
    Deferred.__doc__ = cls.__doc__
    return Deferred
