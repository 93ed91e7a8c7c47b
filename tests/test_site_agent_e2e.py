"""The published waldur-site-agent (SLURM plugin, SLURM emulator), unmodified, against a served
stub with the default fixtures and its documented SLURM configuration (docs/daily-use.md):

- one `order_process` pass takes the fixture's pending Create, Update and Terminate orders of
  the Slurm offering to `done`; the emulator holds the accounts and limits, the stub's provider
  and consumer views show the backend ids and limits;
- with seeded 5xx faults on the resource actions, order processing still ends with every
  order done (the agent retries);
- one pass each of `membership_sync` and `report` logs no error, and the usages it reported
  are read back from the stub.

The agent lives in a cached virtualenv of its own (tests/site_agent_harness.py); without PyPI
the tests skip with a message saying so.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from site_agent_harness import (
    AgentSite,
    AgentUnavailable,
    agent_config,
    ensure_agent_venv,
)

from mockserver.pytest_plugin import WaldurMock, start_stub
from mockserver.settings import Settings

PROVIDER = "prov_owner"
SLURM_ORDERS = ("ord-pp-slurm", "ord-exec-slurm", "ord-update-slurm", "ord-terminate-slurm")
CREATED = {"ord-pp-slurm": ("a_order-c", {"cpu": 100, "ram": 200}),
           "ord-exec-slurm": ("a_order-h", {"cpu": 50, "ram": 100})}


@pytest.fixture(scope="module")
def agent_venv() -> Path:
    try:
        return ensure_agent_venv()
    except AgentUnavailable as exc:
        pytest.skip(f"site agent end-to-end tests skipped: {exc}")


def _served_stub() -> Iterator[WaldurMock]:
    """A served stub with only the fixture's orders (no generated ones for the agent to meet),
    remembering answers as `waldur-mock serve` does (the agent polls the same GETs)."""
    server, mock = start_stub(Settings(orders=0, answer_memo=True))
    try:
        yield mock
    finally:
        mock.close()
        server.stop()


@pytest.fixture(scope="module")
def stub() -> Iterator[WaldurMock]:
    """The module's stub, shared by the tests that build on its order_process pass."""
    yield from _served_stub()


@pytest.fixture
def own_stub() -> Iterator[WaldurMock]:
    """A stub for one test (the tests that do not build on the shared order_process pass)."""
    yield from _served_stub()


def keys(mock: WaldurMock, kind: str) -> dict[str, str]:
    return mock.state()["keys"][kind]


def get(mock: WaldurMock, path: str, user: str = "staff", **params: Any) -> Any:
    with mock.client(user, timeout=30) as client:
        response = client.get(path, params=params)
    assert response.status_code == 200, (path, response.status_code, response.text)
    return response.json()


def make_site(mock: WaldurMock, venv: Path, workdir: Path) -> AgentSite:
    offering = keys(mock, "offerings")["slurm"]
    site = AgentSite(venv, workdir,
                     agent_config(mock.url, mock.tokens[PROVIDER], offering, venv / "bin"))
    site.write_config()
    seed_emulator(mock, site)
    return site


def seed_emulator(mock: WaldurMock, site: AgentSite) -> None:
    """The cluster as it stands before the agent starts: the accounts of the fixture's existing
    Slurm resources (customer -> project -> allocation, named as the agent would name them),
    and the emulator's clock at today (UTC, the agent's timezone), so that `sacct` reports this
    month's usage."""
    site.emulator(f"time_set {datetime.datetime.now(datetime.UTC).date().isoformat()}")
    offering = keys(mock, "offerings")["slurm"]
    resources = get(mock, "/api/marketplace-provider-resources/", PROVIDER,
                    offering_uuid=offering, state="OK", page_size=100)
    made: set[str] = set()
    for res in resources:
        if not res["backend_id"]:
            continue
        customer, project = f"c_{res['customer_slug']}", f"p_{res['project_slug']}"
        for account, parent, org in ((customer, None, customer), (project, customer, customer),
                                     (res["backend_id"], project, project)):
            if account not in made:
                made.add(account)
                site.sacctmgr("add", "account", account, f"organization={org}",
                              *([f"parent={parent}"] if parent else []))
    accounts = site.emulator_state().get("accounts", {})
    assert {"a_existing-allocation", "a_retired-allocation"} <= set(accounts), accounts


def order_states(mock: WaldurMock) -> dict[str, str]:
    uuids = keys(mock, "orders")
    return {key: get(mock, f"/api/marketplace-orders/{uuids[key]}/", PROVIDER)["state"]
            for key in SLURM_ORDERS}


