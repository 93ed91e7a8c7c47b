"""Memory and the garbage collector around building worlds: the collector paused while one is
built, freed heap pages given back to the OS afterwards."""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager


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
