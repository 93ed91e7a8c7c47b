"""State-changing actions: allowed only from the states the reference allows, land in the right
state (read back), and a refused call changes nothing.

The allowed-states table is the domain's own (`mockserver.orders.statemachine.TRANSITIONS`): it is
not typed again here. Before each action the harness reads the order (`before_call` hook); after
the response the check reads it again and compares.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import schemathesis

from contract_tests import context
from contract_tests.checks import body_json
from mockserver import spec
from mockserver.orders import statemachine as sm

OPERATION_PREFIX = "marketplace_orders_"
# operationIds whose action has another name in the table
ALIASES = {"partial_update": "update"}
# What a dynamic target ("@...", resolved by the backend) may become: statemachine's docstring.
DYNAMIC_TARGETS: dict[str, tuple[str, ...]] = getattr(
    sm,
    "DYNAMIC_TARGETS",
    {
        "@after_consumer_approval": (
            sm.PENDING_PROJECT,
            sm.EXECUTING,
            sm.PENDING_START_DATE,
            sm.PENDING_PROVIDER,
        ),
        "@after_provider_approval": (sm.EXECUTING, sm.PENDING_START_DATE),
    },
)
GONE_AFTER = ("destroy", "unlink")  # the row is deleted on success


@cache
def _operation_ids() -> dict[tuple[str, str], str]:
    return {where: op_id for op_id, where in spec.operations().items()}


def operation_id(case: Any) -> str:
    return _operation_ids().get((case.method.upper(), case.operation.path), "")


def action_of(case: Any) -> str | None:
    """The transition-table action an operation performs, or None (reads, create, lists)."""
    op_id = operation_id(case)
    name = op_id[len(OPERATION_PREFIX) :] if op_id.startswith(OPERATION_PREFIX) else op_id
    name = ALIASES.get(name, name)
    return name if name in sm.TRANSITIONS else None


ORDER_PATHS = "/api/marketplace-orders/"


def order_uuid(case: Any) -> str | None:
    """The order a case is about (None for another area's `{uuid}`: a customer, a project...)."""
    if not str(getattr(case.operation, "path", ORDER_PATHS)).startswith(ORDER_PATHS):
        return None
    params = case.path_parameters or {}
    value = params.get("uuid")
    return value if isinstance(value, str) and value else None


def expected_states(action: str, before: dict[str, Any]) -> set[str] | None:
    """States the order may be in after a successful `action`; None: it must be gone."""
    if action in GONE_AFTER:
        return None
    t = sm.TRANSITIONS[action]
    state = before.get("state")
    if t.target is None:
        return {state}
    if t.target == "@erred_unless_terminal":
        return {state} if state in sm.TERMINAL_STATES else {sm.ERRED}
    targets = set(DYNAMIC_TARGETS.get(t.target, (t.target,)))
    if sm.EXECUTING in targets and sm.type_rules(before.get("offering_type", "")).auto_complete:
        targets.add(sm.DONE)  # the backend processor finishes such orders by itself
    return targets


def _drifted(before: dict[str, Any], after: dict[str, Any]) -> bool:
    """An executing order may finish by itself between the two reads (background processing)."""
    return before.get("state") == sm.EXECUTING and after.get("state") in (sm.DONE, sm.ERRED)


def conformance_problems(
    action: str, status: int, body: Any, before: dict[str, Any], after: dict[str, Any] | None
) -> list[str]:
    """What is wrong with one action call, given the order before and after (None: gone)."""
    t = sm.TRANSITIONS[action]
    state = before.get("state")
    otype = before.get("offering_type")
    state_ok = t.sources is None or state in t.sources
    type_ok = t.offering_types is None or otype in t.offering_types
    out: list[str] = []
    if 200 <= status < 300:
        if not state_ok:
            out.append(
                f"{action} succeeded ({status}) from {state!r}; "
                f"allowed only from {list(t.sources or ())}"
            )
        if not type_ok:
            out.append(
                f"{action} succeeded on a {otype} order; only {list(t.offering_types or ())}"
            )
        expected = expected_states(action, before)
        if expected is None:
            if after is not None:
                out.append(
                    f"{action} answered {status} but the order is still there "
                    f"(state {after.get('state')!r})"
                )
        elif after is None:
            out.append(f"{action} answered {status} but the order is gone")
        elif after.get("state") not in expected:
            out.append(
                f"{action} from {state!r} left the order in {after.get('state')!r}; "
                f"expected one of {sorted(expected)}"
            )
        return out
    if status == 409 and sm.V_STATE in t.validators:
        if state_ok and sm.V_MESSAGING not in t.validators:
            out.append(
                f"409 for {action} from {state!r}, which the state validator allows "
                f"{list(t.sources or ())}"
            )
        if not state_ok and t.sources:
            want = f"Valid states for operation: {', '.join(t.sources)}."
            got = body.get("detail") if isinstance(body, dict) else body
            if got != want:
                out.append(f"409 body {got!r}; expected {want!r}")
    if status == 405 and t.offering_types is not None:
        if type_ok:
            out.append(f"405 for {action} on a {otype} order, which supports it")
        order = t.validators
        if (
            not state_ok
            and sm.V_STATE in order
            and sm.V_OFFERING_TYPE in order
            and order.index(sm.V_STATE) < order.index(sm.V_OFFERING_TYPE)
        ):
            out.append(
                f"405 for {action} from {state!r}: the state validator runs first (expected 409)"
            )
    if not state_ok and status not in (400, 401, 403, 404, 405, 409) and sm.V_STATE in t.validators:
        out.append(f"{action} from {state!r} answered {status}; a wrong-state call gets 409")
    if after is None:
        out.append(f"{action} answered {status} but the order disappeared")
    elif after != before and not _drifted(before, after):
        changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
        out.append(f"{action} answered {status} but changed the order: {', '.join(changed[:8])}")
    return out


class ReadBackError(AssertionError):
    """The order could not be read back (neither 200 nor 404)."""


def read_order(uuid: str, *, strict: bool = False) -> dict[str, Any] | None:
    """The order as the primary user sees it; None when it does not exist (404)."""
    run = context.current()
    if run is None:
        return None
    reply = run.target.get_order(uuid)
    body = reply.json() if reply.status == 200 else None
    if strict and (
        reply.status not in (200, 404) or (reply.status == 200 and not isinstance(body, dict))
    ):
        raise ReadBackError(
            f"reading the order back: GET answered {reply.status}: {reply.content[:200]!r}"
        )
    return body if isinstance(body, dict) else None


def remember_before(run: context.RunContext, case: Any) -> None:
    """Read the order before an action (called from the harness's `before_call` hook). A re-send
    of the same case (e.g. by `ignored_auth`) keeps the first reading."""
    if action_of(case) is None:
        return
    uuid = order_uuid(case)
    if uuid is None or case.id in run.before_state:
        return
    order = read_order(uuid)
    with run.lock:
        run.before_state.setdefault(case.id, order)


@schemathesis.check
def state_transition_conformance(ctx: Any, response: Any, case: Any) -> None:
    """Actions succeed only from allowed states, land where the table says, and a refused
    action (409 and other 4xx) leaves the order exactly as it was."""
    run = context.current()
    action = action_of(case)
    if run is None or action is None:
        return
    with run.lock:
        before = run.before_state.pop(case.id, None)
    uuid = order_uuid(case)
    if before is None or uuid is None or response.status_code == 401:
        return
    with run.lock:
        run.lifecycle[(action, str(before.get("state")), response.status_code)] += 1
    after = read_order(uuid, strict=True)
    _, body = body_json(response)
    problems = conformance_problems(action, response.status_code, body, before, after)
    if problems:
        raise AssertionError("; ".join(problems))
