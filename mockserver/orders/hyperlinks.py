"""Hyperlinked fields of the create body (DRF HyperlinkedRelatedField): URL -> object.

A resolver maps a URL path to the object or to the reason it is refused: "no-match" (no route),
"incorrect" (a route of another kind of object) or "missing" (no such object).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import urlsplit

from mockserver.orders.entities import Offering, Plan
from mockserver.orders.fields import NOT_NULL, REQUIRED, py_type

T = TypeVar("T")

MESSAGES = {
    "no-match": "Invalid hyperlink - No URL match.",
    "incorrect": "Invalid hyperlink - Incorrect URL match.",
    "missing": "Invalid hyperlink - Object does not exist.",
}
KNOWN_API_PREFIXES = {"projects", "marketplace-public-offerings", "marketplace-provider-offerings",
                      "marketplace-plans", "marketplace-offerings", "customers", "users",
                      "marketplace-resources", "marketplace-orders"}


def hyperlink_field(body: dict[str, Any], name: str, errors: dict[str, list[str]],
                    resolver: Callable[[str], Any]) -> Any:
    """A hyperlinked field: required (but `plan`), string, URL match, object exists (DRF
    texts). The object, or None with the error added to `errors`."""
    if name not in body:
        if name != "plan":
            errors[name] = [REQUIRED]
        return None
    value = body[name]
    if value is None:
        errors[name] = [NOT_NULL]
        return None
    if not isinstance(value, str):
        errors[name] = [f"Incorrect type. Expected URL string, received {py_type(value)}."]
        return None
    try:
        found = resolver(urlsplit(value).path)
    except ValueError:
        found = "no-match"
    if isinstance(found, str):
        errors[name] = [MESSAGES[found]]
        return None
    return found


def detail_from_path(path: str, prefix: str, objects: Mapping[str, T]) -> T | str:
    """`/api/<prefix>/<hex>/` -> the object of `objects` (by hex uuid), else the reason."""
    parts = _segments(path)
    if len(parts) == 3 and parts[:2] == ["api", prefix]:
        hex_ = _hex(parts[2])
        if hex_ is None:
            return "no-match"
        return objects.get(hex_) or "missing"
    return _other_api_url(parts)


def plan_from_path(path: str, offerings: Mapping[str, Offering]) -> Plan | str:
    """`/api/marketplace-public-offerings/<hex>/plans/<hex>/` -> the plan, else the reason."""
    parts = _segments(path)
    if (len(parts) == 5 and parts[:2] == ["api", "marketplace-public-offerings"]
            and parts[3] == "plans"):
        off_hex, plan_hex = _hex(parts[2]), _hex(parts[4])
        if off_hex is None or plan_hex is None:
            return "no-match"
        offering = offerings.get(off_hex)
        plan = offering.plan_by_uuid(plan_hex) if offering else None
        return plan or "missing"
    return _other_api_url(parts)


def _segments(path: str) -> list[str]:
    if not path.endswith("/"):
        return ["<no-trailing-slash>"]
    return [p for p in path.split("/") if p != ""]


def _hex(text: str) -> str | None:
    """The URL regexes are `[a-f0-9]+` style: 32 lowercase hex only."""
    if len(text) == 32 and not text.strip("0123456789abcdef"):  # nothing but those digits
        return text
    return None


def _other_api_url(parts: list[str]) -> str:
    """A URL of another known API object -> 'Incorrect URL match'; anything else 'No URL match'."""
    if len(parts) >= 3 and parts[0] == "api" and parts[1] in KNOWN_API_PREFIXES \
            and _hex(parts[2]) is not None:
        return "incorrect"
    return "no-match"
