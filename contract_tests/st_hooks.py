"""Hooks for a plain `st run` (schemathesis.toml: `hooks = "contract_tests.st_hooks"`).

They give Schemathesis's own CLI the harness's domain checks (registered on import) and its
allowances (contract_tests.allowances). Inert during a `waldur-contract` run, whose own hooks
(contract_tests.hooks) apply the same rule to the run's state.
"""

from __future__ import annotations

import threading
from typing import Any

import schemathesis

from contract_tests import allowances, context
from contract_tests import checks as _checks  # noqa: F401 - registers the stateless domain checks

_removed: set[str] = set()  # orders a 204 removed during this process's `st run`
_lock = threading.Lock()


@schemathesis.hook("after_call")
def remember_removed(ctx: Any, case: Any, response: Any) -> None:
    if context.current() is not None:
        return
    uuid = allowances.removed_uuid(case, response)
    if uuid is not None:
        with _lock:
            _removed.add(uuid)


@schemathesis.hook("filter_failure")
def drop_allowed(ctx: Any, failure: Any, case: Any, response: Any) -> bool:
    if context.current() is not None:
        return True
    with _lock:
        return not allowances.not_a_defect(getattr(failure, "checks", ()), case, _removed)
