"""Domain checks for what the schema cannot say, registered as Schemathesis checks.

Each check is a small function `(ctx, response, case) -> None` that raises AssertionError with a
precise message; the pure helpers beneath them are tested on their own. Checks are inert when no
harness run is active, except the stateless ones (error shapes, pagination, identifiers), which
hold for any Waldur deployment.
"""

from __future__ import annotations

import json
import math
import re
from functools import cache
from typing import Any
from urllib.parse import parse_qs, urlsplit

import schemathesis

from mockserver.spec import load_spec

UUID_HEX = re.compile(r"^[0-9a-f]{32}$")
DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 300
# format: uri fields whose value comes from users or other systems, not from the server's routers
USER_SUPPLIED_URLS = frozenset(
    {"callback_url", "access_url", "privacy_policy_link", "provider_message_url"}
)
LINK_ITEM = re.compile(r'<([^>]*)>\s*;\s*rel="?([a-z]+)"?')

DOMAIN_CHECKS: tuple[str, ...] = (
    "error_body_shape",
    "pagination_consistency",
    "identifier_format",
    "state_transition_conformance",
    "role_access_conformance",
)


# ------------------------------------------------------------------------------------------
# helpers
def drf_text_coercion_only(case: Any) -> bool:
    """Whether a negative case's every mutation turned a text field of the JSON body into a
    number. DRF's CharField takes numbers as text (`5` -> `"5"`; booleans, lists and objects are
    refused), so the real server - and the stub, docs/domain.md - answers 200 to that body: it is
    not invalid input for a Waldur server, whatever the schema's `type: string` says."""
    from schemathesis.core.mutations import OperatorKind
    from schemathesis.core.parameters import ParameterLocation

    meta = getattr(case, "meta", None)
    mutations = getattr(getattr(getattr(meta, "phase", None), "data", None), "mutations", None)
    if not mutations:
        return False
    for mutation in mutations:
        if (mutation.operator != OperatorKind.CHANGE_TYPE
                or mutation.parameter_location != ParameterLocation.BODY
                or mutation.original_value != "string"
                or mutation.new_value not in ("integer", "number")):
            return False
        value = _body_value(case.body, mutation.schema_pointer)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
    negative_elsewhere = [
        loc for loc, component in (getattr(meta, "components", None) or {}).items()
        if loc != ParameterLocation.BODY and component.mode.is_negative
    ]
    return not negative_elsewhere


def _body_value(body: Any, pointer: str) -> Any:
    """The value at a schema pointer made only of `/properties/<name>` steps, else None."""
    parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]]
    if len(parts) % 2 or not parts:
        return None
    value = body
    for keyword, name in zip(parts[::2], parts[1::2], strict=True):
        if keyword != "properties" or not isinstance(value, dict) or name not in value:
            return None
        value = value[name]
    return value


def header(response: Any, name: str) -> str | None:
    for key, values in response.headers.items():
        if key.lower() == name.lower():
            if isinstance(values, list | tuple):
                return values[0] if values else None
            return values
    return None


def body_json(response: Any) -> tuple[bool, Any]:
    if not response.content:
        return False, None
    try:
        return True, json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        return False, None


def sent_query(response: Any) -> dict[str, list[str]]:
    url = getattr(response.request, "url", "") or ""
    return parse_qs(urlsplit(url).query, keep_blank_values=True)


def request_method(response: Any, case: Any) -> str:
    return (getattr(response.request, "method", None) or case.method).upper()


# ------------------------------------------------------------------------------------------
# error shapes (reference §6)
def error_shape_problem(body: Any) -> str | None:
    """None if `body` is one of the real server's error shapes, else what is wrong."""
    if isinstance(body, list):
        if body and all(isinstance(x, str) for x in body):
            return None
        return "a list error body must be a non-empty list of strings"
    if isinstance(body, dict):
        if not body:
            return "empty object"
        if "detail" in body:
            if set(body) != {"detail"}:
                return f"`detail` bodies have no other keys, got {sorted(body)}"
            return None if isinstance(body["detail"], str) else "`detail` must be a string"
        for key, value in body.items():
            if not (isinstance(value, list) and value and all(isinstance(x, str) for x in value)):
                return f"field {key!r} must map to a non-empty list of strings, got {value!r:.80}"
        return None
    return f"expected an object or a list, got {type(body).__name__}"


