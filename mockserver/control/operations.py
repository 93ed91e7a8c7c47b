"""Which Waldur operation (operationId) a request is for, computed from the spec's paths.

The control middleware runs before Connexion's routing, so it matches paths itself."""

from __future__ import annotations

import re
from functools import cached_property
from urllib.parse import urlparse

from mockserver import spec
from mockserver.routeindex import RouteIndex, compiled, literal_prefix

MEMO_PATHS = 4096  # distinct (method, path) answers remembered


def _base_path() -> str:
    servers = spec.load_spec().get("servers") or [{"url": "/"}]
    return urlparse(servers[0].get("url", "/")).path.rstrip("/")


class OperationMatcher:
    """(METHOD, path) -> operationId, for every operation of the Waldur spec."""

    @cached_property
    def _routes(self) -> list[tuple[str, str, str, str]]:
        """(method, literal prefix, path regex, operationId): a route's regex is compiled on
        first use, and only tried on paths that start with its literal prefix (text before the
        first parameter; every match starts with it): compiling all of them cost every start
        ~6 ms, and every request ran them all."""
        try:
            ops = spec.operations()
            base = _base_path()
        except (OSError, KeyError):  # spec not there: no operation is known
            return []
        routes = []
        for operation_id, (method, path) in ops.items():
            pattern = re.escape(base + path)
            pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", pattern)
            routes.append((method, literal_prefix(base + path), pattern + r"/?\Z", operation_id))
        # Literal segments beat parameters (e.g. /dashboard-my-orders/ over /{uuid}/).
        routes.sort(key=lambda r: r[2].count("[^/]+"))
        return routes

    @cached_property
    def _index(self) -> RouteIndex[tuple[str, str, str, str]]:
        """The routes grouped by their first two path segments (routeindex)."""
        if not self._routes:
            return RouteIndex([])
        base = _base_path()
        templates = {op: base + path for op, (_method, path) in spec.operations().items()}
        return RouteIndex([(templates[r[3]], r) for r in self._routes])

    @cached_property
    def operation_ids(self) -> frozenset[str]:
        return frozenset(op for _, _, _, op in self._routes)

    def match(self, method: str, path: str) -> str | None:
        key = (method, path)
        known = self._matched.get(key, self)
        if known is not self:
            return known  # type: ignore[return-value]
        found = self._match(method, path)
        if len(self._matched) >= MEMO_PATHS:
            self._matched.clear()
        self._matched[key] = found
        return found

    @cached_property
    def _matched(self) -> dict[tuple[str, str], str | None]:
        """(method, path) -> operationId of the paths seen lately (a pure function)."""
        return {}

    def _match(self, method: str, path: str) -> str | None:
        wanted = "GET" if method == "HEAD" else method
        fallback = None
        for route_method, prefix, pattern, operation_id in self._index.candidates(path):
            if path.startswith(prefix) and compiled(pattern).match(path):
                if route_method == method:
                    return operation_id
                if route_method == wanted and fallback is None:
                    fallback = operation_id
        return fallback
