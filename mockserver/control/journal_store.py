"""Durable `--state-file`: a compacted snapshot plus an append-only journal of accepted changes.

    PATH           the state as `GET /__mock__/state` exports it (written atomically, as before)
    PATH.journal   JSON lines: a header `{"journal": 1, "base": <sha256 of PATH or seed key>}`,
                   then one line per accepted change of the default session, in the order the
                   backend applied them

A change is recorded as the request that made it (method, path, query, headers, body of every
2xx answer to a write of the Waldur API), or `{"complete": uuid}` when the background processor
finished an order. The backend is deterministic (its clock and uuids derive from the seed and
the order of operations), so replaying the journal on the snapshot rebuilds the same state
byte for byte. Lines are buffered and written + fsync'ed by a background thread every
`flush_interval` seconds (default 0.05): `kill -9` loses at most the changes acknowledged in
that window (plus one fsync). A torn last line (a crash mid-write) is ignored; a journal whose
base is not the snapshot on disk (a crash between writing the snapshot and starting the new
journal) is ignored, because that snapshot already holds its changes.

Compaction (snapshot written atomically, then a fresh journal renamed into place) happens on
`POST /__mock__/save`, at shutdown, after a control-API change (reset, state import, forced
state), and every `COMPACT_AFTER` journal entries. X-Mock-Session sessions are not persisted.
A read-only or missing directory never stops the stub: the error is logged, and the stub runs
without durability (as before).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver.registry import _current, _current_session, session_from_scope
from mockserver.validators import NO_BODY, parsed_body

log = logging.getLogger("mockserver.control.journal_store")

FLUSH_INTERVAL = 0.05  # seconds between write+fsync of buffered journal lines
COMPACT_AFTER = 10_000  # journal entries before a new snapshot
READS = frozenset({b"GET", b"HEAD", b"OPTIONS"})
_KEPT_HEADERS = (b"authorization", b"content-type", b"host")


def journal_path(state_file: Path) -> Path:
    return state_file.with_name(state_file.name + ".journal")


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_journal(path: Path, base: str) -> list[dict[str, Any]]:
    """The entries of `path` if its header names `base`; a torn or invalid line ends it."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return []
    lines = raw.split(b"\n")
    try:
        header = orjson.loads(lines[0])
    except orjson.JSONDecodeError:
        log.warning("journal %s has no valid header: ignored", path)
        return []
    if not isinstance(header, dict) or header.get("base") != base:
        log.info("journal %s belongs to another snapshot: ignored", path)
        return []
    entries = []
    for number, line in enumerate(lines[1:], start=2):
        if not line:
            continue
        try:
            entry = orjson.loads(line)
        except orjson.JSONDecodeError:
            if number < len(lines) - 1 or raw.endswith(b"\n"):
                log.warning("journal %s: line %d is corrupt; replay stops there", path, number)
            break
        entries.append(entry)
    return entries


