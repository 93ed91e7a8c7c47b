"""Orders that move on their own: for offering types the real server processes by itself (a
Marketplace.Basic order goes from executing to done without an agent), complete executing orders
`--process-delay` seconds after they started executing.

The backend decides *which* orders are processed by the server: with a positive delay it records
them in `backend.due` and calls its `on_executing` hooks with (uuid, delay); this module only keeps
time: an asyncio timer calls `backend.complete_processing(uuid)` (which takes the backend's lock)
on the event loop. Delay 0 needs no timer (the
backend completes at once) and `manual` (None) never completes anything.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from typing import Any

from mockserver.orders.exceptions import ApiError

log = logging.getLogger("mockserver.control.processor")


class Processor:
    def __init__(self, delay: float | None) -> None:
        self.delay = delay
        self._loop: asyncio.AbstractEventLoop | None = None
        self._hooks: dict[int, tuple[weakref.ReferenceType[Any], Any]] = {}
        self._timers: dict[int, set[asyncio.TimerHandle]] = {}
        # called with (backend, uuid) after an order was completed here (the state journal)
        self.completed: list[Any] = []

    @property
    def timed(self) -> bool:
        return self.delay is not None and self.delay > 0

    def attach(self, backend: Any) -> None:
        """Hook a backend (idempotent; cheap enough to call on every request, in the loop)."""
        key = id(backend)
        known = self._hooks.get(key)
        if known is not None and known[0]() is backend:
            return
        if not self.timed:
            return
        try:
            self._loop = asyncio.get_running_loop()
        except RuntimeError:  # not serving yet (state file load): hooked on the first request
            return
        ref = weakref.ref(backend, lambda _: self._forget(key))
        hook = self._hook(ref)
        self._hooks[key] = (ref, hook)
        backend.on_executing.append(hook)
        for uuid in list(getattr(backend, "due", {})):
            self._arm(ref, uuid, self.delay)

    def detach(self, backend: Any) -> None:
        """Unhook a backend that is being replaced (reset, import) and cancel its timers."""
        known = self._hooks.get(id(backend))
        if known is not None and known[0]() is backend:
            try:
                backend.on_executing.remove(known[1])
            except ValueError:
                pass
        self._forget(id(backend))

    def pending(self, backend: Any) -> int:
        return len(self._timers.get(id(backend), ()))

    def _forget(self, key: int) -> None:
        self._hooks.pop(key, None)
        for timer in self._timers.pop(key, set()):
            timer.cancel()

    def _hook(self, ref: weakref.ReferenceType[Any]) -> Any:
        def on_executing(uuid: str, delay: float | None = None) -> None:
            loop = self._loop
            if loop is None or loop.is_closed():
                return
            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if running is loop:
                self._arm(ref, uuid, delay)
            else:  # a sync handler running in Starlette's thread pool
                loop.call_soon_threadsafe(self._arm, ref, uuid, delay)

        return on_executing

    def _arm(self, ref: weakref.ReferenceType[Any], uuid: str, delay: float | None) -> None:
        backend = ref()
        seconds = delay if delay is not None else self.delay
        if backend is None or self._loop is None or seconds is None:
            return
        timers = self._timers.setdefault(id(backend), set())
        holder: list[asyncio.TimerHandle] = []

        def fire() -> None:
            timers.discard(holder[0])
            self._complete(ref, uuid)

        holder.append(self._loop.call_later(seconds, fire))
        timers.add(holder[0])

    def _complete(self, ref: weakref.ReferenceType[Any], uuid: str) -> None:
        backend = ref()
        if backend is None or id(backend) not in self._hooks:
            return
        try:
            if backend.complete_processing(uuid):
                for callback in list(self.completed):
                    callback(backend, uuid)
        except (ApiError, LookupError):
            # Gone or no longer executing (canceled, deleted, set by hand): nothing to do.
            log.debug("order %s not completed: no longer executing", uuid)
