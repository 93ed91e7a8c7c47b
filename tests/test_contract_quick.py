"""A quick contract run (`--quick`, seed 1) against the in-process stub, as in `make test`.

Known stub/spec defects the harness finds today are listed below (docs/contract-tests.md,
"Findings"): they turn the test into an xfail naming them. Anything else fails the test, so a
new defect (or a harness regression) is never hidden; a fixed defect just stops appearing.
"""

from __future__ import annotations

import time

import pytest

from contract_tests.options import HarnessOptions
from contract_tests.runner import run

ORDERS = "/api/marketplace-orders/"
ORDER = ORDERS + "{uuid}/"
KNOWN_FAILURES: dict[tuple[str, str], str] = {
    ("response_schema_conformance", f"POST {ORDERS}"): "F3 callback_url '' stored and echoed",
    ("negative_data_rejection", f"POST {ORDERS}"): "F3 callback_url '' accepted",
    ("response_schema_conformance", f"GET {ORDER}"): "F3 callback_url '' echoed",
    ("negative_data_rejection", f"GET {ORDERS}"): "F4 was_auto_approved=null (spec too strict)",
    ("negative_data_rejection", f"HEAD {ORDERS}"): "F4",
    ("negative_data_rejection", f"GET {ORDERS}dashboard-my-orders/"): "F4",
    ("negative_data_rejection", f"HEAD {ORDERS}dashboard-my-orders/"): "F4",
    ("response_schema_conformance", f"GET {ORDER}offering/"): "F5 offering details",
    ("identifier_format", f"GET {ORDER}offering/"): "F5 offering components uuid ''",
    ("response_schema_conformance", f"GET {ORDER}resource/"): "F6 resource '' for null",
    ("identifier_format", f"GET {ORDER}resource/"): "F6 resource uuids ''",
    ("negative_data_rejection", f"POST {ORDER}set_state_erred/"): "F7 null error_message taken",
    ("negative_data_rejection", f"GET {ORDER}"): "F9 unknown `field` names (spec enum)",
    ("negative_data_rejection", f"GET {ORDER}offering/"): "F9",
    ("negative_data_rejection", f"GET {ORDER}resource/"): "F9",
}
# requests the stub never answers (F1: JSON `null` body, F2: multipart body)
KNOWN_ERRORS = ("Read timed out",)


def test_quick_run_against_the_stub() -> None:
    started = time.monotonic()
    result = run(HarnessOptions(profile="quick", seed=1))
    took = time.monotonic() - started
    assert len(result.operations) >= 20, sorted(result.operations)
    assert result.lifecycle, "no action reached an existing order"
    unknown = [
        f"[{f.check}] {f.operation}: {f.message.splitlines()[0] if f.message else f.title}"
        for f in result.failures
        if (f.check, f.operation) not in KNOWN_FAILURES
    ]
    unknown += [e for e in result.errors if not any(k in e for k in KNOWN_ERRORS)]
    assert not unknown, "\n".join(unknown)
    assert took < 90, f"quick profile took {took:.0f}s"
    if not result.ok:
        seen = sorted({KNOWN_FAILURES[(f.check, f.operation)][:2] for f in result.failures})
        pytest.xfail(f"known stub defects {', '.join(seen)}; {len(result.errors)} hung requests")
