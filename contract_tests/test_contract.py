"""The contract suite as pytest tests: one run of the harness, one test per operation.

Same code as `waldur-contract` (contract_tests.runner.run); options in conftest.py.
"""

from __future__ import annotations

import pytest

from contract_tests.options import READ_METHODS, HarnessOptions
from contract_tests.runner import RUN_LEVEL, RunResult, run
from mockserver.spec import operations


def operation_labels() -> list[str]:
    return sorted(f"{method} {path}" for method, path in operations().values())


@pytest.fixture(scope="session")
def contract_run(harness_options: HarnessOptions) -> RunResult:
    result = run(harness_options)
    if harness_options.junit_xml:
        from contract_tests.report import write_junit

        write_junit(result, harness_options.junit_xml)
    return result


def explain(result: RunResult, label: str) -> str:
    lines = []
    for f in result.failures_for(label):
        lines.append(f"[{f.check}] {f.title}: {f.message.splitlines()[0] if f.message else ''}")
        lines.extend(f"    {step}" for step in f.reproduce[-3:])
    return "\n".join(lines)


@pytest.mark.parametrize("label", operation_labels())
def test_operation(contract_run: RunResult, harness_options: HarnessOptions, label: str) -> None:
    if harness_options.read_only and label.split()[0] not in READ_METHODS:
        pytest.skip("read-only run")
    if label not in contract_run.operations:
        pytest.skip("operation not exercised in this run")
    assert not contract_run.failures_for(label), explain(contract_run, label)


def test_run_level(contract_run: RunResult) -> None:
    assert not contract_run.errors, "\n".join(contract_run.errors)
    assert not contract_run.left, f"orders not cleaned up: {contract_run.left}"
    assert not contract_run.failures_for(RUN_LEVEL), explain(contract_run, RUN_LEVEL)