@schemathesis.check
def error_body_shape(ctx: Any, response: Any, case: Any) -> None:
    """4xx bodies are {"detail": str}, {field: [str, ...]} or [str, ...] (never problem+json)."""
    if not 400 <= response.status_code < 500 or request_method(response, case) == "HEAD":
        return
    ok, body = body_json(response)
    if not ok:
        raise AssertionError(
            f"{response.status_code} body is not JSON: {response.content[:120]!r} "
            '(expected {"detail": str}, {field: [str]} or [str])'
        )
    ctype = header(response, "content-type") or ""
    if "problem+json" in ctype:
        raise AssertionError(
            f"{response.status_code} uses {ctype}, the real server sends application/json"
        )
    problem = error_shape_problem(body)
    if problem:
        raise AssertionError(f"{response.status_code} error body has the wrong shape: {problem}")


# ------------------------------------------------------------------------------------------
# pagination (reference §4)
def effective_page_size(values: list[str] | None) -> int:
    raw = values[-1] if values else None
    try:
        size = int(raw) if raw is not None else 0
    except ValueError:
        size = 0
    if size <= 0:
        return DEFAULT_PAGE_SIZE
    return min(size, MAX_PAGE_SIZE)


def parse_link(value: str | None) -> dict[str, str]:
    return {rel: url for url, rel in LINK_ITEM.findall(value or "")}


def pagination_problems(
    *,
    count_header: str | None,
    link_header: str | None,
    query: dict[str, list[str]],
    items: int | None,
) -> list[str]:
    """What is inconsistent in one page; `items` is None for HEAD."""
    if count_header is None:
        return ["X-Result-Count header is missing"]
    try:
        count = int(count_header)
    except ValueError:
        return [f"X-Result-Count is not an integer: {count_header!r}"]
    out: list[str] = []
    if count < 0:
        out.append(f"X-Result-Count is negative: {count}")
    size = effective_page_size(query.get("page_size"))
    pages = max(1, math.ceil(count / size))
    raw_page = (query.get("page") or [None])[-1]
    page: int | None
    if raw_page in (None, ""):
        page = 1
    elif raw_page == "last":
        page = pages
    else:
        try:
            page = int(raw_page)
        except ValueError:
            page = None
    if items is not None:
        if items > size:
            out.append(f"{items} items on a page of size {size}")
        if items > MAX_PAGE_SIZE:
            out.append(f"{items} items exceed the maximum page size {MAX_PAGE_SIZE}")
        if items > count:
            out.append(f"{items} items but X-Result-Count is {count}")
        if page is not None and 1 <= page <= pages:
            expected = max(0, min(size, count - (page - 1) * size))
            if items != expected:
                out.append(
                    f"page {page} of {pages} (X-Result-Count {count}, page size {size}) "
                    f"should hold {expected} items, got {items}"
                )
    links = parse_link(link_header)
    if link_header is None:
        out.append("Link header is missing")
        return out
    for rel in ("first", "last"):
        if rel not in links:
            out.append(f'Link has no rel="{rel}"')
    for rel, url in links.items():
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            out.append(f'Link rel="{rel}" is not an absolute URL: {url}')
    if page is not None and 1 <= page <= pages:
        if (page > 1) != ("prev" in links):
            out.append(
                f'page {page} of {pages}: rel="prev" ' + ("missing" if page > 1 else "present")
            )
        if (page < pages) != ("next" in links):
            out.append(
                f'page {page} of {pages}: rel="next" ' + ("missing" if page < pages else "present")
            )
    if "last" in links:
        last_page = (parse_qs(urlsplit(links["last"]).query).get("page") or ["1"])[-1]
        if last_page != str(pages):
            out.append(f'rel="last" points to page {last_page}, but there are {pages} pages')
    if "next" in links and page is not None:
        next_page = (parse_qs(urlsplit(links["next"]).query).get("page") or ["1"])[-1]
        if next_page != str(page + 1):
            out.append(f'rel="next" points to page {next_page}, expected {page + 1}')
    return out