def resource_of(mock: WaldurMock, order_key: str) -> dict[str, Any]:
    uuid = keys(mock, "orders")[order_key]
    return get(mock, f"/api/marketplace-orders/{uuid}/resource/", PROVIDER)


@pytest.fixture(scope="module")
def processed(stub: WaldurMock, agent_venv: Path, tmp_path_factory: pytest.TempPathFactory
              ) -> tuple[AgentSite, Any]:
    """One order_process pass against the freshly reset stub (shared by the tests below, which
    then run the other modes on the state it left)."""
    stub.clear_faults()
    stub.reset()
    site = make_site(stub, agent_venv, tmp_path_factory.mktemp("agent"))
    run = site.run("order_process", timeout=120)
    return site, run


def test_order_process_takes_the_slurm_orders_to_done(stub: WaldurMock, processed: Any) -> None:
    site, run = processed
    assert run.finished, run.log[-3000:]
    assert order_states(stub) == dict.fromkeys(SLURM_ORDERS, "done"), run.log[-3000:]
    assert not run.errors, run.errors
    # the stub saw the agent's registration and resource writes, every one answered as declared
    journal = stub.requests()
    operations = {e["operation"] for e in journal}
    assert {"marketplace_site_agent_identities_create",
            "marketplace_site_agent_identities_register_service",
            "marketplace_site_agent_services_register_processor",
            "marketplace_provider_resources_set_backend_id",
            "marketplace_provider_resources_set_limits",
            "marketplace_provider_resources_team_list"} <= operations, sorted(operations)
    assert all(e["status"] < 400 for e in journal), [
        (e["method"], e["path"], e["status"]) for e in journal if e["status"] >= 400]


def test_emulator_holds_the_accounts_and_limits(processed: Any) -> None:
    site, _run = processed
    accounts = site.emulator_state()["accounts"]
    for account, limits in CREATED.values():
        assert account in accounts, sorted(accounts)
        assert accounts[account]["parent"] == "p_consumer-1"
        assert accounts[account]["limits"] == tres_minutes(limits), accounts[account]
    assert "a_retired-allocation" not in accounts  # Terminate
    assert accounts["a_existing-allocation"]["limits"] == tres_minutes(  # Update
        {"cpu": 2000, "ram": 8000})


def tres_minutes(limits: dict[str, int]) -> dict[str, int]:
    """The SLURM limits of the documented config: with a `target_components` mapping present,
    cpu passes through and ram becomes mem x 1024 (waldur_site_agent_slurm's ComponentMapper)."""
    return {"GrpTRESMins:cpu": limits["cpu"], "GrpTRESMins:mem": limits["ram"] * 1024}


def test_stub_shows_backend_ids_and_limits(stub: WaldurMock, processed: Any) -> None:
    for key, (account, limits) in CREATED.items():
        res = resource_of(stub, key)
        assert res["backend_id"] == account
        assert {k: res["limits"][k] for k in limits} == limits
        provider = get(stub, f"/api/marketplace-provider-resources/{res['uuid']}/", PROVIDER)
        consumer = get(stub, f"/api/marketplace-resources/{res['uuid']}/", "cons_owner")
        for view in (provider, consumer):
            assert view["backend_id"] == account and view["state"] == "OK"
            assert {k: view["limits"][k] for k in limits} == limits
    assert resource_of(stub, "ord-update-slurm")["limits"] == {"cpu": 2000, "ram": 8000}
    assert resource_of(stub, "ord-terminate-slurm")["state"] == "Terminated"
    identity = get(stub, "/api/marketplace-site-agent-identities/", PROVIDER)
    assert [i["name"] for i in identity] == [f"agent-{keys(stub, 'offerings')['slurm']}"]
    assert identity[0]["services"][0]["name"] == "order_process"


def test_membership_sync_pass_logs_no_error(stub: WaldurMock, processed: Any) -> None:
    site, _run = processed
    stub.clear_requests()
    run = site.run("membership_sync", timeout=90)
    assert run.finished, run.log[-3000:]
    assert not run.errors, run.errors
    synced = [e for e in stub.requests()
              if e["operation"] == "marketplace_provider_resources_refresh_last_sync"]
    assert len(synced) >= 3 and all(e["status"] == 200 for e in synced), synced
    res = resource_of(stub, "ord-pp-slurm")
    assert res["last_sync"] > res["created"]


