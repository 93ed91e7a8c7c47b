"""Compare mode's teeth: the scenario against the stub served over HTTP (uvicorn on a free port)
must find no difference; against the same stub with seeded mutations (an ASGI wrapper changing
one answer each) it must report each of them, precisely and nothing else; the baseline accepts
known differences and reports stale ones; the real side is left as it was found."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from contract_tests.compare import baseline as baselines
from contract_tests.compare.cli import main as compare_main
from contract_tests.compare.lockstep import (
    clear_scope,
    real_side,
    run_lockstep,
    stub_references,
    stub_side,
    stub_tokens_by_role,
)
from contract_tests.target import Target, build_stub_app

ORDERS = "/api/marketplace-orders/"


@dataclass
class Mutation:
    """Rewrite the answer to requests matching (method, path end, role); `change` gets and
    returns (status, content type, body bytes)."""

    method: str
    path_end: str
    role: str
    change: Callable[[int, str, bytes], tuple[int, str, bytes]]


class Mutating:
    """ASGI wrapper: the stub with the active mutations applied to its answers."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.tokens: dict[str, str] = {}  # token -> role
        self.mutations: list[Mutation] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not self.mutations:
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        token = headers.get(b"authorization", b"").decode().removeprefix("Token ")
        role = self.tokens.get(token, "anonymous")
        path = scope["path"] + ("?" + scope["query_string"].decode() if scope["query_string"]
                                else "")
        active = [m for m in self.mutations if m.method == scope["method"] and m.role == role
                  and path.endswith(m.path_end)]
        if not active:
            await self.app(scope, receive, send)
            return
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def capture(message: Any) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, capture)
        hdrs = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
        ctype = next((v.decode() for k, v in hdrs if k.lower() == b"content-type"), "")
        status, body = start["status"], b"".join(chunks)
        for mutation in active:
            status, ctype, body = mutation.change(status, ctype, body)
        hdrs = [(k, v) for k, v in hdrs if k.lower() != b"content-type"]
        hdrs += [(b"content-type", ctype.encode()), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": hdrs})
        await send({"type": "http.response.body", "body": body})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[str, Mutating]]:
    import uvicorn

    app, _ = build_stub_app()
    wrapper = Mutating(app)
    wrapper.tokens = {t: r for r, t in stub_tokens_by_role(app).items()}
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(wrapper, host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        if server.started:
            break
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    try:
        yield url, wrapper
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def fresh_real_side(url: str, wrapper: Mutating) -> Any:
    """The served stub as 'the real server': fresh world, scope cleared (only in this test)."""
    app = wrapper.app
    app.registry.reset()
    tokens = stub_tokens_by_role(app)
    project, offering, plan = stub_references(app, url)
    _, basic, basic_plan = stub_references(app, url, "basic")
    target = Target(url, tokens["staff"], is_stub=False)
    clear_scope(target, project, offering)
    target.close()
    return real_side(url, tokens, project, offering, plan, basic, basic_plan)


def all_uuids(url: str, token: str) -> set[str]:
    reply = httpx.get(url + ORDERS, params={"page_size": 300, "field": "uuid"},
                      headers={"Authorization": f"Token {token}"})
    assert int(reply.headers["x-result-count"]) <= 300
    return {o["uuid"] for o in reply.json()}


def run(url: str, wrapper: Mutating, mutations: list[Mutation]) -> Any:
    wrapper.mutations = mutations
    try:
        real = fresh_real_side(url, wrapper)
        before = all_uuids(url, real.tokens["staff"])
        result = run_lockstep(real, stub_side())
        wrapper.mutations = []
        assert all_uuids(url, real.tokens["staff"]) == before, "the scenario left orders behind"
        return result
    finally:
        wrapper.mutations = []


def test_against_the_served_stub_there_is_no_difference(served: tuple[str, Mutating]) -> None:
    result = run(*served, [])
    assert result.error is None
    assert [d.line() for d in result.differences] == []
    assert len(result.ledger.created) == 8 and not result.ledger.left
    assert result.skipped == []
    statuses = {o.step.name: o.real for o in result.outcomes}
    # the scenario reaches what it is meant to reach (on the stub, as Waldur documents it)
    assert statuses["set_state_done-A-as-provider"] == 200
    assert statuses["cancel-A-as-creator"] == 405
    assert statuses["approve_by_consumer-A-as-creator"] == 403
    assert statuses["get-A-as-outsider"] == 404
    assert statuses["delete-A-as-creator"] == 409
    assert statuses["create-empty-body"] == 400
    assert statuses["cancel-G-as-creator"] == 202
    assert statuses["reject_by_consumer-H-as-consumer-null-body"] == 200


def _json(change: Callable[[Any], Any]) -> Callable[[int, str, bytes], tuple[int, str, bytes]]:
    def apply(status: int, ctype: str, body: bytes) -> tuple[int, str, bytes]:
        return status, ctype, json.dumps(change(json.loads(body))).encode()
    return apply


def _drop(key: str, when_state: str) -> Callable[[Any], Any]:
    def change(body: Any) -> Any:
        if body.get("state") == when_state:
            body.pop(key, None)
        return body
    return change


def _set(key: str, value: Any, when_state: str, **when: Any) -> Callable[[Any], Any]:
    def change(body: Any) -> Any:
        if body.get("state") == when_state and all(body.get(k) == v for k, v in when.items()):
            body[key] = value
        return body
    return change


SEEDED = [
    # a status changed (403 -> 404)
    (Mutation("POST", "/set_state_done/", "consumer",
              lambda s, c, b: (404, c, b'{"detail":"Not found."}')),
     "set_state_done-A-as-consumer status: real 404 | stub 403"),
    # an error text changed
    (Mutation("POST", "/set_state_done/", "provider", lambda s, c, b: (s, c, b.replace(
        b"executing.", b"executing") if s == 409 else b)),
     'set_state_done-A-as-provider-early error-body: real {"detail": "Valid states for operation: '
     'executing"} | stub {"detail": "Valid states for operation: executing."}'),
    # a key dropped
    (Mutation("GET", "/", "consumer", _json(_drop("created_by_full_name", "done"))),
     "get-A-as-consumer keys $.created_by_full_name: real absent | stub present"),
    # a null turned into absent
    (Mutation("GET", "/", "provider", _json(_drop("completed_at", "executing"))),
     "get-A-as-provider keys $.completed_at: real absent | stub present"),
    # a value turned into null
    (Mutation("GET", "/", "creator", _json(_set("customer_name", None, "rejected",
                                                 consumer_rejection_comment="compare"))),
     "get-B-as-creator null $.customer_name: real null | stub string"),
    # a type changed
    (Mutation("GET", "/", "staff", _json(_set("cost", 0, "erred"))),
     "get-D-as-staff type $.cost: real number | stub string"),
    # an HTML 404 page instead of DRF's JSON
    (Mutation("GET", "/not-a-uuid/", "staff",
              lambda s, c, b: (404, "text/html", b"<h1>Not Found</h1>")),
     "get-not-a-uuid media-type: real text/html | stub application/json"),
]


def test_each_seeded_mutation_is_reported_precisely(served: tuple[str, Mutating]) -> None:
    result = run(*served, [m for m, _ in SEEDED])
    assert result.error is None
    lines = [d.line() for d in result.differences]
    for _, expected in SEEDED:
        assert expected in lines, f"not reported: {expected}\nreported: {lines}"
    # and nothing else but the error bodies that come with a changed status or an HTML page
    others = sorted(set(lines) - {e for _, e in SEEDED})
    assert len(others) == 2, others
    assert others[0].startswith(
        'get-not-a-uuid error-body: real <h1>Not Found</h1> | stub {"detail": '), others
    assert others[1] == (
        'set_state_done-A-as-consumer error-body: real {"detail": "Not found."} | '
        'stub {"detail": "You do not have permission to perform this action."}')


def test_list_header_and_page_differences(served: tuple[str, Mutating]) -> None:
    def wrong_count(status: int, ctype: str, body: bytes) -> tuple[int, str, bytes]:
        return status, ctype, json.dumps(json.loads(body)[:0]).encode()

    result = run(*served, [Mutation("GET", "state=done", "staff", wrong_count)])
    lines = [d.line() for d in result.differences]
    assert lines == ["list-done-as-staff items set: real - | stub A,D"], lines


def test_cli_baseline_accepts_known_and_reports_stale(
    served: tuple[str, Mutating], tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    url, wrapper = served
    real = fresh_real_side(url, wrapper)
    args = ["--base-url", url, "--project", real.project, "--offering", real.offering,
            "--plan", real.plan or ""]
    args += [f"--token-for={r}={t}" for r, t in real.tokens.items()]
    wrapper.mutations = [SEEDED[0][0]]
    try:
        assert compare_main(args) == 1
        out = capsys.readouterr().out
        assert "set_state_done-A-as-consumer status: real 404 | stub 403" in out
        assert real.tokens["provider"] not in out  # tokens never printed
        assert "skipped 7 steps (no --basic-offering): create-G-as-creator," in out
        path = tmp_path / "baseline.txt"
        fresh_real_side(url, wrapper)
        report = tmp_path / "reports" / "diff.json"
        assert compare_main([*args, "--baseline-write", str(path), "--json", str(report)]) == 0
        entries = json.loads(report.read_text())
        assert {e["key"] for e in entries} == {"set_state_done-A-as-consumer status",
                                               "set_state_done-A-as-consumer error-body"}
        assert entries[0]["real"] == "404" and entries[0]["stub"] == "403"
        assert baselines.load(path) == {"set_state_done-A-as-consumer status",
                                        "set_state_done-A-as-consumer error-body"}
        fresh_real_side(url, wrapper)
        assert compare_main([*args, "--baseline", str(path)]) == 0
    finally:
        wrapper.mutations = []
    fresh_real_side(url, wrapper)
    assert compare_main([*args, "--baseline", str(path)]) == 0  # fixed: passes, entry stale
    out = capsys.readouterr().out
    assert "stale baseline entries (2)" in out and "set_state_done-A-as-consumer status" in out


def test_step_names_are_unique_difference_keys() -> None:
    from contract_tests.compare.scenario import SCENARIO

    names = [step.name for step in SCENARIO]
    assert len(set(names)) == len(names)
    assert all(" " not in name for name in names)


def test_role_tokens_from_the_environment(
    served: tuple[str, Mutating], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    url, wrapper = served
    real = fresh_real_side(url, wrapper)
    for role, token in real.tokens.items():
        monkeypatch.setenv("WALDUR_TOKEN" if role == "staff" else f"WALDUR_TOKEN_{role.upper()}",
                           token)
    monkeypatch.setenv("WALDUR_URL", url)
    assert compare_main(["--project", real.project, "--offering", real.offering]) == 0
    assert "compare: 82/89 steps, 0 differences" in capsys.readouterr().out


def test_missing_role_tokens_are_a_usage_error(capsys: pytest.CaptureFixture) -> None:
    from contract_tests.cli import main as waldur_contract

    code = waldur_contract(["compare", "--base-url", "http://127.0.0.1:9", "--token", "abcd",
                         "--project", "p", "--offering", "o"])
    assert code == 2
    assert "missing tokens for creator, consumer, provider, outsider" in capsys.readouterr().err


def test_orders_are_removed_even_when_the_run_breaks(served: tuple[str, Mutating]) -> None:
    url, wrapper = served
    real = fresh_real_side(url, wrapper)
    before = all_uuids(url, real.tokens["staff"])
    stub = stub_side()
    original = stub.send

    def broken(step: Any) -> Any:
        if step.name == "create-E-as-creator":
            raise ConnectionError("the stub side went away")
        return original(step)

    stub.send = broken  # type: ignore[method-assign]
    result = run_lockstep(real, stub)
    assert result.error == "ConnectionError: the stub side went away"
    assert len(result.ledger.created) == 5 and not result.ledger.left
    assert all_uuids(url, real.tokens["staff"]) == before


def test_preflight_refuses_a_wrong_offering_type_a_bad_token_and_no_server(
    served: tuple[str, Mutating], capsys: pytest.CaptureFixture
) -> None:
    url, wrapper = served
    real = fresh_real_side(url, wrapper)
    args = ["--base-url", url, "--project", real.project, "--offering", real.offering]
    args += [f"--token-for={r}={t}" for r, t in real.tokens.items() if r != "staff"]
    offering_type = Mutation("GET", "/api/marketplace-public-offerings/" + real.offering.split(
        "/")[-2] + "/", "staff", lambda s, c, b: (200, "application/json",
                                                  b'{"type": "Marketplace.Basic"}'))
    wrapper.mutations = [offering_type]
    try:
        assert compare_main([*args, "--token", real.tokens["staff"]]) == 2
        assert "is a Marketplace.Basic offering; the scenario needs Marketplace.Slurm" in (
            capsys.readouterr().err)
    finally:
        wrapper.mutations = []
    assert compare_main([*args, "--token", "not-a-token"]) == 2
    assert "the staff token (--token) was rejected (401)" in capsys.readouterr().err
    dead = ["--base-url", f"http://127.0.0.1:{free_port()}", *args[2:]]
    assert compare_main([*dead, "--token", real.tokens["staff"]]) == 2
    assert "is not reachable" in capsys.readouterr().err


def test_a_project_with_other_orders_compares_no_counts(served: tuple[str, Mutating]) -> None:
    """The served stub's project keeps its seeded orders: counts would differ for that reason
    alone, so they are not compared (and the report says why); everything else still is."""
    url, wrapper = served
    app = wrapper.app
    app.registry.reset()
    tokens = stub_tokens_by_role(app)
    project, offering, plan = stub_references(app, url)
    real = real_side(url, tokens, project, offering, plan)
    wrapper.mutations = [SEEDED[0][0]]
    try:
        result = run_lockstep(real, stub_side())
    finally:
        wrapper.mutations = []
    assert result.preexisting > 0
    assert [d.key for d in result.differences] == [
        "set_state_done-A-as-consumer status", "set_state_done-A-as-consumer error-body"]
