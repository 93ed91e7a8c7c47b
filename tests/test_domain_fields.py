"""DRF field semantics of request bodies (mockserver/orders/fields.py)."""

from __future__ import annotations

import pytest

from mockserver.orders.exceptions import ValidationError
from mockserver.orders.fields import FieldErrors, body_fields, char_field, strings


def test_body_fields_come_from_the_spec() -> None:
    assert body_fields("set_provider_info", "multipart/form-data") == {
        "provider_message": "text", "provider_message_url": "url",
        "provider_message_attachment": "file"}
    assert body_fields("set_consumer_info") == {"consumer_message": "text"}
    assert tuple(body_fields("reject_by_consumer")) == (
        "error_message", "error_traceback", "consumer_rejection_comment")
    assert body_fields("cancel") == {}


def test_field_errors_collect_every_field() -> None:
    errors = FieldErrors()
    body = {"a": None, "b": [], "c": 7, "u": "x" * 5}
    assert errors.check(char_field, body, "a") is None
    assert errors.check(char_field, body, "b") is None
    assert errors.check(char_field, body, "c") == "7"
    assert errors.check(char_field, body, "u", max_length=3, url=True) is None
    assert errors.check(char_field, body, "missing", required=True) is None
    with pytest.raises(ValidationError) as exc:
        errors.raise_if_any()
    assert exc.value.body == {
        "a": ["This field may not be null."], "b": ["Not a valid string."],
        "u": ["Ensure this field has no more than 3 characters.", "Enter a valid URL."],
        "missing": ["This field is required."]}
    FieldErrors().raise_if_any()  # nothing collected: no error


def test_char_field_blank_and_trim() -> None:
    assert char_field({"a": "  x "}, "a") == "x"
    assert char_field({"a": "  x "}, "a", trim=False) == "  x "
    assert char_field({"a": " "}, "a", allow_blank=True) == ""
    with pytest.raises(ValidationError) as exc:
        char_field({"a": " "}, "a")
    assert exc.value.body == {"a": ["This field may not be blank."]}
    assert strings({"a": None, "b": 1.5}, ("a", "b"), nullable=("a",)) == {"b": "1.5"}
