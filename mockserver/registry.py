"""BackendRegistry: one OrdersBackend per session name, rebuilt on demand from seed + fixtures.

The HTTP layer never holds a backend itself: a small ASGI middleware (SessionMiddleware) picks
the session from the `X-Mock-Session` header and publishes its backend in a contextvar that the
handlers (and the auth hook) read with `current_backend()`.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from contextvars import ContextVar
from typing import TYPE_CHECKING

from starlette.types import ASGIApp, Receive, Scope, Send

from mockserver.memory import collector_off, release_free_memory
from mockserver.settings import Settings

if TYPE_CHECKING:  # pragma: no cover
    from mockserver.orders.models import OrdersBackend

SESSION_HEADER = b"x-mock-session"

_current: ContextVar[OrdersBackend] = ContextVar("mockserver_backend")
_current_session: ContextVar[str | None] = ContextVar("mockserver_session", default=None)


def collector_paused() -> AbstractContextManager[None]:
    """Run the block without the cyclic garbage collector, then collect the young generations.

    Building a world allocates ~10 container objects per order and keeps them all; the
    collector's passes over that growing heap cost a fifth of the build (~0.06 s at 10k orders,
    ~0.5 s at 100k). The one collection at the end moves the survivors to the oldest
    generation, so the first requests do not pay for traversing them instead.
    """
    return collector_off(then=lambda: gc.collect(1))


def build_backend(settings: Settings) -> OrdersBackend:
    """Build a fresh backend from the settings' seed, fixtures file and order count."""
    from mockserver.orders.models import OrdersBackend

    return OrdersBackend.from_settings(settings)


class BackendRegistry:
    """Backends by session name (`None` is the default session).

    The first backend is built from seed + fixtures and nothing else is kept, so startup pays
    for no snapshot (it used to export a JSON-able copy of the world: +0.3 s at 10k orders,
    +311 MiB at 100k). The first reset or new session builds a fresh world once more and keeps
    it as pickle bytes (`OrdersBackend.snapshot`, by columns: ~0.35 KiB per order); every later
    one loads those bytes, which is the same world as a rebuild from seed + fixtures, only cheaper.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        factory: Callable[[Settings], OrdersBackend] | None = None,
    ) -> None:
        self.settings = settings or Settings()
        self._factory = factory or build_backend
        self._backends: dict[str | None, OrdersBackend] = {}
        self._snapshot: bytes | None = None
        self._lock = threading.Lock()

    def _fresh(self, again: bool = False) -> OrdersBackend:
        """A backend in the seeded start state (callers hold the lock); `again`: a reset."""
        with collector_paused():
            return self._build(again)

    def _build(self, again: bool) -> OrdersBackend:
        if self._snapshot is not None:
            return type_of_backend().from_snapshot(self._snapshot)
        backend = self._factory(self.settings)
        if again or self._backends:  # a reset or a second session: worth a snapshot now
            snapshot = getattr(backend, "snapshot", None)
            if snapshot is not None:
                self._snapshot = snapshot()
        return backend

    def get(self, session: str | None = None) -> OrdersBackend:
        backend = self._backends.get(session)
        if backend is None:
            with self._lock:
                backend = self._backends.get(session)
                if backend is None:
                    backend = self._backends[session] = self._fresh()
        return backend

    def reset(self, session: str | None = None) -> OrdersBackend:
        """A fresh world for `session`. The old one is let go first (requests still being
        served keep theirs alive until they finish), then collected and its memory handed back
        to the OS (for large worlds, `COLLECT_ABOVE`): otherwise each reset at 100k orders
        left ~100-200 MiB more resident."""
        with self._lock:
            large = _is_large(self._backends.pop(session, None))
            if large:  # its reference cycles (plans <-> offerings...) wait for the collector
                gc.collect()
            backend = self._backends[session] = self._fresh(again=True)
        if large:
            release_free_memory()
        return backend

    def put(self, session: str | None, backend: OrdersBackend) -> None:
        """Replace a session's backend (control API state import, --state-file)."""
        with self._lock:
            self._backends[session] = backend

    def drop(self, session: str | None) -> None:
        with self._lock:
            self._backends.pop(session, None)

    def sessions(self) -> list[str | None]:
        return list(self._backends)


COLLECT_ABOVE = 10_000  # orders: a full collection costs ~0.1 s in a big process (a test run)


def _is_large(backend: OrdersBackend | None) -> bool:
    """Whether freeing this world at once is worth a full garbage collection. Small worlds are
    reset many times a minute by test suites; theirs is left to the collector's own pace."""
    return backend is not None and len(getattr(backend, "orders", ())) >= COLLECT_ABOVE


def type_of_backend() -> type[OrdersBackend]:
    from mockserver.orders.models import OrdersBackend

    return OrdersBackend


def current_backend() -> OrdersBackend:
    """The backend of the request being served (set by SessionMiddleware)."""
    return _current.get()


def current_session() -> str | None:
    return _current_session.get()


def session_from_scope(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == SESSION_HEADER:
            text = value.decode("latin-1").strip()
            return text or None
    return None


class SessionMiddleware:
    """Pure ASGI middleware: selects the session's backend for the duration of the request."""

    def __init__(self, app: ASGIApp, registry: BackendRegistry) -> None:
        self.app = app
        self.registry = registry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        session = session_from_scope(scope)
        token_b = _current.set(self.registry.get(session))
        token_s = _current_session.set(session)
        try:
            await self.app(scope, receive, send)
        finally:
            _current.reset(token_b)
            _current_session.reset(token_s)
