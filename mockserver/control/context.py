"""`Control`: everything the control features share for one app (no module-level state, so
several stubs can run in one process, e.g. under the pytest plugin)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from starlette.types import Message, Receive, Scope

from mockserver.control import sessions
from mockserver.control.faults import FaultBook
from mockserver.control.journal import Journal
from mockserver.control.operations import OperationMatcher
from mockserver.control.persistence import (
    InvalidState,
    StateFileError,
    encode_state,
    import_backend,
    read_state_file,
    write_atomically,
)
from mockserver.control.processor import Processor
from mockserver.registry import BackendRegistry, type_of_backend
from mockserver.settings import Settings

log = logging.getLogger("mockserver.control")


class Control:
    def __init__(self, settings: Settings, registry: BackendRegistry) -> None:
        from mockserver.control.api import ControlAPI
        from mockserver.control.docs import DocsApp

        self.settings = settings
        self.registry = registry
        self.operations = OperationMatcher()
        self.journal = Journal(int(settings.extra.get("journal_size", 1000)))
        self.faults = FaultBook(settings.seed, self.operations.operation_ids)
        self.processor = Processor(settings.process_delay)
        self.api = ControlAPI(self)
        self.docs = DocsApp(self)
        self.durable: Any = None  # journal_store.DurableState with --state-file

    # -- sessions ----------------------------------------------------------------------------

    def backend(self, session: str | None) -> Any:
        """The session's backend, with the command line's policy applied and the background
        processor hooked (must run in the event loop)."""
        backend = self.registry.get(session)
        sessions.configure(backend, self.settings)
        self.processor.attach(backend)
        return backend

    def reset(self, session: str | None) -> Any:
        # no reference to the old world kept here: the registry frees it before building anew
        self.processor.detach(self.registry.get(session))
        self.registry.reset(session)
        self.faults.clear(session)
        self.journal.clear(session)
        return self.backend(session)

    def drop(self, session: str | None) -> None:
        """Forget a session (its next request starts again from the seed)."""
        if session in self.registry.sessions():
            self.processor.detach(self.registry.get(session))
            self.registry.drop(session)
        self.faults.clear(session)
        self.journal.clear(session)

    def load(self, session: str | None, data: dict[str, Any]) -> Any:
        """Replace the session's backend with an imported state (InvalidState on failure)."""
        backend = import_backend(type_of_backend(), data)
        sessions.configure(backend, self.settings)
        if session in self.registry.sessions():
            self.processor.detach(self.registry.get(session))
        sessions.replace_backend(self.registry, session, backend)
        return self.backend(session)

    def username(self, session: str | None, scope: Scope) -> str | None:
        """The user a request's token belongs to (never the token), or None."""
        return sessions.username_for(self.registry.get(session), scope)

    # -- state file --------------------------------------------------------------------------

    @property
    def state_file(self) -> Path | None:
        return Path(self.settings.state_file) if self.settings.state_file else None

    def load_state_file(self) -> bool:
        """Load --state-file into the default session if the file exists (StateFileError)."""
        path = self.state_file
        if path is None:
            return False
        data = read_state_file(path)
        if data is None:
            log.info("state file %s does not exist yet: starting from the seed", path)
            return False
        try:
            self.load(None, data)
        except InvalidState as exc:
            raise StateFileError(f"state file {path} cannot be loaded: {exc}") from None
        log.info("loaded state from %s", path)
        return True

    def save_state_file(self, session: str | None = None) -> Path:
        """Write the snapshot; with the journal, start a fresh one on it (compaction)."""
        if self.durable is None:
            return self.write_state_file(session)
        saved: list[Path] = []
        self.durable.compact(lambda: saved.append(self.write_state_file(session)) or saved[0])
        return saved[0]

    def write_state_file(self, session: str | None = None) -> Path:
        path = self.state_file
        assert path is not None
        backend = self.registry.get(session)
        sessions.configure(backend, self.settings)
        write_atomically(path, encode_state(backend.export_state()))
        return path

    def lifespan_receive(self, receive: Receive) -> Receive:
        """Wrap the lifespan channel: save the state file when the server shuts down."""

        async def wrapped() -> Message:
            message = await receive()
            if message["type"] == "lifespan.shutdown" and self.state_file is not None:
                try:
                    path = self.save_state_file(None)
                    log.info("saved state to %s", path)
                except OSError as exc:
                    log.error("could not save state to %s: %s", self.state_file, exc)
                if self.durable is not None:
                    self.durable.close()
            return message

        return wrapped
