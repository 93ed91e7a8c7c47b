"""pytest options for the contract suite (`pytest contract_tests/ ...`); same meaning as the CLI's.

    pytest contract_tests/                                  # in-process stub, default profile
    pytest contract_tests/ --waldur-url URL --waldur-token KEY --waldur-read-only
"""

from __future__ import annotations

from pathlib import Path

import pytest

from contract_tests.options import HarnessOptions, from_env, parse_role_tokens


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("waldur-contract")
    group.addoption("--waldur-url", help="server root (env WALDUR_URL); default: in-process stub")
    group.addoption("--waldur-token", help="primary API token (env WALDUR_TOKEN)")
    group.addoption("--waldur-token-for", action="append", default=[], metavar="ROLE=KEY")
    group.addoption("--waldur-read-only", action="store_true")
    group.addoption("--waldur-project")
    group.addoption("--waldur-offering")
    group.addoption("--waldur-seed", type=int)
    group.addoption("--waldur-profile")
    group.addoption("--waldur-junit-xml", type=Path)


def options_from_pytest(config: pytest.Config) -> HarnessOptions:
    values: dict[str, object] = from_env()
    for opt, name in (("waldur_url", "base_url"), ("waldur_token", "token"),
                      ("waldur_project", "project"), ("waldur_offering", "offering"),
                      ("waldur_seed", "seed"), ("waldur_profile", "profile"),
                      ("waldur_junit_xml", "junit_xml")):
        value = config.getoption(opt)
        if value is not None:
            values[name] = value
    if config.getoption("waldur_read_only"):
        values["read_only"] = True
    if config.getoption("waldur_token_for"):
        values["role_tokens"] = parse_role_tokens(config.getoption("waldur_token_for"))
    return HarnessOptions(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def harness_options(pytestconfig: pytest.Config) -> HarnessOptions:
    return options_from_pytest(pytestconfig)
