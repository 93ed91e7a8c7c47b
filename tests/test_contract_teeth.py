"""The harness has teeth: against deliberately broken variants of the stub, the run fails and
names the right check; against the correct stub the same focused run does not report it.

Each variant is a thin ASGI wrapper or a monkeypatch around `mockserver.create_app()`, built
here (never in product code). Runs are small: few examples, only the operations concerned.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from contract_tests.options import HarnessOptions
from contract_tests.runner import RunResult, run
from mockserver import create_app
from mockserver.orders import statemachine as sm
from mockserver.orders.models import OrdersBackend

ASGI = Callable[
    [dict, Callable[[], Awaitable[dict]], Callable[[dict], Awaitable[None]]], Awaitable[None]
]
Headers = list[tuple[bytes, bytes]]
Rewrite = Callable[[int, Headers, bytes], tuple[int, Headers, bytes]]

LIST = "marketplace_orders_list"
ORDER = r"/api/marketplace-orders/[^/]+/"
STAFF_TOKEN = b"Token 02020271f1c2fdc62efe0b48ca5ae06ec6857e0f"  # fixtures/default.yaml


def rewrite_response(app: Any, method: str, path: str, fn: Rewrite) -> ASGI:
    """Let `fn` change status, headers and body of the responses to METHOD path (a regex)."""

    async def wrapped(scope: dict, receive: Any, send: Any) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != method
            or not re.fullmatch(path, scope["path"])
        ):
            await app(scope, receive, send)
            return
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def capture(message: dict) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            status, headers, body = fn(
                start["status"], list(start.get("headers", [])), b"".join(chunks)
            )
            headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
            if method != "HEAD":
                headers.append((b"content-length", str(len(body)).encode()))
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await app(scope, receive, capture)

    return wrapped


def without_field(field: str) -> Rewrite:
    def fn(status: int, headers: Headers, body: bytes) -> tuple[int, Headers, bytes]:
        if status == 200 and body:
            data = json.loads(body)
            data.pop(field, None)
            body = json.dumps(data).encode()
        return status, headers, body

    return fn


def without_header(name: bytes) -> Rewrite:
    return lambda status, headers, body: (
        status,
        [h for h in headers if h[0].lower() != name],
        body,
    )


def count_plus_one(status: int, headers: Headers, body: bytes) -> tuple[int, Headers, bytes]:
    out = [
        (k, str(int(v) + 1).encode()) if k.lower() == b"x-result-count" else (k, v)
        for k, v in headers
    ]
    return status, out, body


def status_400_as_422(status: int, headers: Headers, body: bytes) -> tuple[int, Headers, bytes]:
    return (422 if status == 400 else status), headers, body


def server_error_on(app: Any, path: str, query_param: str) -> ASGI:
    """500 (an HTML page, like Django's) whenever the query has `query_param`."""

    async def wrapped(scope: dict, receive: Any, send: Any) -> None:
        query = scope.get("query_string", b"").decode()
        if (
            scope["type"] == "http"
            and scope["path"] == path
            and re.search(rf"(^|&){query_param}=", query)
        ):
            await send(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [(b"content-type", b"text/html")],
                }
            )
            await send({"type": "http.response.body", "body": b"<h1>Server Error (500)</h1>"})
            return
        await app(scope, receive, send)

    return wrapped


