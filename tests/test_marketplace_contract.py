"""A quick, read-only contract run against the marketplace contract alone
(openapi/marketplace.yaml), in-process: every operation exercised, every check green (schema
conformance of every answer, status codes, headers, role replays)."""

from __future__ import annotations

import pytest

from contract_tests.options import HarnessOptions
from contract_tests.runner import run
from mockserver import spec

MARKETPLACE = spec.OPENAPI_DIR / "marketplace.yaml"


def test_quick_read_only_run_against_the_marketplace_contract() -> None:
    result = run(HarnessOptions(profile="quick", seed=1, read_only=True, spec_path=MARKETPLACE))
    own = spec.load_spec(MARKETPLACE)["paths"]
    expected = {f"{m.upper()} {p}" for p, item in own.items() for m in item
                if m in ("get", "head", "post")}
    # read-only: the one POST (suggest_name) is left out
    assert set(result.operations) == {op for op in expected if not op.startswith("POST")}
    problems = [
        f"[{f.check}] {f.operation}: {f.message.splitlines()[0] if f.message else f.title}"
        for f in result.failures
    ]
    problems += [f"error: {e}" for e in result.errors]
    assert not problems, "\n".join(problems)
    assert result.ok


def test_the_run_fails_on_a_broken_marketplace(monkeypatch: pytest.MonkeyPatch) -> None:
    """Teeth: a category count of the wrong type (a stub bug) fails the same run."""
    from mockserver.marketplace.models import Marketplace

    monkeypatch.setattr(Marketplace, "offering_count", lambda self, c: "three")
    result = run(HarnessOptions(profile="quick", seed=1, read_only=True, spec_path=MARKETPLACE,
                                operations=("marketplace_categories_list",)))
    assert not result.ok
    assert "not_a_server_error" in {f.check for f in result.failures}
