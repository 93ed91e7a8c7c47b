"""Injected faults (/__mock__/faults), over HTTP: delays, forced statuses with the real bodies,
dropped connections, probabilities with seeded (replayable) choices, scoping and management."""

from __future__ import annotations

import socket
import time

import httpx
import pytest
from test_control_api import conforms, find_order, get_order

from mockserver.pytest_plugin import WaldurMock

ORDERS = "/api/marketplace-orders/"
LIST = "marketplace_orders_list"


def list_orders(mock: WaldurMock, user: str = "staff") -> httpx.Response:
    return httpx.get(mock.url + ORDERS, headers=mock.auth(user), timeout=10)


def test_fixed_delay_on_one_operation(waldur_mock: WaldurMock) -> None:
    fault = waldur_mock.add_fault(operation=LIST, delay=0.4)
    assert conforms("Fault", fault) == []
    started = time.perf_counter()
    assert list_orders(waldur_mock).status_code == 200
    assert time.perf_counter() - started >= 0.4
    order = find_order(waldur_mock, "done")  # a list too: delayed as well
    get_order(waldur_mock, order["uuid"])  # another operation: not delayed
    entries = waldur_mock.requests()
    assert entries[0]["fault"] == fault["id"] and entries[0]["duration_ms"] >= 400
    assert entries[0]["fault_delay_ms"] == 400
    # The journal says what was injected (no wall-clock bound on a loaded CI machine).
    assert entries[-1]["operation"] != LIST
    assert entries[-1]["fault"] is None and "fault_delay_ms" not in entries[-1]


def test_delay_range_is_seeded_and_replays(waldur_mock: WaldurMock) -> None:
    def delays(seed: int) -> list[tuple[float, float]]:
        waldur_mock.clear_faults()
        waldur_mock.clear_requests()
        waldur_mock.add_fault(delay=[0.01, 0.09], seed=seed)
        for _ in range(4):
            list_orders(waldur_mock)
        return [(e["fault_delay_ms"], e["duration_ms"]) for e in waldur_mock.requests()]

    first, again, other = delays(7), delays(7), delays(8)
    injected = [d for d, _ in first]
    assert all(10 <= d <= 90 for d in injected)
    assert len(set(injected)) > 1  # really a range
    # The request really waited for its injected delay.
    assert all(duration >= delay for delay, duration in first)
    # Same seed, same request sequence: exactly the same delays; another seed: others.
    assert injected == [d for d, _ in again]
    assert injected != [d for d, _ in other]


@pytest.mark.parametrize(
    ("status", "content_type", "body_part", "header"),
    [
        (503, "text/html", b"<center><h1>503 Service Temporarily Unavailable</h1></center>",
         ("retry-after", "1")),
        (502, "text/html", b"<hr><center>nginx</center>", None),
        (500, "text/html; charset=utf-8", b"<h1>Server Error (500)</h1>", None),
        (401, "application/json", b'{"detail": "Invalid token."}', ("www-authenticate", "Token")),
        (429, "application/json", b"Request was throttled.", ("retry-after", "1")),
        (404, "application/json", b'{"detail": "Not found."}', None),
    ],
)
def test_forced_status_sends_the_real_body(
    waldur_mock: WaldurMock, status: int, content_type: str, body_part: bytes,
    header: tuple[str, str] | None,
) -> None:
    waldur_mock.add_fault(operation=LIST, status=status)
    response = list_orders(waldur_mock)
    assert response.status_code == status
    assert response.headers["content-type"] == content_type
    assert body_part in response.content
    if header:
        assert response.headers[header[0]] == header[1]
    assert waldur_mock.requests()[-1]["status"] == status


def test_forced_status_405_names_the_method_and_custom_bodies(waldur_mock: WaldurMock) -> None:
    waldur_mock.add_fault(operation=LIST, status=405)
    assert list_orders(waldur_mock).json() == {"detail": 'Method "GET" not allowed.'}
    waldur_mock.clear_faults()
    waldur_mock.add_fault(operation=LIST, status=400, body={"state": ["Nope."]})
    response = list_orders(waldur_mock)
    assert (response.status_code, response.json()) == (400, {"state": ["Nope."]})


def test_forced_status_before_does_not_run_the_request(waldur_mock: WaldurMock) -> None:
    order = find_order(waldur_mock, "pending-consumer")
    waldur_mock.add_fault(operation="marketplace_orders_approve_by_consumer", status=503)
    r = httpx.post(f"{waldur_mock.url}{ORDERS}{order['uuid']}/approve_by_consumer/",
                   headers=waldur_mock.auth("staff"))
    assert r.status_code == 503
    assert get_order(waldur_mock, order["uuid"])["state"] == "pending-consumer"


def test_forced_status_after_runs_the_request_first(waldur_mock: WaldurMock) -> None:
    order = find_order(waldur_mock, "pending-consumer")
    waldur_mock.add_fault(operation="marketplace_orders_approve_by_consumer", status=504,
                          after=True)
    r = httpx.post(f"{waldur_mock.url}{ORDERS}{order['uuid']}/approve_by_consumer/",
                   headers=waldur_mock.auth("staff"))
    assert r.status_code == 504
    assert get_order(waldur_mock, order["uuid"])["state"] != "pending-consumer"