@cache
def paginated_operations() -> frozenset[tuple[str, str]]:
    """(METHOD, path) of the operations whose 200 response declares X-Result-Count (spec)."""
    out = set()
    for path, item in load_spec()["paths"].items():
        for method, op in item.items():
            if not isinstance(op, dict) or "responses" not in op:
                continue
            headers = (op["responses"].get("200") or {}).get("headers") or {}
            if any(name.lower() == "x-result-count" for name in headers):
                out.add((method.upper(), path))
    return frozenset(out)


@schemathesis.check
def pagination_consistency(ctx: Any, response: Any, case: Any) -> None:
    """X-Result-Count, the page's length and the Link relations agree (reference §4)."""
    if response.status_code != 200:
        return
    if (case.method.upper(), case.operation.path) not in paginated_operations():
        return
    method = request_method(response, case)
    items: int | None = None
    if method != "HEAD":
        ok, body = body_json(response)
        if not ok or not isinstance(body, list):
            raise AssertionError("a page must be a JSON array")
        items = len(body)
    problems = pagination_problems(
        count_header=header(response, "x-result-count"),
        link_header=header(response, "link"),
        query=sent_query(response),
        items=items,
    )
    if problems:
        raise AssertionError("; ".join(problems))


# ------------------------------------------------------------------------------------------
# identifiers and URLs (reference §8)
@cache
def url_fields() -> frozenset[str]:
    """Property names declared `format: uri` anywhere in the spec, minus user-supplied ones."""
    names: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "properties" and isinstance(value, dict):
                    for prop, sub in value.items():
                        if isinstance(sub, dict) and sub.get("format") == "uri":
                            names.add(prop)
                        walk(sub)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(load_spec())
    return frozenset(names - USER_SUPPLIED_URLS)


def identifier_problems(body: Any, path: str = "$") -> list[str]:
    out: list[str] = []
    if isinstance(body, list):
        for i, item in enumerate(body[:50]):
            out.extend(identifier_problems(item, f"{path}[{i}]"))
    elif isinstance(body, dict):
        for key, value in body.items():
            where = f"{path}.{key}"
            if isinstance(value, str) and (key == "uuid" or key.endswith("_uuid")):
                if not UUID_HEX.match(value):
                    out.append(f"{where} = {value!r} is not 32 lowercase hex digits")
            elif isinstance(value, str) and value and key in url_fields():
                parts = urlsplit(value)
                if parts.scheme not in ("http", "https") or not parts.netloc:
                    out.append(f"{where} = {value!r} is not an absolute URL")
                elif parts.path.startswith("/api/") and not parts.path.endswith("/"):
                    out.append(f"{where} = {value!r} has no trailing slash")
            elif isinstance(value, dict | list):
                out.extend(identifier_problems(value, where))
    return out


@schemathesis.check
def identifier_format(ctx: Any, response: Any, case: Any) -> None:
    """UUIDs are 32 lowercase hex digits; server-made URLs are absolute (reference §8)."""
    if not 200 <= response.status_code < 300:
        return
    problems: list[str] = []
    location = header(response, "location")
    if location is not None:
        parts = urlsplit(location)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            problems.append(f"Location {location!r} is not an absolute URL")
    ok, body = body_json(response)
    if ok:
        problems.extend(identifier_problems(body))
    if problems:
        raise AssertionError("; ".join(problems[:5]))
