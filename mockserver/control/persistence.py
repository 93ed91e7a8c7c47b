"""State as bytes, and the `--state-file`: loaded at start when it exists, saved on shutdown and on
POST /__mock__/save. Saving writes a temporary file next to the target and `os.replace`s it, so
the previous file is never left half written."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import orjson


class StateFileError(ValueError):
    """The state file cannot be read or does not hold a state the stub can load (a ValueError,
    so `waldur-mock serve` reports it as `waldur-mock: <message>` and exits with status 2)."""


class InvalidState(ValueError):
    """A state document (file or PUT body) the backend cannot import."""


def encode_state(state: dict[str, Any]) -> bytes:
    """The canonical bytes of an exported state (GET /__mock__/state and the state file)."""
    try:
        return orjson.dumps(state, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"
    except TypeError:  # integers beyond 64 bits in client-sent attributes/limits (never a 500)
        return json.dumps(state, indent=2, sort_keys=True, ensure_ascii=False,
                          allow_nan=False).encode() + b"\n"


def decode_state(raw: bytes) -> dict[str, Any]:
    """Parse a state document; InvalidState with a readable reason otherwise."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise InvalidState(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise InvalidState(
            f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    if not isinstance(data, dict):
        raise InvalidState(f"expected a JSON object, got {type(data).__name__}")
    return data


def import_backend(backend_type: Any, data: dict[str, Any]) -> Any:
    """`backend_type.import_state(data)`, any failure turned into InvalidState."""
    try:
        return backend_type.import_state(data)
    except InvalidState:
        raise
    except Exception as exc:  # noqa: BLE001 - any defect of the document is the caller's error
        reason = str(exc) or type(exc).__name__
        if isinstance(exc, KeyError):
            reason = f"missing key {exc}"
        raise InvalidState(f"not a state exported by this stub ({reason})") from None


def read_state_file(path: Path) -> dict[str, Any] | None:
    """The state stored in `path`, or None when there is no such file."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StateFileError(f"cannot read state file {path}: {exc.strerror}") from None
    try:
        return decode_state(raw)
    except InvalidState as exc:
        raise StateFileError(f"state file {path} is corrupt: {exc}") from None


def write_atomically(path: Path, data: bytes) -> None:
    """Write `data` to `path` via a temporary file in the same directory and os.replace."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = path.stat().st_mode & 0o777  # keep the previous file's permissions
    except OSError:
        mode = 0o644
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        raise
