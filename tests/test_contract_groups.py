"""The run's summary groups (server errors, contract violations, missing operations, version
drift) and the baseline, against deliberately broken variants of the stub (issue 13)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from test_contract_teeth import (
    ASGI,
    LIST,
    ORDER,
    Headers,
    rewrite_response,
    server_error_on,
    status_400_as_422,
    without_header,
)

from contract_tests import baseline, groups
from contract_tests.cli import main
from contract_tests.report import summary, write_junit
from contract_tests.runner import RunResult
from mockserver import create_app

ORDERS = "/api/marketplace-orders/"
LISTING = f"GET {ORDERS}"
CREATE = f"POST {ORDERS}"
BACKEND_ID = f"POST {ORDERS}{{uuid}}/set_backend_id/"
DJANGO_404 = (b'<!doctype html><html lang="en"><head><title>Not Found</title></head><body>'
              b"<h1>Not Found</h1><p>The requested resource was not found on this server.</p>"
              b"</body></html>")
OPERATIONS = (LIST, "create", "set_backend_id")
PHASES = ("coverage", "fuzzing")


def not_served(app: Any, path: str) -> ASGI:
    """Django's HTML 404 page for every request to `path` (a regex): an older server."""
    import re

    async def wrapped(scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not re.fullmatch(path, scope["path"]):
            await app(scope, receive, send)
            return
        await send({"type": "http.response.start", "status": 404, "headers": [
            (b"content-type", b"text/html"), (b"content-length", str(len(DJANGO_404)).encode())]})
        await send({"type": "http.response.body", "body": DJANGO_404})

    return wrapped


def unknown_state(status: int, headers: Headers, body: bytes) -> tuple[int, Headers, bytes]:
    """A newer server: an order in a state the contract does not know."""
    if status == 200 and body:
        orders = json.loads(body)
        if orders:
            orders[0]["state"] = "archived"
        body = json.dumps(orders).encode()
    return status, headers, body


def broken(app: Any, *, served: bool = False) -> ASGI:
    """500 when the list is ordered, 422 for create's 400s, an unknown state in the list and
    (unless `served`) no set_backend_id route."""
    app_ = server_error_on(app, ORDERS, "o")
    app_ = rewrite_response(app_, "POST", ORDERS, status_400_as_422)
    app_ = rewrite_response(app_, "GET", ORDERS, unknown_state)
    return app_ if served else not_served(app_, ORDER + "set_backend_id/")


def seeded(app: Any, registry: Any, seed: int) -> RunResult:
    from contract_tests.options import HarnessOptions
    from contract_tests.runner import run

    return run(HarnessOptions(
        app=app, reset=registry.reset, operations=tuple(
            op if op.startswith("marketplace") else f"marketplace_orders_{op}"
            for op in OPERATIONS),
        phases=PHASES, max_examples=5, profile="quick", seed=seed))


@pytest.fixture(scope="module")
def stub() -> Any:
    return create_app()


@pytest.fixture(scope="module")
def first(stub: Any) -> RunResult:
    return seeded(broken(stub), stub.registry, 1)


def by_group(result: RunResult) -> dict[str, set[tuple[str, str]]]:
    out: dict[str, set[tuple[str, str]]] = {g: set() for g in groups.GROUPS}
    for f in result.failures:
        out[f.group].add((f.check, f.operation))
    return out


def test_each_group_gets_its_failures(first: RunResult) -> None:
    found = by_group(first)
    assert ("not_a_server_error", LISTING) in found[groups.SERVER_ERRORS]
    assert ("status_code_conformance", CREATE) in found[groups.CONTRACT_VIOLATIONS]
    assert ("response_schema_conformance", LISTING) in found[groups.VERSION_DRIFT]
    assert found[groups.MISSING_OPERATIONS] == {(groups.MISSING_OPERATION_CHECK, BACKEND_ID)}
    drift = next(f for f in first.failures if f.group == groups.VERSION_DRIFT)
    assert drift.signature.endswith("enum") and "archived" in drift.message


def test_a_missing_operation_is_reported_once(first: RunResult) -> None:
    on_it = [f for f in first.failures if f.operation == BACKEND_ID]
    assert len(on_it) == 1
    (missing,) = on_it
    assert missing.title == f"this server does not serve operation {BACKEND_ID}"
    assert "text/html" in missing.message and "Not Found" in missing.message
    noise = int(missing.message.split("; ")[1].split()[0])
    assert noise >= 2  # error_body_shape, content_type_conformance, ... are folded into it
    assert missing.reproduce and missing.reproduce[-1].startswith("curl ")
    text = summary(first)
    assert text.count("this server does not serve operation") == 1
    for header in ("SERVER ERRORS", "CONTRACT VIOLATIONS", "MISSING OPERATIONS",
                   "VERSION DRIFT"):
        assert f"\n{header} (" in text


def test_junit_names_the_groups(first: RunResult, tmp_path: Path) -> None:
    path = tmp_path / "junit.xml"
    write_junit(first, path)
    suite = ET.parse(path).getroot()
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["failures: missing operations"] == "1"
    assert int(props["failures: server errors"]) >= 1
    messages = [n.get("message") for n in suite.iter("failure")]
    assert any(m.startswith("[version drift] response_schema_conformance") for m in messages)


def test_the_correct_stub_has_no_missing_operation(stub: Any) -> None:
    result = seeded(stub, stub.registry, 1)
    assert not [f for f in result.failures if f.group != groups.CONTRACT_VIOLATIONS], [
        (f.group, f.check, f.operation) for f in result.failures]
    assert result.ok, [(f.check, f.operation, f.message[:200]) for f in result.failures]
    assert result.unknown_fields == {}  # the stub sends only what the contract names


def test_baseline_keys_survive_another_seed(stub: Any, first: RunResult) -> None:
    second = seeded(broken(stub), stub.registry, 2)
    assert second.seed != first.seed
    assert {f.baseline_key for f in second.failures} == {f.baseline_key for f in first.failures}


def test_baseline_fails_only_on_new_failures_and_lists_fixed_ones(
    stub: Any, first: RunResult, tmp_path: Path
) -> None:
    path = tmp_path / "baseline.json"
    assert baseline.write(path, first.failures) == len({f.baseline_key for f in first.failures})
    entries = baseline.load(path)
    # the same bugs and one more: only the new one fails
    worse = rewrite_response(broken(stub), "GET", ORDERS, without_header(b"x-result-count"))
    result = seeded(worse, stub.registry, 3)
    baseline.apply(result, entries)
    assert not result.ok and result.known
    # the header's absence is seen by two checks; nothing known is reported again
    assert {f.check for f in result.failures} <= {"response_headers_conformance",
                                                 "pagination_consistency"}
    assert all("X-Result-Count" in f.message or "x-result-count" in f.message.lower()
               for f in result.failures), [f.message for f in result.failures]
    # two of the bugs fixed (set_backend_id served, list counts right): reported stale
    fixed = seeded(broken(stub, served=True), stub.registry, 4)
    baseline.apply(fixed, entries)
    assert fixed.ok, [(f.check, f.operation) for f in fixed.failures]
    assert [e["check"] for e in fixed.stale] == [groups.MISSING_OPERATION_CHECK]
    assert "STALE BASELINE ENTRIES (1" in summary(fixed)


def test_cli_writes_and_reads_a_baseline(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "known.json"
    args = ["--operation", "marketplace_orders_count", "--phases", "examples,fuzzing",
            "--max-examples", "2", "--seed", "5"]
    assert main([*args, "--baseline-write", str(path)]) == 0
    assert json.loads(path.read_text())["entries"] == []
    assert main([*args, "--baseline", str(path)]) == 0
    (tmp_path / "bad.json").write_text("[]")
    assert main([*args, "--baseline", str(tmp_path / "bad.json")]) == 2
    assert "not a waldur-contract baseline" in capsys.readouterr().err


def test_normalised_kinds_mask_what_varies() -> None:
    a = groups.normalise("as support: GET on 0123456789abcdef0123456789abcdef answered 403; x")
    b = groups.normalise("as support: GET on fedcba9876543210fedcba9876543210 answered 404")
    assert a == b == "as <role>: GET on <uuid> answered <n>"
    assert groups.normalise("404 body is not JSON: b'<html>'") == "<n> body is not JSON: <value>"
    assert groups.schema_keyword("properties/state/enum") == "enum"
    assert groups.schema_keyword("required/0") == "required"


def with_new_field(status: int, headers: Headers, body: bytes) -> tuple[int, Headers, bytes]:
    """A newer server: every order carries a field the contract does not know."""
    if status == 200 and body:
        orders = json.loads(body)
        for order in orders:
            order["sla_level"] = "gold"
        body = json.dumps(orders).encode()
    return status, headers, body


def test_unknown_fields_are_drift_that_fails_nothing(stub: Any) -> None:
    from contract_tests.options import HarnessOptions
    from contract_tests.runner import run

    newer = rewrite_response(stub, "GET", ORDERS, with_new_field)
    result = run(HarnessOptions(app=newer, reset=stub.registry.reset,
                                operations=("marketplace_orders_list",), phases=("fuzzing",),
                                max_examples=3, profile="quick", seed=1))
    assert result.unknown_fields == {LISTING: ["sla_level"]}
    assert result.ok, [(f.check, f.message[:200]) for f in result.failures]
    assert f"- {LISTING}: sla_level" in summary(result)
