"""The route index (mockserver/routeindex.py) finds exactly what trying every route in order
finds: for the control middleware's operation matcher and the area fast path's routes."""

from __future__ import annotations

import re

import pytest

from mockserver import fastroutes, spec
from mockserver.control.operations import OperationMatcher
from mockserver.routeindex import RouteIndex

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
HEX = "0123456789abcdef0123456789abcdef"


def _paths() -> list[str]:
    """Every operation's path with sample parameters, and variants a client may send."""
    out = {"", "/", "/api", "/api/", "/api//customers/", "/__mock__/state", "api/customers/",
           "/api/users/me/\n", "/api/customers/me/\n", "/api-auth/password", "/x/y/z"}
    for template in {path for _method, path in spec.operations().values()}:
        for value in (HEX, "me", "count", "x-y", "%20", "a/b"):
            path = re.sub(r"\{[^}]+\}", value, template)
            out.update({path, path.rstrip("/"), path + "/", path + "\n", path + "extra/",
                        path.upper()})
    return sorted(out)


PATHS = _paths()


def _linear_operation(matcher: OperationMatcher, method: str, path: str) -> str | None:
    wanted = "GET" if method == "HEAD" else method
    fallback = None
    for route_method, _prefix, pattern, operation_id in matcher._routes:
        if re.match(pattern, path):
            if route_method == method:
                return operation_id
            if route_method == wanted and fallback is None:
                fallback = operation_id
    return fallback


def _linear_route(path: str) -> tuple[str, dict[str, str]] | None:
    for route in fastroutes.routes():
        found = re.match(route.pattern, path)
        if found is not None:
            return route.template, dict(zip(route.params, found.groups(), strict=True))
    return None


def test_operation_matcher_matches_like_a_linear_scan() -> None:
    matcher = OperationMatcher()
    checked = 0
    for path in PATHS:
        for method in METHODS:
            expected = _linear_operation(matcher, method, path)
            assert matcher.match(method, path) == expected, (method, path)
            assert matcher.match(method, path) == expected, (method, path)  # memoised
            checked += expected is not None
    assert checked > 300  # most paths do match an operation


def test_fast_routes_match_like_a_linear_scan() -> None:
    matched = 0
    for path in PATHS:
        found = fastroutes.match(path)
        got = None if found is None else (found[0].template, found[1])
        assert got == _linear_route(path), path
        matched += got is not None
    assert matched > 100


def test_the_path_sample_has_teeth() -> None:
    """An index that loses the routes' order, or the routes that start with a parameter,
    answers differently on these paths."""
    routes = [(route.template, route) for route in fastroutes.routes()]
    reordered = RouteIndex(sorted(routes, key=lambda r: -len(r[1].params)))

    def first(index: RouteIndex, path: str) -> str | None:
        for route in index.candidates(path):
            if re.match(route.pattern, path):
                return route.template
        return None

    assert any(first(reordered, p) != (_linear_route(p) or (None,))[0] for p in PATHS)
    index = RouteIndex([("/{a}/b/", "anywhere"), ("/api/customers/", "keyed"),
                        ("/api/", "short")])
    assert index.candidates("/api/customers/x/") == ("anywhere", "keyed", "short")
    assert index.candidates("/other/path/") == ("anywhere", "short")


@pytest.mark.parametrize("template, key", [
    ("/api/customers/{uuid}/", ("api", "customers")), ("/api/{x}/", None), ("/api/", None),
    ("/api", None), ("api/x/", None), ("/api/x{y}/", None), ("/api-auth/password/",
                                                              ("api-auth", "password"))])
def test_template_key(template: str, key: tuple[str, str] | None) -> None:
    from mockserver.routeindex import template_key

    assert template_key(template) == key
