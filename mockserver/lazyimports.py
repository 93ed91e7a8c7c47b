"""Imports the server never uses, deferred to their first use (`waldur-mock serve` only).

Connexion imports, at its own import, four libraries for features the stub never serves:
`starlette.testclient` (for `app.test_client()`; it pulls httpx, and httpx its command-line
client's rich/click/pygments when installed), `httpx` (OAuth token introspection), `requests`
(`$ref`s to URLs) and Flask (`connexion.FlaskApp`). Together ~0.15 s of every cold start.
Inside `deferred()`:

* `import requests` / `import httpx` bind a stand-in module that imports the real one on its
  first attribute access (`requests.get(...)`), and forwards every access to it;
* `from starlette.testclient import TestClient` takes a stand-in function that imports the real
  module and builds the real client;
* `flask` looks uninstalled (`sys.modules["flask"] = None`): Connexion then takes its own
  "installed without the flask extra" branches (`connexion.FlaskApp` is its "please install"
  stub); the stub is an AsyncApp and never uses Flask.

On the way out the stand-ins and the block are removed from `sys.modules`, so any later import
gets the real module. tests/test_lazyimports.py checks, in a fresh interpreter, that the
deferred modules stay unloaded through start-up and that each deferred feature still works.
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

DEFERRED = ("requests", "httpx", "starlette.testclient")
ABSENT = ("flask",)


def _stand_in(name: str) -> types.ModuleType | None:
    """A module that imports the real `name` on its first attribute access (PEP 562). Plain
    `__spec__ = None`, so that the import system hands it out without touching it (Python
    3.11's LazyLoader loads on that very check). `starlette.testclient` also gets a `TestClient`
    that builds the real client: `from starlette.testclient import TestClient` takes it."""
    if name in sys.modules:
        return None
    module = types.ModuleType(name, "stand-in until first use (mockserver.lazyimports)")
    module.__spec__ = None

    def real() -> types.ModuleType:
        if sys.modules.get(name) is module:
            del sys.modules[name]
        return importlib.import_module(name)

    def __getattr__(attr: str) -> Any:  # noqa: N807 - the module-level hook
        if attr.startswith("__"):  # the import system probing (`__path__` on a from-import)
            raise AttributeError(attr)
        return getattr(real(), attr)

    def TestClient(*args: Any, **kwargs: Any) -> Any:  # noqa: N802 - the stood-in class
        return real().TestClient(*args, **kwargs)

    module.__getattr__ = __getattr__  # type: ignore[method-assign]
    if name == "starlette.testclient":
        module.TestClient = TestClient  # type: ignore[attr-defined]
    sys.modules[name] = module
    return module


@contextmanager
def deferred() -> Iterator[None]:
    """Import inside it: the modules of `DEFERRED` not yet imported are stood in for, those of
    `ABSENT` look uninstalled."""
    stand_ins = {name: _stand_in(name) for name in DEFERRED}
    absent = [name for name in ABSENT if name not in sys.modules]
    for name in absent:
        sys.modules[name] = None  # type: ignore[assignment]  # the documented import block
    try:
        yield
    finally:
        for name in absent:
            if sys.modules.get(name, 0) is None:
                del sys.modules[name]
        for name, module in stand_ins.items():
            if module is not None and sys.modules.get(name) is module:
                del sys.modules[name]
