"""The Schemathesis settings shared with a plain `st run`: contract_tests/schemathesis.toml (the
repository root's `schemathesis.toml` links to it). The harness starts from this file and lays
only its run's choices (target, token, examples, phases, seed) over it, so the allowances for a
Waldur server are written once."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Any

CONFIG_PATH = Path(__file__).resolve().parent / "schemathesis.toml"
# Loaded by the harness itself (contract_tests.hooks and .checks on import): not through the file.
HARNESS_OWN_KEYS = ("hooks",)


@cache
def _shared() -> dict[str, Any]:
    with open(CONFIG_PATH, "rb") as fh:
        return tomllib.load(fh)


def shared_settings() -> dict[str, Any]:
    """The file's settings (a fresh copy), minus the keys the harness provides itself."""
    return merged({k: v for k, v in _shared().items() if k not in HARNESS_OWN_KEYS}, {})


def merged(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """`over` laid on `base`, table by table (a fresh dict; neither argument changes)."""
    out = {k: (merged(v, {}) if isinstance(v, dict) else v) for k, v in base.items()}
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merged(out[key], value)
        else:
            out[key] = merged(value, {}) if isinstance(value, dict) else value
    return out
