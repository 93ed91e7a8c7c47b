"""The request journal (GET/DELETE /__mock__/requests), over HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from test_control_api import conforms, find_order

from mockserver.pytest_plugin import WaldurMock, start_stub
from mockserver.settings import Settings

ORDERS = "/api/marketplace-orders/"


def test_entries_name_the_user_never_the_token(waldur_mock: WaldurMock) -> None:
    token = waldur_mock.tokens["prov_owner"]
    httpx.get(waldur_mock.url + ORDERS, params={"page_size": 3}, headers=waldur_mock.auth("staff"))
    httpx.get(waldur_mock.url + ORDERS, params={"x-auth-token": token, "state": "done"})
    httpx.get(waldur_mock.url + ORDERS, headers={"Authorization": "Token not-a-real-token"})
    httpx.get(waldur_mock.url + ORDERS)
    entries = waldur_mock.requests()
    assert all(conforms("JournalEntry", e) == [] for e in entries)
    summary = [(e["method"], e["path"], e["query"], e["status"], e["user"], e["operation"])
               for e in entries]
    assert summary == [
        ("GET", ORDERS, "page_size=3", 200, "staff", "marketplace_orders_list"),
        ("GET", ORDERS, "state=done", 200, "prov_owner", "marketplace_orders_list"),
        ("GET", ORDERS, "", 401, None, "marketplace_orders_list"),
        ("GET", ORDERS, "", 401, None, "marketplace_orders_list"),
    ]
    raw = httpx.get(waldur_mock.url + "/__mock__/requests").text
    assert token not in raw and waldur_mock.tokens["staff"] not in raw
    assert "not-a-real-token" not in raw


def test_entries_record_time_status_and_operation(waldur_mock: WaldurMock) -> None:
    order = find_order(waldur_mock, "pending-consumer")
    httpx.post(f"{waldur_mock.url}{ORDERS}{order['uuid']}/approve_by_consumer/",
               headers=waldur_mock.auth("proj_member"))
    httpx.get(f"{waldur_mock.url}{ORDERS}{order['uuid']}")  # no slash: 301
    entries = waldur_mock.requests()
    approve, redirect = entries[-2], entries[-1]
    assert approve["operation"] == "marketplace_orders_approve_by_consumer"
    assert approve["status"] in (403, 404) and approve["user"] == "proj_member"
    assert approve["time"].endswith("Z") and approve["duration_ms"] >= 0
    assert redirect["status"] == 301
    assert [e["id"] for e in entries] == sorted(e["id"] for e in entries)


def test_control_requests_are_not_journaled_and_limit_and_clear(waldur_mock: WaldurMock) -> None:
    for size in (1, 2, 3):
        httpx.get(waldur_mock.url + ORDERS, params={"page_size": size},
                  headers=waldur_mock.auth("staff"))
    waldur_mock.faults()
    waldur_mock.state_bytes()
    entries = waldur_mock.requests()
    assert [e["query"] for e in entries] == ["page_size=1", "page_size=2", "page_size=3"]
    assert [e["query"] for e in waldur_mock.requests(limit=2)] == ["page_size=2", "page_size=3"]
    r = httpx.get(waldur_mock.url + "/__mock__/requests", params={"limit": "zero"})
    assert (r.status_code, r.json()) == (400, {"limit": ["A valid integer is required."]})
    waldur_mock.clear_requests()
    assert waldur_mock.requests() == []


def test_journal_is_per_session(waldur_mock: WaldurMock) -> None:
    dev = waldur_mock.in_session("dev-anna")
    httpx.get(waldur_mock.url + ORDERS, headers=dev.auth("cons_owner"))
    httpx.get(waldur_mock.url + ORDERS, headers=waldur_mock.auth("staff"))
    assert [(e["user"], e["session"]) for e in dev.requests()] == [("cons_owner", "dev-anna")]
    assert [(e["user"], e["session"]) for e in waldur_mock.requests()] == [("staff", None)]


@pytest.fixture(scope="module")
def small_journal() -> Iterator[WaldurMock]:
    server, mock = start_stub(Settings(extra={"journal_size": 5}))
    try:
        yield mock
    finally:
        mock.close()
        server.stop()


def test_journal_is_bounded(small_journal: WaldurMock) -> None:
    for size in range(1, 9):
        httpx.get(small_journal.url + ORDERS, params={"page_size": size},
                  headers=small_journal.auth("staff"))
    queries = [e["query"] for e in small_journal.requests()]
    assert queries == [f"page_size={n}" for n in range(4, 9)]
