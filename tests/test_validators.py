"""mockserver.validators.parse_json: the orjson shortcut reads every body as DRF's JSONParser
(`json.loads` with strict constants) does, value for value and error for error."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver import validators
from mockserver.validators import ParseError, parse_json


def drf(raw: bytes) -> Any:
    """The parse without the shortcut: what DRF's JSONParser does."""
    if not raw:
        return {}
    try:
        text = raw.decode("utf-8")
        if text.startswith("\ufeff"):
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
        return validators._DECODER.decode(text)
    except ValueError as exc:
        raise ParseError(validators.detail(f"JSON parse error - {exc}")) from None


def outcome(parse: Any, raw: bytes) -> tuple[str, Any]:
    try:
        value = parse(raw)
    except ParseError as exc:
        return "error", exc.detail if hasattr(exc, "detail") else str(exc)
    return "value", json.dumps(value, sort_keys=False), type_tree(value)


def type_tree(value: Any) -> Any:
    """Types all the way down: 1 and 1.0 compare equal, their answers do not."""
    if isinstance(value, dict):
        return {k: type_tree(v) for k, v in value.items()}
    if isinstance(value, list):
        return [type_tree(v) for v in value]
    if isinstance(value, float) and math.copysign(1, value) < 0:
        return "negative float"
    return type(value).__name__


TRICKY = [
    b"", b"{}", b" {} ", b"null", b"[]", b'{"a":1,"a":2}', b"-0", b"-0.0", b"1E2", b"1e400",
    b"-1e400", b"0.1e-400", b"NaN", b"[NaN]", b"Infinity", b"-Infinity", b'"\\ud800"',
    b'"\\ud83d\\ude00"', b'"\\u0000"', b'"\x01"', b"18446744073709551615",
    b"18446744073709551616", b"-9223372036854775808", b"-9223372036854775809",
    b"123456789012345678", b"1234567890123456789", b'{"n": 99999999999999999999}',
    b'{"s": "12345678901234567890"}', b"0.30000000000000004", b"1.7976931348623157e308",
    b"5e-324", b"\xef\xbb\xbf{}", b'{"a":"\xc3"}', b'{"a":"\xc3\xa9"}', b"{", b"[1,]", b"01",
    b"1 2", b'{"a" 1}', b"\t[\r\n]\n", b"\x0c[]", b"[\"a\\/b\"]", b'{"":{"":[{}]}}', b"tru",
    b'"\\x41"', b"[1.0, 1, -1, 1e0]",
]


@pytest.mark.parametrize("raw", TRICKY)
def test_tricky_bodies_read_as_drf_reads_them(raw: bytes) -> None:
    assert outcome(parse_json, raw) == outcome(drf, raw)


def test_the_shortcut_is_taken_for_a_plain_body(monkeypatch: pytest.MonkeyPatch) -> None:
    used: list[bytes] = []
    real = validators.orjson.loads

    def spy(raw: bytes) -> Any:
        used.append(raw)
        return real(raw)

    monkeypatch.setattr(validators.orjson, "loads", spy)
    assert parse_json(b'{"attributes": {"name": "x"}}') == {"attributes": {"name": "x"}}
    assert parse_json(b'{"n": 12345678901234567890}') == {"n": 12345678901234567890}
    assert used == [b'{"attributes": {"name": "x"}}']  # a long digit run goes to json


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(json_values, st.sampled_from([None, 0, 2]))
def test_any_json_reads_as_drf_reads_it(value: Any, indent: int | None) -> None:
    raw = json.dumps(value, indent=indent, ensure_ascii=False).encode("utf-8", "surrogatepass")
    assert outcome(parse_json, raw) == outcome(drf, raw)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=40) | st.text(max_size=20).map(lambda t: t.encode("utf-8", "replace")))
def test_any_bytes_read_as_drf_reads_them(raw: bytes) -> None:
    assert outcome(parse_json, raw) == outcome(drf, raw)
