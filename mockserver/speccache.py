"""Start-up shortcuts for the spec: the composed spec (`spec.load_spec`) and Connexion's resolved
`Specification` of it, pickled next to the world cache (`mockserver.world.cache.cache_dir`).

Parsing the ~370 KB of YAML costs ~0.16 s even with libyaml, and Connexion resolves the spec
(three deep copies and a `$ref` walk) in ~0.04 s each time it is loaded; unpickling either takes
~5 ms. The key hashes every input: the bytes of each `openapi/*.yaml`, the source of `spec.py`
(it composes them), the versions of Python, PyYAML, Connexion and the package, and
`FORMAT`. A changed file is a new key, so a stale entry is never read. Like the world cache it
is only a shortcut: written atomically, any failure to read or write is ignored (a read-only or
missing directory just parses the YAML), `WALDUR_MOCK_CACHE=0` turns it off.
"""

from __future__ import annotations

import hashlib
import logging
import pickle
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path
from typing import TypeVar

from mockserver.world.cache import cache_dir, library_stamp, store_entry

log = logging.getLogger("mockserver.speccache")

T = TypeVar("T")
FORMAT = b"speccache-1"
KEEP = 4  # newest entries kept per name
_LIBRARIES = ("yaml", "connexion")  # the parse and Connexion's resolved copy depend on them


@cache
def _versions() -> bytes:
    return library_stamp(_LIBRARIES)


def key(name: str, inputs: Iterable[Path]) -> str:
    """The entry's key: `name`, the versions, and each input file's name and bytes."""
    h = hashlib.sha256(FORMAT + b"\0" + name.encode() + b"\0" + _versions())
    for path in inputs:
        h.update(b"\0" + path.name.encode() + b"\0")
        h.update(path.read_bytes())
    return h.hexdigest()[:40]


def load(name: str, inputs: Iterable[Path], build: Callable[[], T]) -> T:
    """`build()` for these inputs, from the cache when it holds it (see the module docstring)."""
    path = _entry(name, inputs)
    blob = _read(path)
    if blob is not None:
        try:
            return pickle.loads(blob)  # noqa: S301 - our own file, keyed on its inputs
        except Exception as exc:  # noqa: BLE001 - a damaged entry: rebuild it
            log.warning("spec cache %s unreadable (%r): rebuilding", path, exc)
    value = build()
    if path is not None:
        _store(path, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL), name)
    return value


def load_blob(name: str, inputs: Iterable[Path], build: Callable[[], T]) -> tuple[bytes, T]:
    """Like `load`, but also the pickle itself: a caller that needs a private copy of the value
    each time unpickles the bytes again (~5 ms for the resolved spec)."""
    path = _entry(name, inputs)
    blob = _read(path)
    if blob is not None:
        try:
            return blob, pickle.loads(blob)  # noqa: S301 - our own file, keyed on its inputs
        except Exception as exc:  # noqa: BLE001 - a damaged entry: rebuild it
            log.warning("spec cache %s unreadable (%r): rebuilding", path, exc)
    value = build()
    blob = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    if path is not None:
        _store(path, blob, name)
    return blob, value


def _entry(name: str, inputs: Iterable[Path]) -> Path | None:
    directory = cache_dir()
    if directory is None:
        return None
    try:
        return directory / f"{name}-{key(name, inputs)}.pickle"
    except OSError:  # an input cannot be read: no key, no cache
        return None


def _read(path: Path | None) -> bytes | None:
    if path is None:
        return None
    try:
        return path.read_bytes()
    except OSError:
        return None


def _store(path: Path, blob: bytes, name: str) -> None:
    try:
        store_entry(path, blob, name, KEEP)
    except Exception as exc:  # noqa: BLE001 - the cache is optional
        log.debug("spec cache not written (%r)", exc)
