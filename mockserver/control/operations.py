"""Which Waldur operation (operationId) a request is for, computed from the spec's paths.

The control middleware runs before Connexion's routing, so it matches paths itself."""

from __future__ import annotations

import re
from functools import cached_property
from urllib.parse import urlparse

from mockserver import spec


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
    def operation_ids(self) -> frozenset[str]:
        return frozenset(op for _, _, op in self._routes)

    def match(self, method: str, path: str) -> str | None:
        wanted = "GET" if method == "HEAD" else method
        fallback = None
        for route_method, pattern, operation_id in self._routes:
            if pattern.match(path):
                if route_method == method:
                    return operation_id
                if route_method == wanted and fallback is None:
                    fallback = operation_id
        return fallback
