"""An on-disk cache of built worlds: start-up loads a pickled world instead of generating it.

Building 10k orders costs ~0.3 s (100k: ~3-4 s); loading the same world about a sixth of that,
and it spares the Faker import. The key hashes everything a world depends on: the seed, the
order count, the fixtures file's bytes, the source of the modules that build and define it
(`world/`, `orders/entities.py`, `orders/statemachine.py`, `orders/permissions.py`), the
package, Python and Faker versions. A changed input is a new key, so a stale entry is never
read. The pickle is our own (written by this module, in the user's cache directory, atomically),
and it is only a shortcut: any failure to read or write it is ignored (a read-only file system
just starts slower), and a world from the cache is the very object graph a build gives (the
registry's reset snapshot relies on the same: tests/test_world_cache.py compares the answers).

Used for worlds of `MIN_ORDERS` to `MAX_ORDERS` generated orders: smaller ones build in
milliseconds (test suites build hundreds). The file stores orders and resources by columns
(world/packing.py, ~350 bytes per order): a 100k world loads in ~0.5 s of CPU instead of a
~3 s build, and takes less memory than a built one (a plain pickle of it took ~4x as long to
load and left ~80 MiB more resident). `WALDUR_MOCK_CACHE_DIR` moves the cache;
`WALDUR_MOCK_CACHE=0` turns it off.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import sys
import tempfile
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from mockserver.world import packing

log = logging.getLogger("mockserver.world.cache")

MIN_ORDERS = 2_000
MAX_ORDERS = 250_000
KEEP = 8  # newest cache files kept (a 100k world is ~33 MiB)
_PACKAGE = Path(__file__).resolve().parent.parent
# (agent/: the site agent's records are part of the world; its offering users are seeded at build)
_SOURCES = ("world", "orders/entities.py", "orders/statemachine.py", "orders/permissions.py",
            "agent")


def cache_dir() -> Path | None:
    if os.environ.get("WALDUR_MOCK_CACHE", "1") == "0":
        return None
    explicit = os.environ.get("WALDUR_MOCK_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "waldur-orders-mock" / "worlds"


@cache
def _code_digest() -> str:
    h = hashlib.sha256()
    for name in _SOURCES:
        path = _PACKAGE / name
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        for f in files:
            h.update(f.relative_to(_PACKAGE).as_posix().encode() + b"\0")
            h.update(f.read_bytes())
    h.update(library_stamp(("faker",)))
    h.update(sys.version.encode())
    return h.hexdigest()


def library_stamp(modules: tuple[str, ...]) -> bytes:
    """Which installed copy of each library (its `__init__.py`'s path, size and mtime): another
    version rewrites the file. Cheaper than `importlib.metadata` (~20 ms to import, plus a parse
    of each METADATA file), which serve no longer needs on its way to the first answer."""
    parts = [sys.version]
    for name in modules:
        found = importlib.util.find_spec(name)
        origin = found.origin if found is not None else None
        if origin is None:
            parts.append(f"{name}=?")
            continue
        st = os.stat(origin)
        parts.append(f"{name}={origin}:{st.st_size}:{st.st_mtime_ns}")
    return "|".join(parts).encode()


def key(fixtures: Path, seed: int, orders: int) -> str:
    h = hashlib.sha256(_code_digest().encode())
    h.update(f"|{seed}|{orders}|".encode())
    h.update(Path(fixtures).read_bytes())
    return h.hexdigest()[:40]


def load_or_build(fixtures: Path, seed: int, orders: int, build: Callable[[], Any]) -> Any:
    """The world for (fixtures, seed, orders): from the cache, else `build()` (then stored)."""
    directory = cache_dir()
    if directory is None or not MIN_ORDERS <= orders <= MAX_ORDERS:
        return build()
    try:
        path = directory / f"world-{key(fixtures, seed, orders)}.pickle"
    except OSError:
        return build()
    try:
        blob = path.read_bytes()
    except OSError:
        blob = None
    if blob is not None:
        try:
            return packing.loads(blob)  # our own file, keyed on its inputs
        except Exception as exc:  # noqa: BLE001 - a damaged cache entry: rebuild
            log.warning("world cache %s unreadable (%r): rebuilding", path, exc)
    world = build()
    _store(directory, path, world)
    return world


def _store(directory: Path, path: Path, world: Any) -> None:
    try:
        store_entry(path, packing.dumps(world), "world", KEEP)
    except Exception as exc:  # noqa: BLE001 - the cache is optional
        log.debug("world cache not written (%r)", exc)


def store_entry(path: Path, blob: bytes, name: str, keep: int) -> None:
    """Write a cache entry atomically (a temporary file renamed over `path`: a reader never sees
    half of it), then keep only the newest `keep` `<name>-*.pickle` entries of its directory."""
    directory = path.parent
    directory.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{name}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(blob)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    entries = sorted(directory.glob(f"{name}-*.pickle"), key=lambda p: p.stat().st_mtime)
    for old in entries[:-keep]:
        old.unlink(missing_ok=True)
