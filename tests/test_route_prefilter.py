"""Route tables that skip compiling regexes at start-up answer as the full regex scans did:
control's OperationMatcher (literal-prefix filter, regexes compiled on first use) and the app's
static-route table (no regex at all)."""

from __future__ import annotations

import re

from mockserver import app, routeindex, spec
from mockserver.control import operations


def _paths() -> list[str]:
    templates = list(spec.load_spec()["paths"])
    out = ["/api/marketplace-orders/", "/api/marketplace-orders", "/api/marketplace-orders//",
           "/api/marketplace-orders/0a1b/approve_by_consumer/", "/api/users/me/", "/x/", "/"]
    for t in templates:
        out += [t, t.rstrip("/"), t + "/", t.replace("{", "").replace("}", ""),
                re.sub(r"\{[^}]+\}", "0f" * 16, t), re.sub(r"\{[^}]+\}", "a/b", t)]
    return out


def test_operation_matcher_is_the_full_scan() -> None:
    matcher = operations.OperationMatcher()
    routes = matcher._routes
    for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"):
        for path in _paths():
            wanted = "GET" if method == "HEAD" else method
            exact = [op for m, _p, pattern, op in routes
                     if m == method and re.match(pattern, path)]
            loose = [op for m, _p, pattern, op in routes
                     if m == wanted and re.match(pattern, path)]
            expected = exact[0] if exact else (loose[0] if loose else None)
            assert matcher.match(method, path) == expected, (method, path)
    assert matcher.match("GET", "/api/marketplace-orders/") == "marketplace_orders_list"


def test_start_up_compiles_no_control_regex() -> None:
    routeindex.compiled.cache_clear()
    matcher = operations.OperationMatcher()
    assert "marketplace_orders_list" in matcher.operation_ids
    assert routeindex.compiled.cache_info().currsize == 0
    matcher.match("GET", "/api/users/me/")
    assert 0 < routeindex.compiled.cache_info().currsize < len(matcher._routes) / 2


def test_static_routes_without_regexes_are_the_regex_table() -> None:
    from_regexes = {template: allowed
                    for template, (_r, static, allowed) in zip(
                        spec.load_spec()["paths"], app._unsorted_routes(), strict=True)
                    if static}
    assert app._static_routes() == from_regexes
    assert app.static_route_methods("/api/marketplace-orders/") == ("GET", "POST", "HEAD",
                                                                    "OPTIONS")
