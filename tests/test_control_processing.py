"""Orders that move on their own (--process-delay): a Marketplace.Basic order goes from executing
to done without an agent, as on the real server (reference §2.2, §11); Slurm orders wait."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from test_control_api import get_order

from mockserver.pytest_plugin import WaldurMock, start_stub
from mockserver.settings import Settings

ORDERS = "/api/marketplace-orders/"
DELAY = 0.3


def basic_order(mock: WaldurMock) -> dict:
    """The fixture's pending-provider Marketplace.Basic order (ord-pp-basic, "disk-d")."""
    r = httpx.get(mock.url + ORDERS, params={"query": "disk-d", "state": "pending-provider"},
                  headers=mock.auth("staff"))
    found = [o for o in r.json() if o["offering_type"] == "Marketplace.Basic"]
    assert found, r.text
    return found[0]


def slurm_order(mock: WaldurMock) -> dict:
    """The fixture's pending-provider Marketplace.Slurm order (ord-pp-slurm, "order-c")."""
    r = httpx.get(mock.url + ORDERS, params={"query": "order-c", "state": "pending-provider"},
                  headers=mock.auth("staff"))
    found = [o for o in r.json() if o["offering_type"] == "Marketplace.Slurm"]
    assert found, r.text
    return found[0]


def approve_by_provider(mock: WaldurMock, uuid: str) -> None:
    r = httpx.post(f"{mock.url}{ORDERS}{uuid}/approve_by_provider/",
                   headers=mock.auth("prov_owner"))
    assert r.status_code == 200, r.text


def wait_for_state(mock: WaldurMock, uuid: str, state: str, timeout: float = 5) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if get_order(mock, uuid)["state"] == state:
            return time.perf_counter() - started
        time.sleep(0.05)
    raise AssertionError(f"order {uuid} did not reach {state} within {timeout} s")


@pytest.fixture(scope="module")
def delayed() -> Iterator[WaldurMock]:
    server, mock = start_stub(Settings(process_delay=DELAY))
    try:
        yield mock
    finally:
        mock.close()
        server.stop()


@pytest.fixture(scope="module")
def manual() -> Iterator[WaldurMock]:
    server, mock = start_stub(Settings(process_delay=None))
    try:
        yield mock
    finally:
        mock.close()
        server.stop()


def test_delay_zero_completes_a_basic_order_at_once(waldur_mock: WaldurMock) -> None:
    assert waldur_mock.settings.process_delay == 0
    order = basic_order(waldur_mock)
    approve_by_provider(waldur_mock, order["uuid"])
    assert get_order(waldur_mock, order["uuid"])["state"] == "done"


def test_positive_delay_shows_executing_then_done(delayed: WaldurMock) -> None:
    delayed.reset()
    order = basic_order(delayed)
    started = time.perf_counter()
    approve_by_provider(delayed, order["uuid"])
    assert get_order(delayed, order["uuid"])["state"] == "executing"
    wait_for_state(delayed, order["uuid"], "done")
    assert time.perf_counter() - started >= DELAY
    after = get_order(delayed, order["uuid"])
    assert after["completed_at"] is not None


def test_slurm_orders_wait_for_the_agent(delayed: WaldurMock) -> None:
    delayed.reset()
    order = slurm_order(delayed)
    approve_by_provider(delayed, order["uuid"])
    time.sleep(DELAY + 0.3)
    assert get_order(delayed, order["uuid"])["state"] == "executing"


def test_sessions_process_on_their_own(delayed: WaldurMock) -> None:
    delayed.reset()
    ci = delayed.in_session("processing-ci")
    ci.reset()
    order = basic_order(delayed)
    approve_by_provider(ci, order["uuid"])
    wait_for_state(ci, order["uuid"], "done")
    assert get_order(delayed, order["uuid"])["state"] == "pending-provider"


def test_reset_cancels_pending_processing(delayed: WaldurMock) -> None:
    delayed.reset()
    order = basic_order(delayed)
    approve_by_provider(delayed, order["uuid"])
    delayed.reset()
    time.sleep(DELAY + 0.3)
    assert get_order(delayed, order["uuid"])["state"] == "pending-provider"


def test_cancel_before_completion_wins(delayed: WaldurMock) -> None:
    delayed.reset()
    order = basic_order(delayed)
    approve_by_provider(delayed, order["uuid"])
    r = httpx.post(f"{delayed.url}{ORDERS}{order['uuid']}/cancel/", headers=delayed.auth("staff"))
    assert r.status_code == 202
    time.sleep(DELAY + 0.3)
    assert get_order(delayed, order["uuid"])["state"] == "canceled"


def test_manual_never_completes_until_told(manual: WaldurMock) -> None:
    manual.reset()
    order = basic_order(manual)
    approve_by_provider(manual, order["uuid"])
    time.sleep(0.5)
    assert get_order(manual, order["uuid"])["state"] == "executing"
    # Through the Waldur API (the provider marks it done)...
    r = httpx.post(f"{manual.url}{ORDERS}{order['uuid']}/set_state_done/",
                   headers=manual.auth("prov_owner"))
    assert r.status_code == 200
    assert get_order(manual, order["uuid"])["state"] == "done"
    # ...or through the control API.
    manual.reset()
    approve_by_provider(manual, order["uuid"])
    manual.set_order_state(order["uuid"], "done")
    assert get_order(manual, order["uuid"])["state"] == "done"


def test_index_reports_the_policy(delayed: WaldurMock, manual: WaldurMock) -> None:
    assert httpx.get(delayed.url + "/__mock__/").json()["process_delay"] == str(DELAY)
    assert httpx.get(manual.url + "/__mock__/").json()["process_delay"] == "manual"
