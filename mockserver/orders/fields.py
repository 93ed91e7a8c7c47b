"""Request-body fields with DRF's semantics and texts (no HTTP, no state).

Each field function checks one field and raises ValidationError({name: [...]}) for it;
FieldErrors runs several and reports all field errors of a body at once, as a DRF serializer
does (`is_valid()` collects every field before it raises).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import cache
from typing import Any, TypeVar
from urllib.parse import urlsplit

from mockserver import spec
from mockserver.orders.exceptions import ValidationError

REQUIRED = "This field is required."
NOT_STRING = "Not a valid string."
NOT_NULL = "This field may not be null."
NOT_BLANK = "This field may not be blank."
INVALID_URL = "Enter a valid URL."

T = TypeVar("T")


@cache
def body_fields(action: str, media_type: str = "application/json") -> dict[str, str]:
    """name -> "file" | "url" | "text": the fields of an order action's request body as the
    spec lists them for `media_type`, in its order (the order DRF reports errors in)."""
    props = spec.request_properties(f"marketplace_orders_{action}", media_type)
    kinds = {"binary": "file", "uri": "url"}
    return {name: kinds.get(sch.get("format", ""), "text") for name, sch in props.items()}


def field_error(name: str, message: str) -> ValidationError:
    return ValidationError({name: [message]})


class FieldErrors(dict[str, list[str]]):
    """The field errors of one body: `check(fn, *args)` runs a field function, keeps its
    error and returns None in its place."""

    def check(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
        try:
            return fn(*args, **kwargs)
        except ValidationError as exc:
            self.update(exc.body)
            return None

    def raise_if_any(self) -> None:
        if self:
            raise ValidationError(dict(self))


def body_dict(data: Any) -> dict[str, Any]:
    """The parsed body as a dict (None -> {}); another JSON value -> DRF's non-field error."""
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValidationError({"non_field_errors": [
            f"Invalid data. Expected a dictionary, but got {py_type(data)}."]})
    return data


def py_type(value: Any) -> str:
    return {bool: "bool", int: "int", float: "float", str: "str", list: "list",
            dict: "dict"}.get(type(value), type(value).__name__)


def dict_error(value: Any) -> str:
    return f'Expected a dictionary of items but got type "{py_type(value)}".'


def char_field(body: dict[str, Any], name: str, *, required: bool = False,
               allow_null: bool = False, allow_blank: bool = False, trim: bool = True,
               max_length: int | None = None, url: bool = False) -> str | None:
    """A DRF CharField (URLField with `url`): missing -> None (or required), null -> None
    where allowed, numbers coerced to text; validators (max length, URL) all reported."""
    if name not in body:
        if required:
            raise field_error(name, REQUIRED)
        return None
    value = body[name]
    if value is None:
        if allow_null:
            return None
        raise field_error(name, NOT_NULL)
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise field_error(name, NOT_STRING)
    text = str(value).strip() if trim else str(value)
    if not allow_blank and not text.strip():
        raise field_error(name, NOT_BLANK)
    problems = []
    if max_length is not None and len(text) > max_length:
        problems.append(f"Ensure this field has no more than {max_length} characters.")
    if url and text and not valid_url(text):
        problems.append(INVALID_URL)
    if problems:
        raise ValidationError({name: problems})
    return text


def strings(body: dict[str, Any], names: tuple[str, ...],
            nullable: tuple[str, ...] = ()) -> dict[str, str]:
    """Optional, blank-allowed CharFields given as sent (no trimming); null only where
    `nullable` allows it. All errors at once."""
    out: dict[str, str] = {}
    errors = FieldErrors()
    for name in names:
        value = errors.check(char_field, body, name, allow_null=name in nullable,
                             allow_blank=True, trim=False)
        if value is not None:
            out[name] = value
    errors.raise_if_any()
    return out


def date_field(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError("Date has wrong format. Use one of these formats instead: YYYY-MM-DD.")


def valid_url(text: str) -> bool:
    try:
        parts = urlsplit(text)
    except ValueError:
        return False
    return parts.scheme in ("http", "https", "ftp", "ftps") and bool(parts.netloc)
