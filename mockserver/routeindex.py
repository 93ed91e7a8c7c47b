"""Which of a list of path routes can match a request path, without trying every one.

The spec has ~160 operations; the control middleware and the area fast path used to try each
route's regex in turn on every request (~10 µs for a parameterised path). Every route whose
template starts with two literal segments (`/api/customers/...`) can only match a path that
starts with the same two segments, so the routes are grouped by them; routes that start
otherwise are candidates for every path. Candidates keep the routes' order, so trying them in
order finds exactly what trying every route would.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from typing import Generic, TypeVar

T = TypeVar("T")
Key = tuple[str, str]


def literal_prefix(template: str) -> str:
    """A path template's text before its first parameter: every path it matches starts with it
    (checking that spares running a regex that cannot match)."""
    return template.split("{", 1)[0]


def template_key(template: str) -> Key | None:
    """The first two segments of a path template, when both are literal and complete."""
    parts = template.split("/", 3)
    if len(parts) < 3 or parts[0] or not parts[1] or not parts[2]:
        return None
    if any(c in part for part in parts[1:3] for c in "{}"):
        return None
    return parts[1], parts[2]


class RouteIndex(Generic[T]):
    """`candidates(path)`: the routes (given in match order with their templates) that may
    match `path`, in the same order."""

    def __init__(self, routes: Sequence[tuple[str, T]]) -> None:
        keyed: dict[Key, list[tuple[int, T]]] = {}
        anywhere: list[tuple[int, T]] = []
        for i, (template, route) in enumerate(routes):
            key = template_key(template)
            if key is None:
                anywhere.append((i, route))
            else:
                keyed.setdefault(key, []).append((i, route))
        self._groups: dict[Key, tuple[T, ...]] = {
            key: tuple(route for _, route in sorted(group + anywhere, key=lambda e: e[0]))
            for key, group in keyed.items()}
        self._anywhere: tuple[T, ...] = tuple(route for _, route in anywhere)

    def candidates(self, path: str) -> tuple[T, ...]:
        parts = path.split("/", 3)
        if len(parts) >= 3:
            group = self._groups.get((parts[1], parts[2]))
            if group is not None:
                return group
        return self._anywhere


@cache
def compiled(pattern: str) -> re.Pattern[str]:
    """A route's regex, compiled on its first use (not for every route at start-up) and kept."""
    return re.compile(pattern)
