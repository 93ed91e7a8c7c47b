"""Run the scenario on both sides in lockstep and collect the differences.

A `Side` is a target plus what the scenario needs on it: a token per role, the project /
offering / plan URLs, and the orders it created (scenario name -> uuid), which is how objects
are mapped between the sides. Orders created on the real side go into a `Ledger` and are removed
by `safety.cleanup` when the run ends, whatever happened (DELETE, else `unlink` with the primary
token, else cancel and report).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from contract_tests import safety
from contract_tests.compare.diff import Difference, compare
from contract_tests.compare.scenario import (
    JSON_NULL,
    MISSING_UUID,
    NO_BODY,
    ORDERS,
    SCENARIO,
    Step,
)
from contract_tests.context import Ledger
from contract_tests.options import HarnessOptions
from contract_tests.target import Reply, Target

_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_UUID = re.compile(r"\b[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\b", re.I)
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?")


@dataclass
class Side:
    label: str  # "real" or "stub"
    target: Target
    tokens: dict[str, str]  # role -> token ("staff" is the primary token)
    project: str
    offering: str
    plan: str | None
    basic_offering: str | None = None  # a Marketplace.Basic offering (cancel); optional
    basic_plan: str | None = None
    orders: dict[str, str] = field(default_factory=dict)  # scenario name -> uuid
    ledger: Ledger | None = None  # set on the real side: what must be cleaned up

    def values(self) -> dict[str, str]:
        out = {
            "project": self.project,
            "offering": self.offering,
            "plan": self.plan or "",
            "project_uuid": safety.uuid_in(self.project) or "",
            "offering_uuid": safety.uuid_in(self.offering) or "",
        }
        if self.basic_offering:
            out["basic_offering"] = self.basic_offering
            out["basic_plan"] = self.basic_plan or ""
        return out

    def fill(self, value: Any) -> Any:
        """The step's placeholders with this side's values (an unknown order: MISSING_UUID)."""
        if isinstance(value, str):
            known = self.values()
            return _PLACEHOLDER.sub(
                lambda m: known.get(m[1], self.orders.get(m[1], MISSING_UUID)), value
            )
        if isinstance(value, dict):  # a plan placeholder without a plan: the key is left out
            absent = {"{plan}"} if not self.plan else set()
            absent |= {"{basic_plan}"} if not self.basic_plan else set()
            return {k: self.fill(v) for k, v in value.items()
                    if not (isinstance(v, str) and v in absent)}
        if isinstance(value, list):
            return [self.fill(v) for v in value]
        return value

    def name_of(self, item: Any) -> str | None:
        """The scenario name of an order in a list page (None: not one of the scenario's)."""
        uuid = item.get("uuid") if isinstance(item, dict) else None
        if not isinstance(uuid, str):
            return None
        uuid = uuid.replace("-", "").lower()
        return next((name for name, mine in self.orders.items() if mine == uuid), None)

    def normalise(self, text: str) -> str:
        """Side-specific text -> names: the scenario's orders, project, offering and plan
        uuids, any other uuid, the server's origin, timestamps."""
        names = {u: n for n, u in self.orders.items()}
        refs = {safety.uuid_in(self.project): "project", safety.uuid_in(self.offering):
                "offering", safety.uuid_in(self.plan): "plan",
                safety.uuid_in(self.basic_offering): "basic_offering",
                safety.uuid_in(self.basic_plan): "basic_plan"}
        names.update({k: v for k, v in refs.items() if k})

        def uuid_name(m: re.Match[str]) -> str:
            return f"<{names.get(m[0].replace('-', '').lower(), 'uuid')}>"

        text = text.replace(self.target.origin, "<origin>")
        return _UUID.sub(uuid_name, _TIME.sub("<time>", text))

    def send(self, step: Step) -> Reply:
        if step.body is JSON_NULL:
            return self.target.raw(step.method, self.fill(step.path), {
                "Authorization": f"Token {self.tokens[step.role]}",
                "Content-Type": "application/json"}, b"null")
        body = self.fill(step.body) if step.body is not NO_BODY else None
        reply = self.target.request(
            step.method,
            self.fill(step.path),
            token=self.tokens.get(step.role),
            params=self.fill(step.params) or None,
            json_body=body,
            anonymous=step.role == "anonymous",
        )
        if step.saves and reply.status == 201:
            try:
                created = reply.json()
            except ValueError:
                created = None
            uuid = created.get("uuid") if isinstance(created, dict) else None
            if isinstance(uuid, str):
                self.orders[step.saves] = uuid.replace("-", "").lower()
                if self.ledger is not None:
                    self.ledger.add(self.orders[step.saves])
        return reply


@dataclass
class StepOutcome:
    step: Step
    real: int
    stub: int
    differences: list[Difference]


@dataclass
class CompareResult:
    outcomes: list[StepOutcome] = field(default_factory=list)
    skipped: list[Step] = field(default_factory=list)  # needed a reference the real side lacks
    preexisting: int = 0  # orders in the real project and offering before the run
    ledger: Ledger = field(default_factory=Ledger)
    error: str | None = None  # the run stopped early (e.g. the real server went away)

    @property
    def differences(self) -> list[Difference]:
        return [d for o in self.outcomes for d in o.differences]


def run_lockstep(
    real: Side,
    stub: Side,
    steps: Sequence[Step] = SCENARIO,
    on_step: Callable[[StepOutcome], None] | None = None,
) -> CompareResult:
    """Every step on the real side, then on the stub, then the comparison. The real side's
    orders are removed at the end even when a step raises."""
    result = CompareResult(ledger=real.ledger or Ledger())
    if not real.plan:  # orders without a plan on both sides, or every plan field differs
        stub.plan = None
    if not real.basic_plan:
        stub.basic_plan = None
    real.ledger = result.ledger
    options = HarnessOptions(base_url=real.target.base_url, token=real.target.token,
                             project=real.project, offering=real.offering, plan=real.plan)
    preexisting = safety.project_orders(real.target, options)
    result.preexisting = len(preexisting)
    try:
        for step in steps:
            if step.needs and step.needs not in real.values():
                result.skipped.append(step)
                continue
            got_real, got_stub = real.send(step), stub.send(step)
            outcome = StepOutcome(step, got_real.status, got_stub.status, compare(
                step, got_real, got_stub, real.normalise, stub.normalise, real.name_of,
                stub.name_of, counts=not preexisting))
            result.outcomes.append(outcome)
            if on_step is not None:
                on_step(outcome)
    except Exception as exc:  # noqa: BLE001 - reported, and the clean-up still runs
        result.error = f"{type(exc).__name__}: {exc}"
    finally:
        safety.cleanup(real.target, result.ledger, preexisting, options)
    return result


# ---------------------------------------------------------------------------------------------
# The stub's side: fixture users for the roles, the SLURM offering in the consumer's project
STUB_ROLE_USERS = {"staff": "staff", "creator": "proj_manager", "consumer": "cons_owner",
                   "provider": "prov_owner", "outsider": "plain_user"}
STUB_PROJECT, STUB_OFFERING, STUB_BASIC, STUB_PLAN = "consumer-main", "slurm", "basic", "default"


def stub_references(app: Any, origin: str, offering_key: str = STUB_OFFERING
                    ) -> tuple[str, str, str]:
    """(project, offering, plan) URLs of the stub world's scenario objects at `origin`."""
    backend = app.registry.get(None)
    keys = backend.world.keys
    project, offering = keys["projects"][STUB_PROJECT], keys["offerings"][offering_key]
    plan = next(p.uuid for p in backend.offerings[offering].plans if p.key == STUB_PLAN)
    base = f"{origin}/api/marketplace-public-offerings/{offering}/"
    return f"{origin}/api/projects/{project}/", base, f"{base}plans/{plan}/"


def stub_tokens_by_role(app: Any) -> dict[str, str]:
    backend = app.registry.get(None)
    return {role: backend.user_by_username(user).token for role, user in STUB_ROLE_USERS.items()}


def clear_scope(target: Target, project: str, offering: str) -> int:
    """Remove every order of the project and offering (staff `unlink`), so that list pages hold
    only the scenario's orders. For stubs only: never called on the real side."""
    options = HarnessOptions(base_url=target.base_url, token=target.token,
                             project=project, offering=offering)
    was_stub, target.is_stub = target.is_stub, False  # project_orders lists remote targets only
    try:
        found = safety.project_orders(target, options)
    finally:
        target.is_stub = was_stub
    for uuid in sorted(found):
        target.request("POST", f"{ORDERS}{uuid}/unlink/")
    return len(found)


def stub_side(app: Any = None) -> Side:
    """A fresh in-process stub, its scope cleared, as the reference side."""
    from contract_tests.target import STUB_BASE_URL, build_stub_app

    if app is None:
        app, _ = build_stub_app()
    tokens = stub_tokens_by_role(app)
    target = Target(STUB_BASE_URL, tokens["staff"], app=app, is_stub=True)
    project, offering, plan = stub_references(app, target.origin)
    _, basic, basic_plan = stub_references(app, target.origin, STUB_BASIC)
    clear_scope(target, project, offering)
    return Side("stub", target, tokens, project, offering, plan, basic, basic_plan)


def real_side(base_url: str, tokens: dict[str, str], project: str, offering: str,
              plan: str | None, basic_offering: str | None = None,
              basic_plan: str | None = None) -> Side:
    target = Target(base_url.rstrip("/"), tokens["staff"], role_tokens=dict(tokens),
                    is_stub=False)
    return Side("real", target, tokens, project, offering, plan, basic_offering, basic_plan,
                ledger=Ledger())