def ignoring_auth(app: Any, path: str) -> ASGI:
    """Requests to `path` without credentials are served as the staff user."""

    async def wrapped(scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == path:
            headers = [(k, v) for k, v in scope["headers"] if k.lower() != b"authorization"]
            scope = {**scope, "headers": [*headers, (b"authorization", STAFF_TOKEN)]}
        await app(scope, receive, send)

    return wrapped


def problem_json_404(status: int, headers: Headers, body: bytes) -> tuple[int, Headers, bytes]:
    """Connexion's default error shape instead of Waldur's."""
    if status != 404:
        return status, headers, body
    problem = {"type": "about:blank", "title": "Not Found", "status": 404, "detail": "Not found."}
    headers = [(k, v) for k, v in headers if k.lower() != b"content-type"]
    return (
        404,
        [*headers, (b"content-type", b"application/problem+json")],
        json.dumps(problem).encode(),
    )


def dashed_uuids(status: int, headers: Headers, body: bytes) -> tuple[int, Headers, bytes]:
    if status != 200 or not body:
        return status, headers, body
    orders = json.loads(body)
    for order in orders:
        u = order["uuid"]
        order["uuid"] = f"{u[:8]}-{u[8:12]}-{u[12:16]}-{u[16:20]}-{u[20:]}"
    return status, headers, json.dumps(orders).encode()


def forbidden_instead_of_not_found(app: Any, path: str) -> ASGI:
    """Non-staff callers get 403 (not 404) for orders they cannot see: it leaks existence."""

    async def wrapped(scope: dict, receive: Any, send: Any) -> None:
        auth = dict(scope.get("headers", [])).get(b"authorization")
        if scope["type"] != "http" or not re.fullmatch(path, scope["path"]) or auth == STAFF_TOKEN:
            await app(scope, receive, send)
            return

        async def swap(message: dict) -> None:
            if message["type"] == "http.response.start" and message["status"] == 404:
                body = b'{"detail":"You do not have permission to perform this action."}'
                await send(
                    {
                        "type": "http.response.start",
                        "status": 403,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                swap.done = True  # type: ignore[attr-defined]
            elif not getattr(swap, "done", False):
                await send(message)

        await app(scope, receive, swap)

    return wrapped


def contract(
    app: Any,
    registry: Any,
    *operations: str,
    phases: tuple[str, ...],
    examples: int = 5,
    roles: bool = False,
    seed: int = 7,
) -> RunResult:
    options = HarnessOptions(
        app=app,
        reset=registry.reset,
        operations=tuple(
            f"marketplace_orders_{op}" if not op.startswith("marketplace") else op
            for op in operations
        ),
        phases=phases,
        max_examples=examples,
        profile="quick",
        seed=seed,
        stub_tokens=roles,
    )
    return run(options)


@pytest.fixture
def stub() -> Any:
    return create_app()


def assert_caught(result: RunResult, check: str, operation: str) -> None:
    assert not result.ok
    hits = [f for f in result.failures if f.check == check and f.operation == operation]
    assert hits, (check, operation, sorted((f.check, f.operation) for f in result.failures))
    failure = hits[0]
    assert failure.reproduce and failure.reproduce[-1].startswith("curl ")
    assert "02020271f1c2fdc62efe0b48ca5ae06ec6857e0f" not in repr(result.failures)


# ------------------------------------------------------------------------------------------
# One focused run per broken variant, and the same run against the correct stub.
FOCUS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # check -> (operations, phases)
    "response_headers_conformance": ((LIST,), ("examples", "coverage")),
    "pagination_consistency": ((LIST,), ("examples", "coverage", "fuzzing")),
    "not_a_server_error": ((LIST,), ("coverage",)),
    "ignored_auth": ((LIST,), ("fuzzing",)),
    "status_code_conformance": (("create",), ("examples", "coverage")),
    "approval_detail": ((LIST, "approve_by_consumer"), ("fuzzing",)),
    "backend_id_status": ((LIST, "set_backend_id"), ("fuzzing",)),
    "state_transition_conformance": ((LIST, "approve_by_provider"), ("fuzzing",)),
    "error_body_shape": (("retrieve",), ("coverage",)),
    "identifier_format": ((LIST,), ("examples", "coverage")),
}


def broken_variants() -> dict[str, tuple[str, str, Callable[[Any], Any]]]:
    """name -> (check that must fail, on which operation, how to break the stub)."""
    orders = "/api/marketplace-orders/"
    listing, action = f"GET {orders}", f"POST {orders}{{uuid}}/"
    return {
        "X-Result-Count header missing": (
            "response_headers_conformance",
            listing,
            lambda app: rewrite_response(app, "GET", orders, without_header(b"x-result-count")),
        ),
        "X-Result-Count off by one": (
            "pagination_consistency",
            listing,
            lambda app: rewrite_response(app, "GET", orders, count_plus_one),
        ),
        "500 when the list is ordered": (
            "not_a_server_error",
            listing,
            lambda app: server_error_on(app, orders, "o"),
        ),
        "list ignores auth": ("ignored_auth", listing, lambda app: ignoring_auth(app, orders)),
        "create answers 422 instead of 400": (
            "status_code_conformance",
            f"POST {orders}",
            lambda app: rewrite_response(app, "POST", orders, status_400_as_422),
        ),
        "approve_by_consumer without `detail`": (
            "response_schema_conformance",
            action + "approve_by_consumer/",
            lambda app: rewrite_response(
                app, "POST", ORDER + "approve_by_consumer/", without_field("detail")
            ),
        ),
        "404 as problem+json": (
            "error_body_shape",
            f"GET {orders}{{uuid}}/",
            lambda app: rewrite_response(app, "GET", ORDER, problem_json_404),
        ),
        "dashed uuids in the list": (
            "identifier_format",
            listing,
            lambda app: rewrite_response(app, "GET", orders, dashed_uuids),
        ),
        "set_backend_id without `status`": (
            "response_schema_conformance",
            action + "set_backend_id/",
            lambda app: rewrite_response(
                app, "POST", ORDER + "set_backend_id/", without_field("status")
            ),
        ),
    }


FOCUS_OF = {
    "404 as problem+json": "error_body_shape",
    "dashed uuids in the list": "identifier_format",
    "X-Result-Count header missing": "response_headers_conformance",
    "X-Result-Count off by one": "pagination_consistency",
    "500 when the list is ordered": "not_a_server_error",
    "list ignores auth": "ignored_auth",
    "create answers 422 instead of 400": "status_code_conformance",
    "approve_by_consumer without `detail`": "approval_detail",
    "set_backend_id without `status`": "backend_id_status",
}


@pytest.mark.parametrize("name", list(broken_variants()))
def test_broken_variant_fails_with_the_right_check(stub: Any, name: str) -> None:
    check, operation, breaker = broken_variants()[name]
    operations, phases = FOCUS[FOCUS_OF[name]]
    result = contract(breaker(stub), stub.registry, *operations, phases=phases)
    assert_caught(result, check, operation)


@pytest.mark.parametrize("name", list(broken_variants()))
def test_correct_stub_passes_the_same_focused_run(stub: Any, name: str) -> None:
    check, _, _ = broken_variants()[name]
    operations, phases = FOCUS[FOCUS_OF[name]]
    result = contract(stub, stub.registry, *operations, phases=phases)
    assert check not in result.failed_checks(), [
        (f.operation, f.message) for f in result.failures if f.check == check
    ]


def test_wrong_state_action_that_succeeds(stub: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The backend forgets the state validator of approve_by_provider."""
    original = OrdersBackend._run_validators

    def lax(self: OrdersBackend, order: Any, t: sm.Transition) -> None:
        if t.action == "approve_by_provider":
            t = dataclasses.replace(t, validators=tuple(v for v in t.validators if v != sm.V_STATE))
        original(self, order, t)

    monkeypatch.setattr(OrdersBackend, "_run_validators", lax)
    operations, phases = FOCUS["state_transition_conformance"]
    result = contract(stub, stub.registry, *operations, phases=phases)
    assert_caught(
        result,
        "state_transition_conformance",
        "POST /api/marketplace-orders/{uuid}/approve_by_provider/",
    )
    failure = next(f for f in result.failures if f.check == "state_transition_conformance")
    assert "allowed only from ['pending-provider']" in failure.message


def test_correct_stub_passes_the_state_run(stub: Any) -> None:
    """Passing means something only if an approval succeeded: which orders five fuzzed calls
    hit is the seed's draw (about one seed in eight reaches a pending-provider order), so the
    first seeds are tried in turn until one does; none may fail the check."""
    operations, phases = FOCUS["state_transition_conformance"]
    for seed in range(1, 17):
        result = contract(stub, stub.registry, *operations, phases=phases, seed=seed)
        assert "state_transition_conformance" not in result.failed_checks(), seed
        if any(key[0] == "approve_by_provider" and key[2] == 200 for key in result.lifecycle):
            return
    pytest.fail("no seed reached a successful approve_by_provider")


def test_invisible_order_answered_403_instead_of_404(stub: Any) -> None:
    """Role checks (every fixture user's token): an invisible order must be 404 for them."""
    broken = forbidden_instead_of_not_found(stub, ORDER + "approve_by_consumer/")
    result = contract(
        broken, stub.registry, LIST, "approve_by_consumer", phases=("fuzzing",), roles=True
    )
    assert_caught(
        result,
        "role_access_conformance",
        "POST /api/marketplace-orders/{uuid}/approve_by_consumer/",
    )
    failure = next(f for f in result.failures if f.check == "role_access_conformance")
    assert "cannot see answered 403, expected 404" in failure.message


def test_correct_stub_passes_the_role_run(stub: Any) -> None:
    result = contract(
        stub, stub.registry, LIST, "approve_by_consumer", phases=("fuzzing",), roles=True
    )
    assert "role_access_conformance" not in result.failed_checks(), [
        f.message for f in result.failures if f.check == "role_access_conformance"
    ]


def test_refused_action_that_still_changes_the_order(
    stub: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 409 must change nothing: here the backend bumps `modified` before refusing."""
    from mockserver.orders.exceptions import IncorrectState

    original = OrdersBackend._run_validators

    def touchy(self: OrdersBackend, order: Any, t: sm.Transition) -> None:
        try:
            original(self, order, t)
        except IncorrectState:
            self._touch(order)
            raise

    monkeypatch.setattr(OrdersBackend, "_run_validators", touchy)
    operations, phases = FOCUS["state_transition_conformance"]
    result = contract(stub, stub.registry, *operations, phases=phases)
    assert_caught(
        result,
        "state_transition_conformance",
        "POST /api/marketplace-orders/{uuid}/approve_by_provider/",
    )
    failure = next(f for f in result.failures if f.check == "state_transition_conformance")
    assert "answered 409 but changed the order: modified" in failure.message


# ------------------------------------------------------------------------------------------
# OPTIONS probes replayed as other roles (issue 13): DRF's metadata answer is the same for
# every valid token, visible order or not.
DRF_METADATA = {"name": "Order Instance", "description": "",
                "renders": ["application/json", "text/html"],
                "parses": ["application/json", "application/x-www-form-urlencoded",
                           "multipart/form-data"]}


def drf_options(app: Any, *, staff_only: bool = False) -> ASGI:
    """A server whose OPTIONS on any order URL is a canned DRF metadata 200 (as a real Waldur),
    or, with `staff_only`, a 404 for everyone but staff (metadata that leaks visibility)."""

    async def wrapped(scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "OPTIONS" \
                or not scope["path"].startswith("/api/marketplace-orders/"):
            await app(scope, receive, send)
            return
        auth = dict(scope.get("headers", [])).get(b"authorization")
        status, body = 200, DRF_METADATA
        if auth is None:
            status, body = 401, {"detail": "Authentication credentials were not provided."}
        elif staff_only and auth != STAFF_TOKEN:
            status, body = 404, {"detail": "No Order matches the given query."}
        payload = json.dumps(body).encode()
        await send({"type": "http.response.start", "status": status, "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(payload)).encode())]})
        await send({"type": "http.response.body", "body": payload})

    return wrapped


def options_run(app: Any, registry: Any) -> RunResult:
    return contract(app, registry, LIST, "retrieve", "approve_by_consumer",
                    phases=("coverage",), roles=True)


def test_drf_options_answers_raise_no_role_alarm(stub: Any) -> None:
    result = options_run(drf_options(stub), stub.registry)
    assert "role_access_conformance" not in result.failed_checks(), [
        f.message for f in result.failures if f.check == "role_access_conformance"]
    assert not [f for f in result.failures if "curl -X OPTIONS" in f.reproduce[-1]]


def test_options_that_depend_on_the_role_are_caught(stub: Any) -> None:
    result = options_run(drf_options(stub, staff_only=True), stub.registry)
    hits = [f for f in result.failures if f.check == "role_access_conformance"]
    assert hits, sorted((f.check, f.operation) for f in result.failures)
    assert "OPTIONS answered 404, the primary user got 200" in hits[0].message
    assert "curl -X OPTIONS" in hits[0].reproduce[-1]
