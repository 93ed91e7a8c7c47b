"""A plain Schemathesis user gets the harness's allowances (issue 12): `st run` with the shipped
schemathesis.toml against a served stub passes every phase; the same file without its allowances
reports false failures, and its hooks load the harness's domain checks (a stub with a broken Link
header fails). The harness builds its configuration from the same file."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from contract_tests import st_config
from mockserver.spec import SPEC_PATH, load_spec
from tests.served import STAFF_TOKEN, free_port, served

ROOT = Path(__file__).resolve().parents[1]
ST = Path(sys.executable).with_name("st")
SPEC = "openapi/marketplace-orders.yaml"

BROKEN_LINK_STUB = '''
import sys
import uvicorn
from mockserver import create_app

app = create_app()


async def without_next(scope, receive, send):
    """The stub, but its Link headers lose rel="next" (only the domain check can tell)."""

    async def rewrite(message):
        if message["type"] == "http.response.start":
            message["headers"] = [
                (k, b", ".join(p for p in v.split(b", ") if b'rel="next"' not in p))
                if k.lower() == b"link" else (k, v)
                for k, v in message["headers"]
            ]
        await send(message)

    await app(scope, receive, rewrite)


uvicorn.run(without_next, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
'''


def orders_operations() -> list[str]:
    """operationIds of the orders contract (the file `st run` is given, not the served union)."""
    paths = load_spec(SPEC_PATH)["paths"].values()
    return [op["operationId"] for item in paths for op in item.values()
            if isinstance(op, dict) and "operationId" in op]


def st_run(url: str, *args: str, config: Path | None = None) -> subprocess.CompletedProcess:
    """`st run` from the repository root, as the docs tell a plain Schemathesis user."""
    head = [str(ST)] + (["--config-file", str(config)] if config else [])
    command = [*head, "run", SPEC, "--url", url, "-H", f"Authorization: Token {STAFF_TOKEN}",
               "--seed", "1", "--no-color", *args]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def stub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    log = tmp_path_factory.mktemp("st") / "stub.log"
    command = [sys.executable, "-m", "mockserver.cli", "serve", "--port", str(port),
               "--log-level", "warning", "--no-access-log"]
    with served(command, port, log=log) as url:
        yield url


def test_root_config_is_the_shipped_one() -> None:
    root = ROOT / "schemathesis.toml"
    assert root.resolve() == st_config.CONFIG_PATH
    assert tomllib.loads(root.read_text())["hooks"] == "contract_tests.st_hooks"


def test_plain_st_run_passes_every_phase(stub: str) -> None:
    done = st_run(stub, "--max-examples", "5")
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-4000:]
    assert f"Configuration:    {st_config.CONFIG_PATH}" in out
    for phase in ("Examples", "Coverage", "Fuzzing", "Stateful"):
        assert re.search(rf"✅ {phase}\b", out), f"phase {phase} did not pass:\n{out[-3000:]}"
    assert f"Tested: {len(orders_operations())}\n" in out, out[-2000:]  # all of the orders spec
    assert not re.search(r"\d+ failures?", out.splitlines()[-1]), out[-2000:]


def test_without_the_allowances_st_reports_false_failures(stub: str, tmp_path: Path) -> None:
    # a Waldur server's business-rule 400 for a schema-valid create: a failure unless allowed
    focus = ("--include-operation-id", "marketplace_orders_create", "--phases", "examples")
    empty = tmp_path / "schemathesis.toml"
    empty.write_text("")
    bare = st_run(stub, *focus, config=empty)
    assert bare.returncode == 1 and "Schema-valid request rejected" in bare.stdout, bare.stdout
    shipped = st_run(stub, *focus)
    assert shipped.returncode == 0, shipped.stdout[-3000:]


def test_the_hooks_bring_the_domain_checks(tmp_path: Path) -> None:
    script = tmp_path / "broken_stub.py"
    script.write_text(BROKEN_LINK_STUB)
    port = free_port()
    with served([sys.executable, str(script), str(port)], port, log=tmp_path / "log") as url:
        done = st_run(url, "--include-operation-id", "marketplace_orders_list",
                      "--phases", "fuzzing", "--max-examples", "5")
    assert done.returncode == 1, done.stdout[-3000:]
    assert "Custom check failed: `pagination_consistency`" in done.stdout, done.stdout[-3000:]


def test_the_harness_builds_its_config_from_the_same_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from contract_tests.options import HarnessOptions
    from contract_tests.runner import build_config
    from contract_tests.target import Target

    target = Target(base_url="http://127.0.0.1:9", token="t")
    shipped = build_config(HarnessOptions(), target)
    expected = tomllib.loads(st_config.CONFIG_PATH.read_text())
    allowed = expected["checks"]["positive_data_acceptance"]["expected-statuses"]
    project = shipped.projects.get_default()
    assert list(project.checks.positive_data_acceptance.expected_statuses) == allowed
    assert project.workers == expected["workers"]

    changed = tmp_path / "schemathesis.toml"
    changed.write_text(st_config.CONFIG_PATH.read_text().replace('"405", ', ""))
    monkeypatch.setattr(st_config, "CONFIG_PATH", changed)
    st_config._shared.cache_clear()
    try:
        project = build_config(HarnessOptions(), target).projects.get_default()
    finally:
        st_config._shared.cache_clear()
    assert "405" not in list(project.checks.positive_data_acceptance.expected_statuses)


def test_merged_lays_tables_over_tables() -> None:
    base = {"a": 1, "t": {"x": 1, "y": {"k": 1}}}
    out = st_config.merged(base, {"t": {"y": {"j": 2}}, "b": 2})
    assert out == {"a": 1, "b": 2, "t": {"x": 1, "y": {"k": 1, "j": 2}}}
    assert base == {"a": 1, "t": {"x": 1, "y": {"k": 1}}}  # unchanged


class _Case:
    def __init__(self, method: str, uuid: str | None) -> None:
        self.method = method
        self.path_parameters = {"uuid": uuid} if uuid else {}
        self.meta = None


class _Response:
    def __init__(self, status: int) -> None:
        self.status_code = status


class _Failure:
    def __init__(self, *checks: str) -> None:
        self.checks = checks


def test_allowance_for_an_order_an_earlier_step_removed() -> None:
    from contract_tests import allowances

    unlink = _Case("POST", "AB12-CD")
    assert allowances.removed_uuid(unlink, _Response(204)) == "ab12cd"
    assert allowances.removed_uuid(unlink, _Response(200)) is None
    assert allowances.removed_uuid(_Case("GET", "ab12cd"), _Response(204)) is None
    again = _Case("GET", "ab12cd")
    assert allowances.not_a_defect({"ensure_resource_availability"}, again, {"ab12cd"})
    assert not allowances.not_a_defect({"ensure_resource_availability"}, again, set())
    assert not allowances.not_a_defect({"not_a_server_error"}, again, {"ab12cd"})


def test_plain_st_hooks_apply_it_and_stay_out_of_a_harness_run() -> None:
    from contract_tests import context, st_hooks

    gone = _Case("DELETE", "ff00")
    st_hooks.remember_removed(None, gone, _Response(204))
    failure = _Failure("ensure_resource_availability")
    assert st_hooks.drop_allowed(None, failure, _Case("GET", "ff00"), _Response(404)) is False
    assert st_hooks.drop_allowed(None, failure, _Case("GET", "ee00"), _Response(404)) is True
    context.activate(object())  # type: ignore[arg-type]  # a harness run: its own hooks decide
    try:
        assert st_hooks.drop_allowed(None, failure, _Case("GET", "ff00"), _Response(404)) is True
    finally:
        context.activate(None)
