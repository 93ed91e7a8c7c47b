"""The control API under /__mock__/ (openapi/mock-control.yaml), over HTTP against a running stub
(the `waldur_mock` fixture of mockserver.pytest_plugin: reset to the seed before each test)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import yaml
from jsonschema import Draft4Validator

from mockserver.control.spec import control_spec
from mockserver.pytest_plugin import WaldurMock, start_stub
from mockserver.settings import Settings

ORDERS = "/api/marketplace-orders/"


def find_order(mock: WaldurMock, state: str, offering_type: str | None = None) -> dict[str, Any]:
    params: dict[str, str] = {"state": state}
    if offering_type:
        params["offering_type"] = offering_type
    response = httpx.get(mock.url + ORDERS, params=params, headers=mock.auth("staff"))
    assert response.status_code == 200 and response.json(), response.text
    return response.json()[0]


def get_order(mock: WaldurMock, uuid: str, user: str = "staff") -> dict[str, Any]:
    response = httpx.get(f"{mock.url}{ORDERS}{uuid}/", headers=mock.auth(user))
    assert response.status_code == 200, response.text
    return response.json()


def conforms(schema_name: str, body: Any) -> list[str]:
    """Errors of a response body against a schema of mock-control.yaml."""
    schemas = control_spec()["components"]["schemas"]

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return inline(schemas[node["$ref"].rsplit("/", 1)[-1]])
            out = {k: inline(v) for k, v in node.items() if k != "nullable"}
            if node.get("nullable") and "type" in out:
                out["type"] = [out["type"], "null"]
            elif node.get("nullable") and "oneOf" in out:
                out["oneOf"] = [*out["oneOf"], {"type": "null"}]
            return out
        if isinstance(node, list):
            return [inline(v) for v in node]
        return node

    return [e.message for e in Draft4Validator(inline(schemas[schema_name])).iter_errors(body)]


def test_index_lists_every_path_of_the_control_spec(waldur_mock: WaldurMock) -> None:
    body = httpx.get(waldur_mock.url + "/__mock__/").json()
    assert conforms("Index", body) == []
    served = {e.split(" ", 1)[1] for e in body["endpoints"]}
    assert served == {"/__mock__" + p for p in control_spec()["paths"]}
    spec_text = httpx.get(waldur_mock.url + "/__mock__/openapi.yaml").text
    assert yaml.safe_load(spec_text)["info"]["title"] == "waldur-orders-mock control API"


def test_reset_restores_the_seeded_state_in_milliseconds(waldur_mock: WaldurMock) -> None:
    before = waldur_mock.state_bytes()
    order = find_order(waldur_mock, "pending-consumer")
    r = httpx.delete(f"{waldur_mock.url}{ORDERS}{order['uuid']}/",
                     headers=waldur_mock.auth("staff"))
    assert r.status_code == 204
    assert waldur_mock.state_bytes() != before

    body = waldur_mock.reset()
    assert conforms("Done", body) == []
    assert body["duration_ms"] < 1000
    assert waldur_mock.state_bytes() == before
    assert get_order(waldur_mock, order["uuid"])["state"] == "pending-consumer"


def test_state_export_import_round_trips_byte_identically(waldur_mock: WaldurMock) -> None:
    order = find_order(waldur_mock, "pending-provider", "Marketplace.Slurm")
    r = httpx.post(f"{waldur_mock.url}{ORDERS}{order['uuid']}/reject_by_provider/",
                   headers=waldur_mock.auth("prov_owner"))
    assert r.status_code == 200
    saved = waldur_mock.state_bytes()  # the prepared scenario

    waldur_mock.reset()
    assert get_order(waldur_mock, order["uuid"])["state"] == "pending-provider"
    response = httpx.put(waldur_mock.url + "/__mock__/state", content=saved)
    assert response.status_code == 200 and conforms("Done", response.json()) == []
    assert get_order(waldur_mock, order["uuid"])["state"] == "rejected"
    assert waldur_mock.state_bytes() == saved


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"orders": ', "not valid JSON"),
        (b"[1, 2]", "expected a JSON object"),
        (b'{"hello": "world"}', "not a state exported by this stub"),
        (b"\xff\xfe", "not UTF-8"),
    ],
)
def test_state_import_rejects_garbage_and_keeps_the_state(
    waldur_mock: WaldurMock, body: bytes, reason: str
) -> None:
    before = waldur_mock.state_bytes()
    response = httpx.put(waldur_mock.url + "/__mock__/state", content=body)
    assert response.status_code == 400
    assert reason in response.json()["detail"]
    assert waldur_mock.state_bytes() == before


def test_set_order_state_bypasses_the_rules(waldur_mock: WaldurMock) -> None:
    order = find_order(waldur_mock, "pending-consumer", "Marketplace.Basic")
    result = waldur_mock.set_order_state(order["uuid"], "erred", error_message="disk full")
    assert result == {"uuid": order["uuid"], "state": "erred", "previous_state": "pending-consumer"}
    after = get_order(waldur_mock, order["uuid"])
    assert after["state"] == "erred" and after["error_message"] == "disk full"
    assert after["modified"] > order["modified"]
    # The Waldur API then applies its own rules to the new state.
    r = httpx.post(f"{waldur_mock.url}{ORDERS}{order['uuid']}/approve_by_consumer/",
                   headers=waldur_mock.auth("staff"))
    assert r.status_code == 409


def test_set_order_state_accepts_dashed_uuids(waldur_mock: WaldurMock) -> None:
    order = find_order(waldur_mock, "done")
    u = order["uuid"]
    dashed = f"{u[:8]}-{u[8:12]}-{u[12:16]}-{u[16:20]}-{u[20:]}"
    assert waldur_mock.set_order_state(dashed, "executing")["uuid"] == u
    assert get_order(waldur_mock, u)["state"] == "executing"


@pytest.mark.parametrize(
    ("path", "body", "status", "expected"),
    [
        ("/orders/{uuid}/state", {"state": "bogus"}, 400,
         {"state": ['"bogus" is not a valid choice.']}),
        ("/orders/{uuid}/state", {}, 400, {"state": ["This field is required."]}),
        ("/orders/{uuid}/state", {"state": "done", "color": "red"}, 400,
         {"non_field_errors": ["Unknown field(s): color."]}),
        ("/orders/0123456789abcdef0123456789abcdef/state", {"state": "done"}, 404,
         {"detail": "No Order matches the given query."}),
        ("/orders/not-a-uuid/state", {"state": "done"}, 404,
         {"detail": "No Order matches the given query."}),
    ],
)
def test_set_order_state_errors(
    waldur_mock: WaldurMock, path: str, body: dict, status: int, expected: dict
) -> None:
    uuid = find_order(waldur_mock, "done")["uuid"]
    response = httpx.post(waldur_mock.url + "/__mock__" + path.format(uuid=uuid), json=body)
    assert (response.status_code, response.json()) == (status, expected)


def test_malformed_json_and_unknown_paths(waldur_mock: WaldurMock) -> None:
    url = waldur_mock.url + "/__mock__"
    r = httpx.post(url + "/faults", content=b"{nope", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["detail"].startswith("JSON parse error - ")
    r = httpx.get(url + "/nothing-here")
    assert (r.status_code, r.json()) == (404, {"detail": "Not found."})
    r = httpx.patch(url + "/state")
    assert r.status_code == 405 and r.json() == {"detail": 'Method "PATCH" not allowed.'}
    assert r.headers["Allow"] == "GET, PUT"


def test_sessions_are_isolated_and_reset_on_their_own(waldur_mock: WaldurMock) -> None:
    alice, bob = waldur_mock.in_session("ci-job-1"), waldur_mock.in_session("ci-job-2")
    order = find_order(waldur_mock, "pending-consumer")
    alice.set_order_state(order["uuid"], "canceled")

    def state_in(mock: WaldurMock) -> str:
        r = httpx.get(f"{mock.url}{ORDERS}{order['uuid']}/", headers=mock.auth("staff"))
        return r.json()["state"]

    assert state_in(alice) == "canceled"
    assert state_in(bob) == "pending-consumer"  # created from the seed on first use
    assert state_in(waldur_mock) == "pending-consumer"
    sessions = httpx.get(waldur_mock.url + "/__mock__/sessions").json()
    assert {"ci-job-1", "ci-job-2"} <= {s["session"] for s in sessions}
    assert all(conforms("SessionInfo", s) == [] for s in sessions)

    bob.set_order_state(order["uuid"], "done")
    alice.reset()
    assert state_in(alice) == "pending-consumer"
    assert state_in(bob) == "done"  # another session's reset does not touch it

    assert httpx.delete(waldur_mock.url + "/__mock__/sessions/ci-job-2").status_code == 204
    assert state_in(bob) == "pending-consumer"  # dropped: starts again from the seed


def test_session_state_export_is_per_session(waldur_mock: WaldurMock) -> None:
    qa = waldur_mock.in_session("qa")
    order = find_order(waldur_mock, "pending-provider")
    qa.set_order_state(order["uuid"], "erred")
    scenario = qa.state()
    assert waldur_mock.state() != scenario
    other = waldur_mock.in_session("qa-2")
    other.load_state(scenario)
    assert other.state() == scenario


@pytest.fixture(scope="module")
def no_control() -> Iterator[str]:
    from mockserver.app import create_app
    from mockserver.pytest_plugin import ServerThread

    server = ServerThread(create_app(Settings(control=False))).start()
    try:
        yield server.url
    finally:
        server.stop()


def test_no_control_switches_the_control_api_off(no_control: str) -> None:
    for method, path in [("GET", "/__mock__/"), ("POST", "/__mock__/reset"),
                         ("GET", "/__mock__/state"), ("GET", "/__mock__/requests")]:
        response = httpx.request(method, no_control + path)
        assert response.status_code == 404, (method, path)
        assert response.json() == {"detail": "Not found."}
    # The Waldur API and the docs are still served.
    assert httpx.get(no_control + ORDERS).status_code == 401
    assert httpx.get(no_control + "/api/docs/").status_code == 200


def test_start_stub_refuses_a_stub_without_control() -> None:
    with pytest.raises(ValueError, match="control"):
        start_stub(Settings(control=False))


def test_control_spec_is_valid_openapi_3_0() -> None:
    from openapi_spec_validator import validate

    spec = control_spec()
    assert spec["openapi"].startswith("3.0.")
    validate(spec)
    from mockserver.spec import SPEC_PATH

    waldur = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    assert not any(path.startswith("/__mock__") for path in waldur["paths"])  # kept apart


def test_control_spec_enums_follow_the_waldur_spec() -> None:
    from mockserver import spec
    from mockserver.control.faults import FaultBook

    schemas = control_spec()["components"]["schemas"]
    # Fault operations: checked by the code against the composed spec (every area), so that a
    # new area needs no edit here.
    assert "enum" not in schemas["FaultRequest"]["properties"]["operation"]
    book = FaultBook(1, frozenset(spec.operations()))
    for operation in ("*", *spec.operations()):
        assert not isinstance(book.parse({"operation": operation, "status": 500}), dict)
    assert "customers_list" in spec.operations()
    assert book.parse({"operation": "nope", "status": 500}) == {
        "operation": ['"nope" is not a valid choice.']}
    states = schemas["OrderStateRequest"]["properties"]["state"]["enum"]
    assert sorted(states) == sorted(spec.enum_values("OrderState"))


def test_control_api_survives_schemathesis(waldur_mock: WaldurMock, tmp_path) -> None:
    """Property-based run over the whole control API: never a 5xx, responses as documented."""
    import subprocess
    import sys
    from pathlib import Path

    from mockserver.control.spec import CONTROL_SPEC_PATH

    st = Path(sys.executable).parent / "st"
    if not st.exists():
        pytest.skip("schemathesis (st) is not installed: pip install -e '.[test]'")
    run = subprocess.run(
        [str(st), "run", str(CONTROL_SPEC_PATH), "--url", waldur_mock.url + "/__mock__",
         "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,"
         "response_schema_conformance", "--max-examples", "15", "--seed", "1",
         "--phases", "examples,coverage,fuzzing", "-H", "X-Mock-Session: schemathesis"],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )
    assert run.returncode == 0, run.stdout[-3000:]
