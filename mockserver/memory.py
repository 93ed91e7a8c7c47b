"""Memory and the garbage collector around building worlds: the collector paused while one is
built, freed heap pages given back to the OS afterwards."""

from __future__ import annotations

import gc
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import cache


@contextmanager
def collector_off(then: Callable[[], object]) -> Iterator[None]:
    """Run the block without the cyclic garbage collector, then call `then` and switch the
    collector back on. When someone else has switched it off, it is left alone (no `then`)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        then()
        gc.enable()


# `serve`'s collector thresholds (CPython's default is (700, 10, 10)). See `tune_for_serving`.
SERVING_THRESHOLDS = (20_000, 10, 10)


def tune_for_serving() -> None:
    """Collect the youngest generation every 20,000 net allocations instead of every 700.

    Each create keeps ~8 new containers (the order, its resource, their dicts), so with the
    default a young collection ran every ~90 creates, a middle one every ~900 and, as the kept
    objects piled up, full ones over everything created since start: measured served under a
    stream of creates at 10k orders, 0.45 s of collector time per ~25k creates (~19 µs per
    create; full collections of ~90 ms each). With these thresholds: 0.08-0.12 s (~4 µs),
    young pauses of ~4.5 ms and no full collection in that stream. What is kept is the same;
    cyclic garbage waits longer to be freed (at most ~20k objects)."""
    gc.set_threshold(*SERVING_THRESHOLDS)


def release_free_memory() -> None:
    """Give the heap pages freed while a world was built, or by the world a reset replaced,
    back to the OS (glibc's malloc_trim: ~5 MiB of resident memory after the first build at
    100k orders, more after a reset; about a millisecond). A no-op where there is no glibc."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        trim = ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):  # musl and other libcs
        return
    trim(0)


def untrack(*groups: Iterable[object]) -> None:
    """Take these objects off the cyclic garbage collector's lists (CPython; elsewhere a no-op).

    For a world's orders and resources: they are in no reference cycle (an order points at its
    resource, project, offering, plan and users; nothing points back at an order or resource
    except the world's and the backend's containers), so reference counting alone frees them
    when their world goes, and the collector only ever traversed them for nothing: 0.3-0.4 s
    of a 100k-order cold start for the one collection after the build, 0.7 s for every full
    collection while serving. A cycle through an untracked object would only leak, never
    crash; new orders created through the API stay tracked.
    """
    untrack_one = _gc_untrack()
    if untrack_one is None:
        return
    for objects in groups:
        deque(map(untrack_one, objects), maxlen=0)  # ~0.3 us per object, in C loops


@cache
def _gc_untrack() -> Callable[[object], None] | None:
    if sys.implementation.name != "cpython":
        return None
    try:
        import ctypes

        return ctypes.PYFUNCTYPE(None, ctypes.py_object)(
            ("PyObject_GC_UnTrack", ctypes.pythonapi))
    except (ImportError, AttributeError, OSError):  # a Python built without ctypes
        return None