class JournalWriter:
    """Buffered appends; a daemon thread writes and fsyncs them every `interval` seconds."""

    def __init__(self, path: Path, base: str, interval: float, fresh: bool) -> None:
        self.path = path
        self.base = base
        self.interval = interval
        self.entries = 0
        self._buffer: list[bytes] = []
        self._lock = threading.Lock()
        self._io = threading.Lock()
        self._wake = threading.Event()
        self._closed = False
        if fresh or not path.exists():
            self._start_file(base)
        self._fh = open(path, "ab")  # noqa: SIM115 - kept open for appends
        self._thread = threading.Thread(target=self._run, name="state-journal", daemon=True)
        self._thread.start()

    def _start_file(self, base: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        with open(tmp, "wb") as fh:
            fh.write(orjson.dumps({"journal": 1, "base": base}) + b"\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)
        _fsync_dir(self.path.parent)

    def append(self, entry: dict[str, Any]) -> None:
        line = orjson.dumps(entry) + b"\n"
        with self._lock:
            self._buffer.append(line)
            self.entries += 1

    def flush(self) -> None:
        with self._io:
            with self._lock:
                lines, self._buffer = self._buffer, []
            if lines and not self._closed:
                self._fh.write(b"".join(lines))
                self._fh.flush()
                os.fsync(self._fh.fileno())

    def restart(self, base: str) -> None:
        """A new, empty journal on the snapshot `base` (the old buffer belongs to it)."""
        with self._io:
            with self._lock:
                self._buffer = []
                self.entries = 0
            self._fh.close()
            self.base = base
            self._start_file(base)
            self._fh = open(self.path, "ab")  # noqa: SIM115

    def _run(self) -> None:
        while not self._closed:
            self._wake.wait(self.interval)
            try:
                self.flush()
            except (OSError, ValueError) as exc:
                log.error("could not write journal %s: %s", self.path, exc)

    def close(self) -> None:
        self.flush()
        self._closed = True
        self._wake.set()
        with self._io:
            self._fh.close()


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class DurableState:
    """The journal of one Control's state file (see the module docstring)."""

    def __init__(self, control: Any, interval: float = FLUSH_INTERVAL,
                 compact_after: int = COMPACT_AFTER) -> None:
        self.control = control
        self.path: Path = control.state_file
        self.interval = interval
        self.compact_after = compact_after
        self.writer: JournalWriter | None = None
        self.replaying = False
        self.ready = False
        self.app: ASGIApp | None = None  # what the journal is replayed through (set below)

    # -- base of the journal ------------------------------------------------------------------
    def base(self) -> str:
        try:
            return digest(self.path.read_bytes())
        except FileNotFoundError:
            s = self.control.settings
            try:
                fixtures = digest(Path(s.fixtures).read_bytes())
            except OSError:
                fixtures = str(s.fixtures)
            return f"seed:{s.seed}:{s.orders}:{fixtures}"

    # -- start-up -----------------------------------------------------------------------------
    async def start(self, app: ASGIApp | None = None) -> None:
        """Replay the journal onto the loaded snapshot, then journal new changes."""
        app = app or self.app
        if self.ready or app is None:
            return
        self.ready = True
        base = self.base()
        entries = read_journal(journal_path(self.path), base)
        if entries:
            self.replaying = True
            try:
                for entry in entries:
                    await self._replay(app, entry)
            finally:
                self.replaying = False
            log.info("replayed %d journal entries from %s", len(entries),
                     journal_path(self.path))
        try:
            self.writer = JournalWriter(journal_path(self.path), base, self.interval,
                                        fresh=not entries)
            self.writer.entries = len(entries)
        except OSError as exc:
            log.error("cannot write journal next to %s (%s): changes are saved only on "
                      "shutdown and POST /__mock__/save", self.path, exc)
        self.control.processor.completed.append(self._completed)

    async def _replay(self, app: ASGIApp, entry: dict[str, Any]) -> None:
        if "complete" in entry:
            try:
                self.control.registry.get(None).complete_processing(entry["complete"])
            except Exception:  # noqa: BLE001 - it was a no-op when recorded as well
                pass
            return
        body = base64.b64decode(entry.get("body", ""))
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
            "method": entry["method"], "scheme": "http", "path": entry["path"],
            "raw_path": entry["path"].encode(), "root_path": "",
            "query_string": entry.get("query", "").encode("latin-1"),
            "headers": [(k.encode("latin-1"), v.encode("latin-1"))
                        for k, v in entry.get("headers", [])],
            "server": ("127.0.0.1", 80), "client": ("127.0.0.1", 0), "state": {},
        }
        sent = False

        async def receive() -> Message:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(_message: Message) -> None:
            return None

        backend = self.control.backend(None)
        tokens = (_current.set(backend), _current_session.set(None), parsed_body.set(NO_BODY))
        try:
            await app(scope, receive, send)
        except Exception as exc:  # noqa: BLE001 - a replay must not stop the start
            log.warning("journal replay of %s %s failed: %r", entry["method"], entry["path"],
                        exc)
        finally:
            parsed_body.reset(tokens[2])
            _current_session.reset(tokens[1])
            _current.reset(tokens[0])

    # -- recording ----------------------------------------------------------------------------
    def record(self, scope: Scope, body: bytes) -> None:
        writer = self.writer
        if writer is None or self.replaying:
            return
        entry: dict[str, Any] = {
            "method": scope["method"], "path": scope["path"],
            "headers": [(k.decode("latin-1"), v.decode("latin-1"))
                        for k, v in scope["headers"] if k in _KEPT_HEADERS],
        }
        if scope.get("query_string"):
            entry["query"] = scope["query_string"].decode("latin-1")
        if body:
            entry["body"] = base64.b64encode(body).decode("ascii")
        writer.append(entry)
        if writer.entries >= self.compact_after:
            self.compact()

    def _completed(self, backend: Any, uuid: str) -> None:
        if self.writer is not None and backend is self.control.registry.get(None):
            self.writer.append({"complete": uuid})

    # -- compaction ---------------------------------------------------------------------------
    def compact(self, save: Callable[[], Path] | None = None) -> None:
        """Write the snapshot (atomically) and start an empty journal on it. An explicit `save`
        raises its OSError (POST /__mock__/save answers it); an automatic one logs it and
        keeps journaling on the old snapshot."""
        if save is not None:
            save()
        else:
            try:
                self.control.write_state_file(None)
            except OSError as exc:
                log.error("could not write state file %s: %s", self.path, exc)
                return
        if self.writer is not None:
            try:
                self.writer.restart(self.base())
            except OSError as exc:
                log.error("cannot restart journal %s: %s", self.writer.path, exc)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


class RecordingMiddleware:
    """Inside the control middleware, outside the request guard: replays the journal before the
    first request, and records each 2xx answer to a write of the default session."""

    def __init__(self, app: ASGIApp, store: DurableState) -> None:
        self.app = app
        self.store = store
        store.app = app  # the control middleware replays through it when it is asked first

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        store = self.store
        if not store.ready:
            await store.start(self.app)
        if (scope["type"] != "http" or scope["method"].encode() in READS
                or session_from_scope(scope) is not None):
            await self.app(scope, receive, send)
            return
        await self.app(scope, *recorded(store, scope, receive, send))


def recorded(store: DurableState, scope: Scope, receive: Receive,
             send: Send) -> tuple[Receive, Send]:
    """`receive` and `send` of a write of the default session, wrapped so that its body is kept
    and, when it is answered 2xx, recorded in the journal before the answer leaves."""
    chunks: list[bytes] = []

    async def tee() -> Message:
        message = await receive()
        if message["type"] == "http.request":
            chunks.append(message.get("body", b""))
        return message

    async def watch(message: Message) -> None:
        if message["type"] == "http.response.start" and 200 <= message["status"] < 300:
            # before the answer leaves: in the order the backend applied the changes
            store.record(scope, b"".join(chunks))
        await send(message)

    return tee, watch
