"""`--version` of both commands: the package version (pyproject.toml, read from the installed
metadata) and the Waldur API version (the spec's info), each defined in one place. And
`waldur-contract` without Schemathesis says which extra to install."""

from __future__ import annotations

import sys
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest

from contract_tests import cli as contract_cli
from mockserver import cli as mock_cli
from mockserver.spec import SPEC_PATH, load_spec
from mockserver.version import api_versions, package_version

ROOT = Path(__file__).resolve().parents[1]


def test_package_version_is_pyproject_s() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert package_version() == declared


def test_waldur_api_version_is_the_spec_s_and_the_client_s() -> None:
    info = load_spec(SPEC_PATH)["info"]
    assert api_versions() == (info["x-waldur-api-version"], info["version"])
    # the schemas follow the published client of that Waldur release (house rules)
    assert info["x-waldur-api-version"] == version("waldur-api-client")
    assert info["version"].startswith(info["x-waldur-api-version"])


@pytest.mark.parametrize(("main", "prog"), [(mock_cli.main, "waldur-mock"),
                                            (contract_cli.main, "waldur-contract")])
def test_version_option(main, prog: str, capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    api, contract = api_versions()
    assert capsys.readouterr().out == (
        f"{prog} {package_version()} (Waldur API {api}, contract {contract})\n"
    )


def test_contract_without_schemathesis_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setitem(sys.modules, "schemathesis", None)  # import fails: not installed
    monkeypatch.delitem(sys.modules, "contract_tests.runner", raising=False)
    assert contract_cli.main(["--quick"]) == contract_cli.EXIT_USAGE
    assert "pip install 'waldur-orders-mock[contract]'" in capsys.readouterr().err
