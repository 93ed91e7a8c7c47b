"""The contract harness over every area contract but the orders' (which tests/test_contract_*.py
cover): read-only, quick profile, in-process stub. A new area file is picked up by itself."""

from __future__ import annotations

import pytest

from mockserver import spec

AREAS = [p for p in spec.area_files() if p != spec.SPEC_PATH]


@pytest.mark.parametrize("path", AREAS, ids=[p.stem for p in AREAS])
def test_area_contract_holds_read_only(path) -> None:
    from contract_tests.options import HarnessOptions
    from contract_tests.runner import run

    result = run(HarnessOptions(spec_path=path, read_only=True, profile="quick", seed=1))
    assert result.errors == []
    assert [(f.operation, f.check, f.message.splitlines()[0]) for f in result.failures] == []
    assert len(result.operations) >= 5  # it really ran the area's operations


def test_login_contract_holds() -> None:
    """The structure area's one write, POST /api-auth/password/ (anonymous, no state change)."""
    from contract_tests.options import HarnessOptions
    from contract_tests.runner import run

    result = run(HarnessOptions(spec_path=spec.OPENAPI_DIR / "structure.yaml", profile="quick",
                                seed=1, operations=("api_auth_password",)))
    assert result.errors == [] and result.failures == []
    assert list(result.operations) == ["POST /api-auth/password/"]
    statuses = result.operations["POST /api-auth/password/"].statuses
    assert statuses[400] and statuses[401]
