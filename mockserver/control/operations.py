"""Which Waldur operation (operationId) a request is for, computed from the spec's paths.

The control middleware runs before Connexion's routing, so it matches paths itself."""

from __future__ import annotations

import re
from functools import cached_property
from urllib.parse import urlparse

from mockserver import spec
from mockserver.routeindex import RouteIndex

MEMO_PATHS = 4096  # distinct (method, path) answers remembered


def _base_path() -> str:
    servers = spec.load_spec().get("servers") or [{"url": "/"}]
    return urlparse(servers[0].get("url", "/")).path.rstrip("/")


class OperationMatcher:
    """(METHOD, path) -> operationId, for every operation of the Waldur spec."""

    @cached_property
    def _routes(self) -> list[tuple[str, re.Pattern[str], str]]:
        try:
            ops = spec.operations()
            base = _base_path()
        except (OSError, KeyError):  # spec not there: no operation is known
            return []
        routes = []
        for operation_id, (method, path) in ops.items():
            pattern = re.escape(base + path)
            pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", pattern)
            routes.append((method, re.compile(pattern + r"/?\Z"), operation_id))
        # Literal segments beat parameters (e.g. /dashboard-my-orders/ over /{uuid}/).
        routes.sort(key=lambda r: r[1].pattern.count("[^/]+"))
        return routes

    @cached_property
    def _index(self) -> RouteIndex[tuple[str, re.Pattern[str], str]]:
        base = _base_path() if self._routes else ""
        templates = {op: base + path for op, (_method, path) in spec.operations().items()
                     } if self._routes else {}
        return RouteIndex([(templates[r[2]], r) for r in self._routes])

    @cached_property
    def operation_ids(self) -> frozenset[str]:
        return frozenset(op for _, _, op in self._routes)

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
        for route_method, pattern, operation_id in self._index.candidates(path):
            if pattern.match(path):
                if route_method == method:
                    return operation_id
                if route_method == wanted and fallback is None:
                    fallback = operation_id
        return fallback
