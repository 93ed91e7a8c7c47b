"""The run in progress, as seen by checks and hooks.

Schemathesis checks and hooks are global functions; they find the harness run through `current()`
and do nothing when no harness run is active (so importing this package never changes other
Schemathesis users). One run at a time per process: the harness runs with one worker.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from contract_tests.options import HarnessOptions
from contract_tests.redact import Redactor
from contract_tests.target import Target


@dataclass
class Ledger:
    """Orders the harness created on a non-stub target, and what became of them."""

    created: list[str] = field(default_factory=list)
    removed: dict[str, str] = field(default_factory=dict)  # uuid -> how (DELETE, unlink, ...)
    left: dict[str, str] = field(default_factory=dict)  # uuid -> why it could not be removed
    unacknowledged: list[str] = field(default_factory=list)  # created without a 201 seen

    def add(self, uuid: str) -> None:
        if uuid not in self.created:
            self.created.append(uuid)

    def owns(self, uuid: str) -> bool:
        return uuid.replace("-", "").lower() in self.created


@dataclass
class RunContext:
    options: HarnessOptions
    target: Target
    redactor: Redactor
    ledger: Ledger = field(default_factory=Ledger)
    before_state: dict[str, dict[str, Any] | None] = field(default_factory=dict)  # case.id -> order
    notes: list[str] = field(default_factory=list)
    deleted: set[str] = field(default_factory=set)  # uuids removed by a 204 (destroy / unlink)
    references: list[tuple[str, str, str | None]] = field(default_factory=list)  # for creates
    memo: set[tuple[object, ...]] = field(default_factory=set)  # checks' "already done" keys
    # (action, state before, status) for every action call on an existing order
    lifecycle: Counter[tuple[str, str, int]] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, text: str) -> None:
        with self.lock:
            if text not in self.notes:
                self.notes.append(text)


_CURRENT: RunContext | None = None


def current() -> RunContext | None:
    return _CURRENT


def activate(ctx: RunContext | None) -> None:
    global _CURRENT
    _CURRENT = ctx
