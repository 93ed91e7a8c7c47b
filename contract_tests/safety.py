"""Safety against real deployments.

On a non-stub target a mutating request may only touch orders the harness created itself, in the
project and offering given on the command line; every such order is removed at the end of the run.
Reads (GET/HEAD) are never changed. The stub in-process is reset instead and needs none of this.
"""

from __future__ import annotations

import uuid as uuidlib
import zlib
from typing import Any

from contract_tests.context import Ledger, RunContext
from contract_tests.options import READ_METHODS
from contract_tests.target import Target

CREATE_PATH = "/api/marketplace-orders/"


class ReadOnlyViolation(RuntimeError):
    """A mutating request was about to leave a read-only run (it is not sent)."""


def is_create(case: Any) -> bool:
    return case.method.upper() == "POST" and case.operation.path == CREATE_PATH


def guard(run: RunContext, case: Any) -> None:
    """Rewrite a mutating case so it cannot touch anything but the harness's own orders, and
    point the orders it creates at real references (see `fill_references`)."""
    if case.method.upper() in READ_METHODS:
        return
    if run.options.read_only:
        raise ReadOnlyViolation(
            f"read-only run refused to send {case.method} {case.formatted_path}"
        )
    fill_references(run, case)
    if run.target.is_stub:
        return
    params = case.path_parameters or {}
    value = params.get("uuid")
    if value is not None and not (isinstance(value, str) and run.ledger.owns(value)):
        # a random uuid4 cannot name an existing order: the request gets the server's 404
        params["uuid"] = uuidlib.uuid4().hex
        run.note(
            "mutating requests on orders the harness did not create went to a random uuid (404)"
        )


def fill_references(run: RunContext, case: Any) -> None:
    """A generated create body names random URLs, which any Waldur answers with 400; the orders
    that get created are what the stateful links start from. Where the body has a string
    `project` / `offering` / `plan`, put real ones in: the command line's on a remote target
    (and nothing else), one of the world's (picked from the generated value) on the stub.
    Schemathesis re-classifies the case after this edit, so negative cases stay negative."""
    if not is_create(case) or not isinstance(case.body, dict) or not run.references:
        return
    pick = zlib.crc32(repr(sorted(case.body.items(), key=str)).encode()) % len(run.references)
    chosen = dict(zip(("project", "offering", "plan"), run.references[pick], strict=True))
    for key, value in chosen.items():
        if key in case.body and isinstance(case.body[key], str):
            if value:
                case.body[key] = value
            else:
                del case.body[key]


def discover_references(target: Target, options: Any) -> list[tuple[str, str, str | None]]:
    """(project URL, offering URL, plan URL) triples the harness may create orders with."""
    if not target.is_stub:
        if options.project and options.offering:
            return [(options.project, options.offering, options.plan)]
        return []
    reply = target.request("GET", CREATE_PATH, params={"page_size": 300})
    orders = reply.json() if reply.status == 200 else []
    triples: set[tuple[str, str, str | None]] = set()
    for order in orders or []:
        project = f"{target.origin}/api/projects/{order.get('project_uuid')}/"
        triples.add((project, order.get("offering"), order.get("plan")))
    return sorted(triples, key=str)


def record(run: RunContext, case: Any, response: Any) -> None:
    """Ledger bookkeeping after a call (all targets: the stub's run shows it too)."""
    if run.target.is_stub:
        return
    status = response.status_code
    if is_create(case) and status == 201:
        try:
            created = response.json()
        except ValueError:
            created = None
        if isinstance(created, dict) and isinstance(created.get("uuid"), str):
            run.ledger.add(created["uuid"].replace("-", "").lower())
        return
    value = (case.path_parameters or {}).get("uuid")
    if isinstance(value, str) and run.ledger.owns(value) and status == 204:
        how = "unlink" if case.operation.path.endswith("/unlink/") else case.method.upper()
        run.ledger.removed[value.replace("-", "").lower()] = f"{how} (during the run)"


def uuid_in(url: str | None) -> str | None:
    """The last 32-hex segment of an API URL."""
    for part in reversed((url or "").rstrip("/").split("/")):
        if len(part.replace("-", "")) == 32:
            return part.replace("-", "").lower()
    return None


def project_orders(target: Target, options: Any) -> set[str]:
    """Uuids of the orders in the harness's project and offering (remote targets)."""
    project, offering = uuid_in(options.project), uuid_in(options.offering)
    if target.is_stub or not project or not offering:
        return set()
    found: set[str] = set()
    for page in range(1, 50):
        reply = target.request(
            "GET",
            CREATE_PATH,
            params={
                "project_uuid": project,
                "offering_uuid": offering,
                "page_size": 300,
                "page": page,
                "field": "uuid",
            },
        )
        if reply.status != 200 or not isinstance(reply.json(), list):
            break
        found.update(o["uuid"] for o in reply.json() if isinstance(o, dict) and "uuid" in o)
        if 'rel="next"' not in reply.headers.get("link", ""):
            break
    return found


def cleanup(
    target: Target, ledger: Ledger, preexisting: set[str] | None = None, options: Any = None
) -> None:
    """Remove every order the harness created and has not removed yet. Orders that appeared in
    the harness's project and offering during the run without a 201 the harness saw (e.g. the
    create answered 500 after saving) are the harness's too: they are removed as well."""
    if preexisting is not None and options is not None:
        for uuid in sorted(project_orders(target, options) - preexisting - set(ledger.created)):
            ledger.add(uuid)
            ledger.unacknowledged.append(uuid)
    for uuid in ledger.created:
        if uuid in ledger.removed:
            continue
        reply = target.get_order(uuid)
        if reply.status == 404:
            ledger.removed[uuid] = "already gone"
            continue
        attempts = [
            ("DELETE", target.order_path(uuid)),
            ("POST", f"{target.order_path(uuid)}unlink/"),
        ]
        done = False
        for method, path in attempts:
            got = target.request(method, path)
            if got.status == 204:
                ledger.removed[uuid] = f"{method} {path}"
                done = True
                break
        if not done:
            state = (reply.json() or {}).get("state") if reply.status == 200 else None
            cancel = target.request("POST", f"{target.order_path(uuid)}cancel/")
            ledger.left[uuid] = f"state {state!r}: DELETE and unlink refused" + (
                " (canceled instead)" if cancel.status == 202 else ""
            )
