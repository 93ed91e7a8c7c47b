"""The harness's Schemathesis hooks. Global by nature; inert outside a harness run."""

from __future__ import annotations

from typing import Any

import schemathesis

from contract_tests import allowances, context, safety, transitions


@schemathesis.hook
def before_call(ctx: Any, case: Any, kwargs: dict[str, Any]) -> None:
    run = context.current()
    if run is None:
        return
    safety.guard(run, case)  # first: nothing below may see a foreign order on a real deployment
    transitions.remember_before(run, case)


@schemathesis.hook
def after_call(ctx: Any, case: Any, response: Any) -> None:
    run = context.current()
    if run is None:
        return
    safety.record(run, case, response)
    uuid = allowances.removed_uuid(case, response)
    if uuid is not None:
        with run.lock:
            run.deleted.add(uuid)


@schemathesis.hook
def filter_failure(ctx: Any, failure: Any, case: Any, response: Any) -> bool:
    """Drops what is not a defect of a Waldur server (contract_tests.allowances)."""
    run = context.current()
    if run is None:
        return True
    return not allowances.not_a_defect(getattr(failure, "checks", ()), case, run.deleted)


@schemathesis.hook
def after_network_error(ctx: Any, case: Any, request: Any) -> None:
    """No response (timeout, connection reset): keep the request so the report can show it."""
    run = context.current()
    if run is None:
        return
    body = request.body
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    ctype = request.headers.get("Content-Type")
    parts = [f"curl -X {request.method}", "-H 'Authorization: Token [REDACTED]'"]
    if ctype:
        parts.append(f"-H 'Content-Type: {ctype}'")
    if body:
        parts.append("-d " + repr(str(body)[:300]))
    parts.append(f"'{request.url}'")
    run.note(run.redactor(f"no response from {case.operation.label}: {' '.join(parts)}"))
