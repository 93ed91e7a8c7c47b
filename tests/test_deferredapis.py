"""mockserver.deferredapis: Connexion's spec middlewares register the spec on the first request
that reaches them, not when the stack is built (lifespan included); the answers do not change,
and middleware positions still match Connexion's classes."""

from __future__ import annotations

from typing import Any

from connexion.middleware import MiddlewarePosition
from connexion.middleware.abstract import SpecMiddleware
from starlette.testclient import TestClient

from mockserver import create_app, deferredapis
from mockserver.settings import Settings
from tests.conftest import BASE, ORDERS


def _spec_layers(app: Any) -> list[Any]:
    stack = app.middleware.middleware_stack
    assert stack is not None, "the stack is built on the first event"
    return [m for m in stack if isinstance(m, SpecMiddleware)
            and type(m).__module__ == deferredapis.__name__]


def _registered(layer: Any) -> bool:
    return layer._pending is None


def test_fast_answers_leave_connexions_operations_unbuilt() -> None:
    app = create_app(Settings())
    token = app.registry.get(None).user_by_username("staff").token
    with TestClient(app, base_url=BASE) as client:  # the lifespan start-up builds the stack
        layers = _spec_layers(app)
        assert len(layers) == 6  # Swagger UI, routing, security, 2 validations, context
        assert not any(map(_registered, layers))
        answer = client.get(ORDERS, headers={"Authorization": f"Token {token}"})
        assert answer.status_code == 200 and answer.json()
        assert not any(map(_registered, layers))  # the fast path answered
        missing = client.get(f"{ORDERS}nothere/", headers={"Authorization": f"Token {token}"})
        assert missing.status_code == 404  # through Connexion: routing and the rest built
        assert all(map(_registered, layers))
        assert all(layer.apis for layer in layers if hasattr(layer, "apis"))


def test_answers_equal_with_and_without_deferral() -> None:
    """Requests that fall through to Connexion (errors, OPTIONS, a bad body) answer the same as
    with Connexion's own stack built at once."""

    def answers(defer: bool) -> list[tuple[int, str, bytes]]:
        app = create_app(Settings())
        if not defer:  # Connexion's own build, as before
            del app.middleware._build_middleware_stack
        token = app.registry.get(None).user_by_username("staff").token
        auth = {"Authorization": f"Token {token}"}
        out = []
        with TestClient(app, base_url=BASE) as client:
            for method, path, kwargs in (
                    ("GET", f"{ORDERS}nothere/", {}),
                    ("GET", ORDERS, {"params": {"page_size": "x"}}),
                    ("OPTIONS", ORDERS, {}),
                    ("POST", ORDERS, {"content": b"[1", "headers": {
                        "Content-Type": "application/json"}}),
                    ("POST", ORDERS, {"json": {}}),
                    ("DELETE", ORDERS, {}),
                    ("GET", "/api/users/me/", {"headers": {"Authorization": "Token bad"}}),
            ):
                headers = {**auth, **kwargs.pop("headers", {})}
                r = client.request(method, path, headers=headers, **kwargs)
                out.append((r.status_code, r.headers.get("content-type", ""), r.content))
        return out

    assert answers(True) == answers(False)


def test_positions_still_match_connexions_classes() -> None:
    """A middleware added after create_app at a spec middleware's position still goes in (the
    list Connexion matches against keeps its own classes)."""
    seen: list[str] = []

    class Marker:
        def __init__(self, app: Any) -> None:
            self.app = app

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] == "http":
                seen.append(scope["path"])
            await self.app(scope, receive, send)

    app = create_app(Settings())
    app.add_middleware(Marker, position=MiddlewarePosition.BEFORE_ROUTING)
    with TestClient(app, base_url=BASE) as client:
        assert client.get(f"{ORDERS}nothere/").status_code == 401
    assert seen == [f"{ORDERS}nothere/"]
    assert not any(isinstance(m, type) and m.__module__ == deferredapis.__name__
                   for m in app.middleware.middlewares)
