"""uvicorn's access log, written for a fraction of its cost.

uvicorn formats every access line through `logging` (a LogRecord, a copy of it, a formatter)
and flushes its stream once per line: about a quarter of a cached GET's throughput. `AccessLog`
is an outermost pure-ASGI middleware that writes the very same lines (uvicorn's
`AccessFormatter` format, colours when stdout is a terminal) into a buffer that is written and
flushed at most `DELAY` seconds after its first line, when it holds `MAX_LINES` lines, at
lifespan shutdown and when `waldur-mock serve` ends. A line is made when uvicorn would make it:
when the response starts, or, when the app fails or returns before starting one, for the 500
uvicorn then answers. (uvicorn writes no line for a client that disconnected before the
response started; this middleware cannot see that and writes it.)
"""

from __future__ import annotations

import asyncio
import http
import sys
import urllib.parse
from collections.abc import Callable
from typing import IO, Any

from uvicorn._ansi import style

DELAY = 0.05  # seconds: the longest a line waits in the buffer
MAX_LINES = 512
_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")
_STATUS_COLOURS = {1: "bright_white", 2: "green", 3: "yellow", 4: "red", 5: "bright_red"}
_QUOTED_MAX = 4096  # distinct paths remembered with their quoted form

Scope = dict[str, Any]
Message = dict[str, Any]


def enabled(access_log: bool, log_level: str) -> bool:
    """Whether uvicorn would write access lines: on, and its level lets INFO through."""
    return access_log and _LEVELS.index(log_level.lower()) >= _LEVELS.index("info")


class AccessLine:
    """Builds uvicorn's access line for a request scope and a status code."""

    def __init__(self, use_colors: bool) -> None:
        self.use_colors = use_colors
        self.prefix = (style("INFO", fg="green") if use_colors else "INFO") + ":" + " " * 4
        self._statuses: dict[int, str] = {}
        self._quoted: dict[str, str] = {}

    def status(self, code: int) -> str:
        text = self._statuses.get(code)
        if text is None:
            try:
                phrase = http.HTTPStatus(code).phrase
            except ValueError:
                phrase = ""
            text = f"{code} {phrase}"
            if self.use_colors and code // 100 in _STATUS_COLOURS:
                text = style(text, fg=_STATUS_COLOURS[code // 100])
            self._statuses[code] = text
        return text

    def __call__(self, scope: Scope, status: int) -> str:
        # The same calls, in the same order, as uvicorn's protocol (uvicorn.protocols.utils).
        client = scope.get("client")
        addr = "%s:%d" % client if client else ""  # noqa: UP031 (uvicorn's formatting)
        method = scope["method"]
        path = scope["path"]
        full = self._quoted.get(path)
        if full is None:
            full = urllib.parse.quote(path)
            if len(self._quoted) < _QUOTED_MAX:
                self._quoted[path] = full
        query = scope["query_string"]
        if query:
            full = f"{full}?{query.decode('ascii')}"
        request_line = f"{method} {full} HTTP/{scope['http_version']}"
        if self.use_colors:
            request_line = style(request_line, bold=True)
        return f"{self.prefix} {addr} - \"{request_line}\" {self.status(int(status))}\n"


class AccessLog:
    """Pure-ASGI middleware writing uvicorn's access lines, buffered (see the module doc)."""

    def __init__(self, app: Callable[..., Any], stream: IO[str] | None = None,
                 use_colors: bool | None = None, delay: float = DELAY,
                 max_lines: int = MAX_LINES) -> None:
        self.app = app
        self.stream = stream if stream is not None else sys.stdout
        if use_colors is None:  # as uvicorn decides for its access formatter
            use_colors = sys.stdout.isatty()
        self.line = AccessLine(use_colors)
        self.delay = delay
        self.max_lines = max_lines
        self.buffer: list[str] = []

    async def __call__(self, scope: Scope, receive: Callable[..., Any],
                       send: Callable[..., Any]) -> Any:
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                return await self.app(scope, receive, self._lifespan_send(send))
            return await self.app(scope, receive, send)
        started = False

        async def logged_send(message: Message) -> None:
            nonlocal started
            if not started:
                started = True  # uvicorn raises on anything else, and then answers a 500
                self.write(self.line(scope, message["status"]
                                     if message["type"] == "http.response.start" else 500))
            await send(message)

        try:
            result = await self.app(scope, receive, logged_send)
        except BaseException:
            if not started:
                self.write(self.line(scope, 500))
            raise
        if result is None and not started:
            self.write(self.line(scope, 500))  # uvicorn: "returned without starting response"
        return result

    def write(self, line: str) -> None:
        buffer = self.buffer
        buffer.append(line)
        if len(buffer) == 1:
            try:
                asyncio.get_running_loop().call_later(self.delay, self.flush)
            except RuntimeError:  # no loop: write at once
                self.flush()
        elif len(buffer) >= self.max_lines:
            self.flush()

    def flush(self) -> None:
        """Write and flush the buffered lines (safe to call at any time, and again)."""
        if not self.buffer:
            return
        text = "".join(self.buffer)
        self.buffer.clear()
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # closed or broken stream: logging would drop it too
            pass

    def _lifespan_send(self, send: Callable[..., Any]) -> Callable[..., Any]:
        async def lifespan_send(message: Message) -> None:
            if message["type"].startswith("lifespan.shutdown"):
                self.flush()
            await send(message)

        return lifespan_send
