"""Role checks with several tokens (`--token-for ROLE=KEY`; in-process: every fixture user).

After each call on an order, the same request is replayed as every other role:
- an order the role cannot see (its GET is 404) is 404 for every operation on it (except a
  staff-only action, which answers 403 before any lookup: `permissions.ACTION_RULES`);
- an order the role can see is never 404 for it; a refusal is 403, and a 403 changes nothing;
- no valid token ever gets 401.
An OPTIONS probe (the coverage phase's "unexpected method") is DRF's metadata answer, which a
real Waldur gives on any URL, visible or not: replayed as another role it must get the same 200.
On a non-stub target, mutating replays happen only on orders the harness created.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import schemathesis

from contract_tests import context
from contract_tests.options import READ_METHODS
from contract_tests.transitions import action_of, order_uuid, read_order
from mockserver.orders import permissions, statemachine

MAX_ROLES = 12
DETAIL = "GET /api/marketplace-orders/{uuid}/"


def staff_only(action: str | None) -> bool:
    if action is None:
        return False
    rule = permissions.ACTION_RULES.get(statemachine.TRANSITIONS[action].permission)
    return bool(rule and rule.staff_only)


def replay_problems(
    *, role: str, action: str | None, method: str, visible: bool, status: int, changed: bool
) -> list[str]:
    out: list[str] = []
    if status == 401:
        return [f"as {role}: a valid token got 401"]
    if staff_only(action):
        if not visible and status not in (403,):
            out.append(
                f"as {role}: staff-only {action} on an invisible order answered {status}, "
                "expected 403"
            )
        return out
    if not visible and status != 404:
        out.append(
            f"as {role}: {method} on an order the role cannot see answered {status}, expected 404"
        )
    if visible and status == 404 and (action is not None or method == DETAIL):
        what = action or method
        out.append(
            f"as {role}: {what} on an order the role can see answered 404 (403 if forbidden)"
        )
    if status == 403 and changed:
        out.append(f"as {role}: 403 but the order changed")
    return out


def metadata_problems(*, role: str, primary: int, status: int) -> list[str]:
    """An OPTIONS answered `primary` for the primary user: every other valid token gets the same
    answer (DRF's metadata does not look the object up for visibility)."""
    if status == 401:
        return [f"as {role}: a valid token got 401"]
    if status != primary:
        return [f"as {role}: OPTIONS answered {status}, the primary user got {primary} "
                "(DRF's metadata answer does not depend on who may see the object)"]
    return []


def _replay(target: Any, response: Any, token: str) -> Any:
    req = response.request
    parts = urlsplit(req.url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    headers = {k: v for k, v in req.headers.items() if k.lower() in ("content-type", "accept")}
    headers["Authorization"] = f"Token {token}"
    body = req.body
    if isinstance(body, str):
        body = body.encode()
    return target.raw(req.method, path, headers, body)


@schemathesis.check
def role_access_conformance(ctx: Any, response: Any, case: Any) -> None:
    """Invisible orders are 404 and forbidden actions 403 (and harmless) for every other role."""
    run = context.current()
    if run is None or not run.target.role_tokens:
        return
    uuid = order_uuid(case)
    method = (getattr(response.request, "method", None) or case.method).upper()
    # only requests that reached the order (valid input, the operation's own method): a 400 or
    # 415 is decided before any lookup and says nothing about who may see the order
    status = response.status_code
    if method == "OPTIONS":  # probe or declared: DRF's metadata answer either way
        _check_metadata_probe(run, response, case)
        return
    reached = 200 <= status < 300 or status in (403, 409)
    if uuid is None or method != case.operation.method.upper() or not reached:
        return
    mutating = method not in READ_METHODS
    if mutating and not run.target.is_stub and not run.ledger.owns(uuid):
        return
    action = action_of(case)
    problems: list[str] = []
    current = read_order(uuid)
    # one replay per (operation, order, state, outcome): bounded cost, same coverage
    memo = (case.operation.label, uuid, (current or {}).get("state"), response.status_code)
    with run.lock:
        if memo in run.memo:
            return
        run.memo.add(memo)
    for role, token in list(run.target.role_tokens.items())[:MAX_ROLES]:
        seen = run.target.get_order(uuid, token=token)
        if seen.status == 401:
            problems.append(f"as {role}: GET of the order got 401 (token rejected)")
            continue
        if seen.status not in (200, 404):
            continue  # the order was removed meanwhile, or the server is broken (other checks say)
        before = read_order(uuid) if mutating else None
        reply = _replay(run.target, response, token)
        after = read_order(uuid) if mutating else None
        problems.extend(
            replay_problems(
                role=role,
                action=action,
                method=f"{method} {case.operation.path}",
                visible=seen.status == 200,
                status=reply.status,
                changed=mutating and before != after,
            )
        )
    if problems:
        raise AssertionError(
            "the request below, replayed with other roles' tokens: " + "; ".join(problems[:4])
        )


def _check_metadata_probe(run: Any, response: Any, case: Any) -> None:
    """OPTIONS on an operation's URL (see the module docstring); only 2xx answers are replayed
    (a server without metadata answers 405 alike for everyone, and other checks say so)."""
    if not 200 <= response.status_code < 300:
        return
    memo = (case.operation.label, "OPTIONS", order_uuid(case), response.status_code)
    with run.lock:
        if memo in run.memo:
            return
        run.memo.add(memo)
    problems: list[str] = []
    for role, token in list(run.target.role_tokens.items())[:MAX_ROLES]:
        reply = _replay(run.target, response, token)
        problems.extend(metadata_problems(role=role, primary=response.status_code,
                                          status=reply.status))
    if problems:
        raise AssertionError(
            "the OPTIONS request below, replayed with other roles' tokens: "
            + "; ".join(problems[:4])
        )
