"""A quick contract run (`--quick`, seed 1) against the in-process stub, as in `make test`.

It must pass: every check green, no request without an answer, every operation exercised and the
lifecycle actually reached. Its wall time is measured by the benchmarks (`make bench`),
not asserted here. The defects it found (docs/contract-tests.md, "Findings") are fixed;
a new one fails this test with the check, the operation and the first line of the message.
"""

from __future__ import annotations

from contract_tests.options import HarnessOptions
from contract_tests.runner import run


def test_quick_run_against_the_stub() -> None:
    result = run(HarnessOptions(profile="quick", seed=1))
    assert len(result.operations) == 26, sorted(result.operations)
    assert result.lifecycle, "no action reached an existing order"
    reached = {action for action, _state, status in result.lifecycle if 200 <= status < 300}
    assert len(reached) >= 5, sorted(reached)  # the run walked the lifecycle, not just 404s
    problems = [
        f"[{f.check}] {f.operation}: {f.message.splitlines()[0] if f.message else f.title}"
        for f in result.failures
    ]
    problems += [f"error: {e}" for e in result.errors]
    problems += [f"left: {uuid}: {why}" for uuid, why in result.left.items()]
    assert not problems, "\n".join(problems)
    assert result.ok
