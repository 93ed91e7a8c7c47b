"""Teeth of the contract run over the marketplace contract (tests/test_contract_areas.py runs it
for every area): a stub bug in a marketplace answer fails the run."""

from __future__ import annotations

import pytest

from contract_tests.options import HarnessOptions
from contract_tests.runner import run
from mockserver import spec

MARKETPLACE = spec.OPENAPI_DIR / "marketplace.yaml"


def test_the_run_fails_on_a_broken_marketplace(monkeypatch: pytest.MonkeyPatch) -> None:
    """A category count of the wrong type (a stub bug) fails the same run."""
    from mockserver.marketplace.models import Marketplace

    monkeypatch.setattr(Marketplace, "offering_count", lambda self, c: "three")
    result = run(HarnessOptions(profile="quick", seed=1, read_only=True, spec_path=MARKETPLACE,
                                operations=("marketplace_categories_list",)))
    assert not result.ok
    assert "not_a_server_error" in {f.check for f in result.failures}
