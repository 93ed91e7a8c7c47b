"""Waldur's LinkHeaderPagination (a DRF PageNumberPagination), reference section 4.

Plain array body; headers `X-Result-Count` and `Link` (first, prev, next, last), absolute URLs
re-encoded the way DRF's `replace_query_param` / `remove_query_param` do (keys sorted).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TypeVar
from urllib.parse import parse_qs, urlencode

from mockserver.orders.exceptions import NotFound, detail

PAGE_PARAM = "page"
PAGE_SIZE_PARAM = "page_size"
DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 300
LAST_PAGE_STRINGS = ("last",)

T = TypeVar("T")


def invalid_page() -> NotFound:
    return NotFound(detail("Invalid page."))


def last_value(query: Sequence[tuple[str, str]], key: str) -> str | None:
    """Django's `QueryDict.get`: the last value of a repeated key."""
    value = None
    for name, val in query:
        if name == key:
            value = val
    return value


def page_size(query: Sequence[tuple[str, str]]) -> int:
    """DRF `get_page_size`: `_positive_int(strict=True, cutoff=300)`, anything else -> default."""
    raw = last_value(query, PAGE_SIZE_PARAM)
    if raw is None:
        return DEFAULT_PAGE_SIZE
    try:
        size = int(raw)
    except ValueError:
        return DEFAULT_PAGE_SIZE
    if size <= 0:
        return DEFAULT_PAGE_SIZE
    return min(size, MAX_PAGE_SIZE)


def page_number(raw: str | None, num_pages: int) -> int:
    """Django `Paginator.validate_number` + DRF's `page=last`; bad -> 404 Invalid page."""
    if raw is None:
        return 1
    if raw in LAST_PAGE_STRINGS:
        return num_pages
    try:
        number = int(raw)
    except ValueError:
        raise invalid_page() from None
    if number < 1 or number > num_pages:
        raise invalid_page()
    return number


def _with_page(base: str, query_string: str, page: int | None) -> str:
    """DRF replace_query_param (page given) / remove_query_param (page None)."""
    params = parse_qs(query_string, keep_blank_values=True)
    if page is None:
        params.pop(PAGE_PARAM, None)
    else:
        params[PAGE_PARAM] = [str(page)]
    encoded = urlencode(sorted(params.items()), doseq=True)
    return f"{base}?{encoded}" if encoded else base


MEMO_QUERY_LENGTH = 512  # longer query strings (fuzzers) are not memoised


def link_header(base: str, query_string: str, number: int, num_pages: int) -> str:
    """The `Link` header of page `number` of `num_pages` (first, prev, next, last).

    A pure function of its arguments, memoised for short queries: re-encoding the query was a
    third of a cached list request's cost, and clients ask for the same few pages again and
    again."""
    if len(query_string) + len(base) <= MEMO_QUERY_LENGTH:
        return _memo_link_header(base, query_string, number, num_pages)
    return _link_header(base, query_string, number, num_pages)


def _link_header(base: str, query_string: str, number: int, num_pages: int) -> str:
    links = [("first", _with_page(base, query_string, None))]
    if number > 1:
        prev = number - 1
        links.append(("prev", _with_page(base, query_string, prev if prev > 1 else None)))
    if number < num_pages:
        links.append(("next", _with_page(base, query_string, number + 1)))
    links.append(
        ("last", _with_page(base, query_string, num_pages if num_pages > 1 else None))
    )
    return ", ".join(f'<{url}>; rel="{rel}"' for rel, url in links)


_memo_link_header = lru_cache(maxsize=2048)(_link_header)


@dataclass(frozen=True)
class Page:
    items: list
    count: int
    number: int
    num_pages: int
    headers: dict[str, str]


def paginate(
    items: Sequence[T],
    query: Sequence[tuple[str, str]],
    base: str,
    query_string: str,
) -> Page:
    """Cut one page out of `items`.

    `query` is the decoded multi-valued query; `base` the absolute URL without query
    (scheme://host/path); `query_string` the raw query string as received.
    """
    count = len(items)
    size = page_size(query)
    num_pages = max(1, math.ceil(count / size))
    number = page_number(last_value(query, PAGE_PARAM), num_pages)
    start = (number - 1) * size
    page_items = list(items[start : start + size])

    headers = {
        "X-Result-Count": str(count),
        "Link": link_header(base, query_string, number, num_pages),
    }
    return Page(page_items, count, number, num_pages, headers)
