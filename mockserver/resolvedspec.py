"""Connexion's `Specification` of the served spec, resolved once per spec and Connexion version.

Connexion loads a spec dict by deep-copying it three times and resolving every `$ref` (~0.04 s
for this spec, and the app and both fast paths each did it). Here it is built once, pickled in
the spec cache (mockserver/speccache.py) and unpickled (~5 ms) wherever a Specification is
needed: `fresh()` gives a private copy (each app's API gets its own, as Connexion would build
it), `shared()` one copy for the fast paths' operation lookups (read-only).
"""

from __future__ import annotations

import copy
import pickle
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

from connexion.spec import Specification

from mockserver import spec, speccache


@contextmanager
def trusted() -> Iterator[None]:
    """Skip Connexion's start-up check of the spec against the OpenAPI 3.0 meta-schema (about
    0.2 s, the largest part of start-up): tests/ and the contract suite validate the spec."""
    original = Specification.__dict__["_validate_spec"]
    Specification._validate_spec = classmethod(lambda cls, raw: None)  # type: ignore[assignment]
    try:
        yield
    finally:
        Specification._validate_spec = original  # type: ignore[method-assign]


def build() -> Specification:
    """What Connexion's `add_api(spec dict)` builds from the served spec."""
    with trusted():
        return Specification.load(copy.deepcopy(spec.load_spec()))


@cache
def _cached() -> tuple[bytes, Specification]:
    return speccache.load_blob("connexion-spec", spec.spec_inputs(), build)


def fresh() -> Specification:
    """A private copy of the resolved served spec (equal to `build()`)."""
    return pickle.loads(_cached()[0])  # noqa: S301 - pickled by this process or our cache


def shared() -> Specification:
    """One resolved copy for lookups that never change it (the fast paths' operations)."""
    return _cached()[1]


@contextmanager
def served_as(raw: dict[str, Any], specification: Specification) -> Iterator[None]:
    """While inside, Connexion's `Specification.load(raw)` returns `specification` (built from
    that same dict) instead of resolving `raw` once more; any other spec loads as usual.
    tests/test_speccache.py checks that the app's API really gets it."""
    original = Specification.__dict__["load"]

    def load(cls: type[Specification], spec: Any, *, arguments: Any = None) -> Specification:
        if spec is raw and not arguments:
            return specification
        return original.__func__(cls, spec, arguments=arguments)

    Specification.load = classmethod(load)  # type: ignore[method-assign, assignment]
    try:
        yield
    finally:
        Specification.load = original  # type: ignore[method-assign]