def test_dropped_connection(waldur_mock: WaldurMock) -> None:
    fault = waldur_mock.add_fault(operation=LIST, drop=True, times=1)
    with pytest.raises(httpx.TransportError):
        list_orders(waldur_mock)
    assert list_orders(waldur_mock).status_code == 200  # times=1: gone after firing once
    entries = waldur_mock.requests()
    assert (entries[0]["status"], entries[0]["fault"]) == (0, fault["id"])
    assert waldur_mock.faults() == []


def test_dropped_connection_sends_no_bytes_at_all(waldur_mock: WaldurMock) -> None:
    waldur_mock.add_fault(drop=True)
    host, port = waldur_mock.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"GET /api/marketplace-orders/ HTTP/1.1\r\nHost: stub\r\n\r\n")
        try:
            received = sock.recv(1024)
        except ConnectionResetError:
            received = b""
    assert received == b""


def test_probability_is_seeded_so_a_run_replays(waldur_mock: WaldurMock) -> None:
    def run(seed: int | None) -> list[int]:
        waldur_mock.clear_faults()
        spec: dict = {"operation": LIST, "status": 503, "probability": 0.5}
        if seed is not None:
            spec["seed"] = seed
        waldur_mock.add_fault(**spec)
        return [list_orders(waldur_mock).status_code for _ in range(16)]

    first = run(1234)
    assert set(first) == {200, 503}
    assert run(1234) == first
    assert run(99) != first


def test_default_seed_follows_the_stub_seed_and_fault_id(waldur_mock: WaldurMock) -> None:
    fault = waldur_mock.add_fault(status=503, probability=0.3)
    assert fault["seed"] == waldur_mock.settings.seed * 1_000_003 + fault["id"]


def test_method_filter_and_all_operations(waldur_mock: WaldurMock) -> None:
    waldur_mock.add_fault(method="post", status=503)
    assert list_orders(waldur_mock).status_code == 200
    order = find_order(waldur_mock, "pending-consumer")
    r = httpx.post(f"{waldur_mock.url}{ORDERS}{order['uuid']}/cancel/",
                   headers=waldur_mock.auth("staff"))
    assert r.status_code == 503


def test_faults_are_per_session_and_skip_the_control_api(waldur_mock: WaldurMock) -> None:
    ci = waldur_mock.in_session("flaky-ci")
    ci.add_fault(status=503)
    r = httpx.get(waldur_mock.url + ORDERS, headers=ci.auth("staff"))
    assert r.status_code == 503
    assert list_orders(waldur_mock).status_code == 200  # default session unaffected
    assert len(ci.faults()) == 1 and waldur_mock.faults() == []  # control API unaffected


def test_listing_removing_and_clearing(waldur_mock: WaldurMock) -> None:
    a = waldur_mock.add_fault(operation=LIST, delay=0.01)
    b = waldur_mock.add_fault(status=500, probability=0.1)
    listed = waldur_mock.faults()
    assert [f["id"] for f in listed] == [a["id"], b["id"]]
    assert all(conforms("Fault", f) == [] for f in listed)
    waldur_mock.remove_fault(a["id"])
    assert [f["id"] for f in waldur_mock.faults()] == [b["id"]]
    r = httpx.delete(f"{waldur_mock.url}/__mock__/faults/{a['id']}")
    assert (r.status_code, r.json()) == (404, {"detail": "Not found."})
    waldur_mock.clear_faults()
    assert waldur_mock.faults() == []
    waldur_mock.add_fault(status=500)
    waldur_mock.reset()  # a reset clears the session's faults too
    assert waldur_mock.faults() == []


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"operation": "nope", "status": 500}, {"operation": ['"nope" is not a valid choice.']}),
        ({"method": "BREW", "status": 500}, {"method": ['"BREW" is not a valid choice.']}),
        ({"status": 200}, {"status": ["Ensure this value is greater than or equal to 400."]}),
        ({"status": 500, "probability": 2},
         {"probability": ["Ensure this value is less than or equal to 1."]}),
        ({"delay": [0.5, 0.1]}, {"delay": ["The range must be [min, max] with min <= max."]}),
        ({"delay": "slow"}, {"delay": ["Expected a number or a list [min, max]."]}),
        ({}, {"non_field_errors": ["A fault needs at least one of delay, status, drop."]}),
        ({"status": 500, "drop": True},
         {"non_field_errors": ["Use either status or drop, not both."]}),
        ({"status": 500, "colour": "red"}, {"non_field_errors": ["Unknown field(s): colour."]}),
        ([1], {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}),
    ],
)
def test_invalid_faults_are_refused(waldur_mock: WaldurMock, body: object, errors: dict) -> None:
    r = httpx.post(waldur_mock.url + "/__mock__/faults", json=body)
    assert (r.status_code, r.json()) == (400, errors)
    assert waldur_mock.faults() == []