def test_report_pass_reports_usages_that_read_back(stub: WaldurMock, processed: Any) -> None:
    site, _run = processed
    site.emulator("usage_inject proj_admin 12 a_order-c")
    run = site.run("report", timeout=90)
    assert run.finished, run.log[-3000:]
    assert not run.errors, run.errors
    res = resource_of(stub, "ord-pp-slurm")
    usages = get(stub, "/api/marketplace-component-usages/", PROVIDER, resource_uuid=res["uuid"])
    assert usages, run.log[-3000:]
    assert {u["type"] for u in usages} >= {"cpu"}
    assert any(u["usage"] > 0 for u in usages), usages
    # the consumer reads them back too, and the resource's current usages show them
    consumer = get(stub, "/api/marketplace-component-usages/", "cons_owner",
                   resource_uuid=res["uuid"])
    assert [u["uuid"] for u in consumer] == [u["uuid"] for u in usages]
    # (the agent reports this month and the previous one; the resource shows the latest)
    latest = max(u["billing_period"] for u in usages)
    current = get(stub, f"/api/marketplace-resources/{res['uuid']}/", "cons_owner")
    assert current["current_usages"] == {u["type"]: u["usage"] for u in usages
                                         if u["billing_period"] == latest}
    per_user = get(stub, "/api/marketplace-component-user-usages/", PROVIDER,
                   resource_uuid=res["uuid"])
    assert {u["username"] for u in per_user} == {"proj_admin"}, per_user


def test_order_processing_survives_seeded_5xx_faults(own_stub: WaldurMock, agent_venv: Path,
                                                     tmp_path: Path) -> None:
    site = make_site(own_stub, agent_venv, tmp_path)
    # One 5xx on each step of a Create. set_backend_id fails *after* storing the id: a 5xx
    # before it would make the published agent re-create its own account on the retry and
    # err the order (docs/site-agent.md).
    own_stub.add_fault(operation="marketplace_orders_approve_by_provider", status=502, times=1)
    own_stub.add_fault(operation="marketplace_provider_resources_set_backend_id", status=503,
                       after=True, times=1)
    own_stub.add_fault(operation="marketplace_provider_resources_set_limits", status=503,
                       times=1)
    own_stub.add_fault(operation="marketplace_orders_set_state_done", status=500, times=1)
    try:
        run = site.run("order_process", timeout=150)
    finally:
        fired = {f["operation"]: f["fired"] for f in own_stub.faults()}
        own_stub.clear_faults()
    assert run.finished, run.log[-3000:]
    assert order_states(own_stub) == dict.fromkeys(SLURM_ORDERS, "done"), run.log[-3000:]
    assert fired == {}, fired  # each fault fired its one time (and was removed)
    assert {500, 502, 503} <= {e["status"] for e in own_stub.requests()}
    for key, (account, limits) in CREATED.items():
        res = resource_of(own_stub, key)
        assert res["backend_id"] == account and res["limits"] == limits


def test_a_broken_stub_fails_these_checks(own_stub: WaldurMock, agent_venv: Path,
                                          tmp_path: Path) -> None:
    """Teeth: when the stub breaks a call the agent needs (its provider offering answers 404),
    the agent skips the offering, logs the error and leaves the orders pending: the checks
    above (orders done, no error in the log) would fail."""
    site = make_site(own_stub, agent_venv, tmp_path)
    own_stub.add_fault(operation="marketplace_provider_offerings_retrieve", status=404)
    try:
        run = site.run("order_process", timeout=60)
    finally:
        own_stub.clear_faults()
    assert run.finished
    assert any("Unable to process the offering" in e for e in run.errors), run.errors
    states = order_states(own_stub)
    assert states["ord-pp-slurm"] == "pending-provider" and states["ord-exec-slurm"] == "executing"


def test_without_pypi_the_install_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                          ) -> None:
    """Offline, ensure_agent_venv raises AgentUnavailable (the module's tests then skip with its
    message) and leaves no half-made virtualenv behind."""
    venv = tmp_path / "agent-venv"
    monkeypatch.setenv("WALDUR_MOCK_AGENT_VENV", str(venv))
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple/")  # nothing listens
    monkeypatch.setenv("PIP_FIND_LINKS", "")
    monkeypatch.setenv("PIP_NO_INDEX", "")
    with pytest.raises(AgentUnavailable, match="could not install the site agent from PyPI"):
        ensure_agent_venv()
    assert not venv.exists()


def test_agent_venv_is_cached(agent_venv: Path) -> None:
    """A second call reuses the virtualenv (no install)."""
    assert ensure_agent_venv() == agent_venv
    assert (agent_venv / ".installed").is_file()
