"""mockserver.fastroutes: the GETs of every non-orders area answer byte-identically with the
fast path on and off (status, every header, body), with response validation on and off; what
it cannot answer falls through to Connexion; and it really answers (teeth)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from mockserver import fastroutes, routeindex
from tests.conftest import BASE


@pytest.fixture(scope="module", params=[True, False], ids=["validated", "unvalidated"])
def pair(request: Any) -> Iterator[tuple[Any, Any, Any]]:
    from starlette.testclient import TestClient

    from mockserver import create_app
    from mockserver.settings import Settings

    fast = create_app(Settings(validate_responses=request.param, fast_path=True))
    slow = create_app(Settings(validate_responses=request.param, fast_path=False))
    with TestClient(fast, base_url=BASE) as cf, TestClient(slow, base_url=BASE) as cs:
        yield fast, cf, cs


def _requests(backend: Any) -> list[tuple[str, dict[str, str]]]:
    def tok(username: str) -> dict[str, str]:
        return {"Authorization": f"Token {backend.user_by_username(username).token}"}

    keys = backend.world.keys
    customer, project = keys["customers"]["consumer"], keys["projects"]["consumer-main"]
    user = keys["users"]["proj_member"]
    staff, plain = tok("staff"), tok("plain_user")
    out = [
        ("/api/users/me/", staff), ("/api/users/me/?field=token", tok("cons_owner")),
        ("/api/users/me/", {}), ("/api/users/me/", {"Authorization": "Token nope"}),
        ("/api/users/", staff), ("/api/users/", plain), (f"/api/users/{user}/", plain),
        (f"/api/users/{user}/", staff),
        ("/api/customers/", staff), ("/api/customers/?page_size=1&page=2", staff),
        ("/api/customers/?page=9", staff), ("/api/customers/?field=name&o=-name", staff),
        (f"/api/customers/{customer}/", tok("proj_member")),
        (f"/api/customers/{customer}/", tok("prov_owner")),
        ("/api/customers/not-a-uuid/", staff), ("/api/customers/a%2Fb/", staff),
        ("/api/projects/?o=bogus", staff), (f"/api/projects/?customer={customer}", staff),
        (f"/api/projects/{project}/", staff),
        (f"/api/customers/?x-auth-token={backend.user_by_username('staff').token}", {}),
    ]
    extra = [(path, h) for path in _anonymous_paths()
             for h in (staff, {}, {"Authorization": "Token nope"})]
    return out + extra


def _anonymous_paths() -> list[str]:
    return [r.template for r in fastroutes.routes() if not r.secured and not r.params]


def test_fast_and_connexion_answers_are_identical(pair: tuple[Any, Any, Any]) -> None:
    app, fast, slow = pair
    app.registry.reset(None)
    for path, headers in _requests(app.registry.get(None)):
        a, b = fast.get(path, headers=headers), slow.get(path, headers=headers)
        assert (a.status_code, a.headers.items(), a.content) == \
            (b.status_code, b.headers.items(), b.content), path


def test_routes_cover_the_structure_gets_but_not_the_orders() -> None:
    templates = {r.template for r in fastroutes.routes()}
    assert {"/api/users/me/", "/api/customers/", "/api/customers/{uuid}/"} <= templates
    assert not any(t.startswith("/api/marketplace-orders/") for t in templates)
    assert fastroutes.match("/api/users/me/")[0].template == "/api/users/me/"  # not {uuid}
    assert fastroutes.match("/api/customers/a.b/") is None


def test_the_fast_path_really_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Teeth: the comparison above would pass with a fast path that never answers; this one
    proves that it serves a valid GET itself and leaves a 401 to Connexion."""
    from starlette.testclient import TestClient

    from mockserver import create_app
    from mockserver.settings import Settings

    app = create_app(Settings(validate_responses=True, fast_path=True))
    calls = []
    original = fastroutes.AreaFastPathMiddleware._try

    async def spy(self: Any, scope: Any, receive: Any) -> Any:
        response = await original(self, scope, receive)
        calls.append((scope["path"], response is not None))
        return response

    monkeypatch.setattr(fastroutes.AreaFastPathMiddleware, "_try", spy)
    token = app.registry.get(None).user_by_username("staff").token
    with TestClient(app, base_url=BASE) as client:
        assert client.get("/api/customers/", headers={"Authorization": f"Token {token}"}
                          ).status_code == 200
        assert client.get("/api/customers/").status_code == 401
    assert calls == [("/api/customers/", True), ("/api/customers/", False)]


def test_match_is_the_first_regex_that_matches() -> None:
    """`match` skips a route whose literal prefix the path lacks and compiles a route's regex
    only when a path could match it (start-up compiles none): the same answer as trying every
    regex in order."""
    import re

    routes = fastroutes.routes()
    paths = ["/api/marketplace-orders/", "/api/marketplace-orders/0a1b/", "/api/users/me/",
             "/api/customers/", "/api/customers/a.b/", "/api/customers/abc-1/", "/api/x/"]
    paths += [r.template.replace("{", "").replace("}", "") for r in routes]
    paths += [re.sub(r"\{[^}]+\}", "0f" * 16, r.template) for r in routes]
    for path in paths:
        brute = next(((r, m.groups()) for r in routes
                      if (m := re.compile(r.pattern).match(path)) is not None), None)
        found = fastroutes.match(path)
        assert (None if found is None else (found[0], tuple(found[1].values()))) == brute, path
    routeindex.compiled.cache_clear()
    assert fastroutes.match("/api/marketplace-orders/") is None
    assert routeindex.compiled.cache_info().currsize == 0  # the orders' path tried no area regex
