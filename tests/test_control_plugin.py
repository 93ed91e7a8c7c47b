"""The pytest plugin (entry point `waldur_mock`): another project's test suite uses the fixture
without managing a server. Checked with pytester in a separate pytest process."""

from __future__ import annotations

from importlib.metadata import entry_points

import pytest

from mockserver.pytest_plugin import WaldurMock

pytest_plugins = ["pytester"]

OTHER_PROJECT_TESTS = '''
import httpx

ORDERS = "/api/marketplace-orders/"
SEEN = {}


def erred(mock):
    r = httpx.get(mock.url + ORDERS, params={"state": "erred"}, headers=mock.auth("staff"))
    return r.headers["X-Result-Count"]


def test_lists_orders(waldur_mock):
    r = httpx.get(waldur_mock.url + ORDERS, headers=waldur_mock.auth("staff"))
    assert r.status_code == 200 and int(r.headers["X-Result-Count"]) > 0


def test_changes_state_and_faults(waldur_mock):
    uuid = httpx.get(waldur_mock.url + ORDERS, params={"state": "pending-consumer"},
                     headers=waldur_mock.auth("staff")).json()[0]["uuid"]
    SEEN["erred"] = erred(waldur_mock)
    waldur_mock.set_order_state(uuid, "erred")
    assert erred(waldur_mock) != SEEN["erred"]
    waldur_mock.add_fault(operation="marketplace_orders_list", status=503, times=1)
    assert httpx.get(waldur_mock.url + ORDERS, headers=waldur_mock.auth("staff")).status_code == 503
    assert waldur_mock.requests()[-1]["status"] == 503


def test_starts_again_from_the_seed(waldur_mock):
    # the previous test's changes and faults are gone
    assert waldur_mock.faults() == []
    assert erred(waldur_mock) == SEEN["erred"]


def test_settings_come_from_the_conftest(waldur_mock):
    assert waldur_mock.settings.seed == 7
    assert waldur_mock.state()  # the control API as methods
'''

CONFTEST = '''
import pytest
from mockserver.settings import Settings


@pytest.fixture(scope="session")
def waldur_mock_settings():
    return Settings(seed=7)
'''


def plugin_args() -> list[str]:
    """`-p` only when the entry point is not installed (a venv older than pyproject.toml)."""
    installed = any(ep.name == "waldur_mock" for ep in entry_points(group="pytest11"))
    return [] if installed else ["-p", "mockserver.pytest_plugin"]


def test_entry_point_is_declared() -> None:
    import tomllib
    from pathlib import Path

    pyproject = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    declared = pyproject["project"]["entry-points"]["pytest11"]
    assert declared == {"waldur_mock": "mockserver.pytest_plugin"}


def test_another_project_uses_the_fixture(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_other=OTHER_PROJECT_TESTS)
    result = pytester.runpytest_subprocess(*plugin_args(), "-p", "no:randomly", "-q")
    result.assert_outcomes(passed=4)


def test_a_failing_test_in_the_other_project_fails(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_other='''
import httpx

def test_wrong_token(waldur_mock):
    r = httpx.get(waldur_mock.url + "/api/marketplace-orders/",
                  headers={"Authorization": "Token nope"})
    assert r.status_code == 200
''')
    result = pytester.runpytest_subprocess(*plugin_args(), "-q")
    result.assert_outcomes(failed=1)


def test_fixture_handle(waldur_mock: WaldurMock) -> None:
    assert waldur_mock.url.startswith("http://127.0.0.1:")
    assert set(waldur_mock.tokens) >= {"staff", "cons_owner", "prov_owner", "plain_user"}
    with waldur_mock.client("cons_owner") as client:
        assert client.get("/api/marketplace-orders/").status_code == 200
    assert waldur_mock.requests()[-1]["user"] == "cons_owner"
    scoped = waldur_mock.in_session("plugin-session")
    assert scoped.auth("staff")["X-Mock-Session"] == "plugin-session"
    assert scoped.reset()["session"] == "plugin-session"
