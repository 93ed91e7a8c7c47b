"""Failures that are not defects of a Waldur server, as one rule shared by the harness's hooks
(contract_tests.hooks) and the ones a plain `st run` loads (contract_tests.st_hooks)."""

from __future__ import annotations

from typing import Any

from contract_tests.checks import drf_text_coercion_only


def removed_uuid(case: Any, response: Any) -> str | None:
    """The order a 204 to DELETE or an action (`unlink`) removed, as 32 lowercase hex digits."""
    uuid = (case.path_parameters or {}).get("uuid")
    if response.status_code == 204 and isinstance(uuid, str) and case.method.upper() in (
        "DELETE",
        "POST",
    ):
        return uuid.replace("-", "").lower()
    return None


def not_a_defect(failed_checks: Any, case: Any, removed: set[str]) -> bool:
    """Whether a failure is expected from any Waldur server: `negative_data_rejection` on a body
    whose only "violation" is a number in a text field (DRF takes it as text), and
    `ensure_resource_availability` on an order that an earlier step unlinked or destroyed (that
    check knows that DELETE removes a resource, not that `unlink`, a POST, does)."""
    failed = set(failed_checks or ())
    if "negative_data_rejection" in failed and drf_text_coercion_only(case):
        return True
    if "ensure_resource_availability" not in failed:
        return False
    uuid = (case.path_parameters or {}).get("uuid")
    return isinstance(uuid, str) and uuid.replace("-", "").lower() in removed
