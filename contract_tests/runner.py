"""Run the contract tests: Schemathesis's engine over the project's spec, plus the domain checks.

`run(options) -> RunResult` is the whole library; the CLI and the pytest suite are thin layers.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events, from_schema

from contract_tests import checks as _checks  # noqa: F401 - registers the checks
from contract_tests import context, drift, groups, hooks, st_config  # noqa: F401 - registers the hooks
from contract_tests import roles as _roles  # noqa: F401
from contract_tests import transitions as _transitions  # noqa: F401
from contract_tests.options import READ_METHODS, HarnessOptions
from contract_tests.redact import Redactor
from contract_tests.safety import cleanup, discover_references, project_orders
from contract_tests.target import ORDERS_PATH, Target, make_target
from mockserver import spec

STATEFUL = "Stateful sequences (OpenAPI links)"
RUN_LEVEL = "Run"


class HarnessError(Exception):
    """The run could not start (bad options, unreachable target, rejected token)."""


@dataclass
class Failure:
    operation: str
    check: str
    title: str
    message: str
    reproduce: list[str]  # curl commands, oldest first, tokens redacted
    phase: str = ""
    status: int | None = None  # the response's status (None: no response)
    failure_class: str = ""  # Schemathesis's failure class, e.g. JsonSchemaError
    signature: str = ""  # Schemathesis's stable signature of it ("" for custom checks)

    @property
    def key(self) -> tuple[str, str, str]:
        return (
            self.operation,
            self.check,
            self.message.splitlines()[0] if self.message else self.title,
        )

    @property
    def group(self) -> str:
        return groups.group_of(self.check, self.status, self.failure_class, self.signature)

    @property
    def baseline_key(self) -> str:
        """Stable across reruns with other seeds: operation, check and the kind of failure
        (Schemathesis's own signature, else the message with generated values masked)."""
        if self.check == groups.MISSING_OPERATION_CHECK:
            kind = "not served"
        elif self.failure_class and self.failure_class != "CustomFailure":
            kind = f"{self.failure_class}:{self.signature}"
        else:
            kind = groups.normalise(self.message or self.title)
        return f"{self.operation} | {self.check} | {kind}"


@dataclass
class OperationStats:
    statuses: Counter[int] = field(default_factory=Counter)
    checks_run: set[str] = field(default_factory=set)
    cases: int = 0


@dataclass
class RunResult:
    options: HarnessOptions
    target_label: str
    seed: int
    operations: dict[str, OperationStats]
    failures: list[Failure]
    errors: list[str]
    notes: list[str]
    created: list[str]
    removed: dict[str, str]
    left: dict[str, str]
    duration: float
    phases: dict[str, str] = field(default_factory=dict)
    lifecycle: dict[tuple[str, str, int], int] = field(default_factory=dict)
    unacknowledged: list[str] = field(default_factory=list)

    # operation -> top-level response fields the contract does not know (drift, not failing)
    unknown_fields: dict[str, list[str]] = field(default_factory=dict)
    known: list[Failure] = field(default_factory=list)  # failures the baseline accepts
    stale: list[dict[str, Any]] = field(default_factory=list)  # baseline entries not seen

    @property
    def ok(self) -> bool:
        return not self.failures and not self.errors and not self.left

    def failed_checks(self) -> set[str]:
        return {f.check for f in self.failures}

    def failures_for(self, operation: str) -> list[Failure]:
        return [f for f in self.failures if f.operation == operation]


# ------------------------------------------------------------------------------------------
def build_config(options: HarnessOptions, target: Target) -> SchemathesisConfig:
    profile = options.resolved_profile
    examples = options.max_examples or profile.max_examples
    stateful_examples = options.max_examples or profile.stateful_examples or examples
    phases = set(options.active_phases)
    # read-only: no DELETE/PUT/... probes of undocumented methods either
    no_unexpected_methods = {"unexpected-methods": []} if options.read_only else {}
    # the allowances for a Waldur server (checks, health checks, workers, cache) come from the
    # schemathesis.toml a plain `st run` uses (contract_tests.st_config); this run adds its choices
    run_choices: dict[str, Any] = {
        "base-url": target.base_url,
        "headers": {"Authorization": f"Token {target.token}"},
        "generation": {"max-examples": examples},
        "phases": {
            "examples": {"enabled": "examples" in phases},
            "coverage": {"enabled": "coverage" in phases, **no_unexpected_methods},
            "fuzzing": {"enabled": "fuzzing" in phases},
            "stateful": {
                "enabled": "stateful" in phases,
                "max-steps": profile.stateful_max_steps,
                "generation": {"max-examples": stateful_examples},
            },
        },
        "request-timeout": 3 if target.is_stub else 30,
    }
    data = st_config.merged(st_config.shared_settings(), run_choices)
    if options.seed is not None:
        data["seed"] = options.seed
    return SchemathesisConfig.from_dict(data)


def load_schema(options: HarnessOptions, target: Target, config: SchemathesisConfig) -> Any:
    schema = schemathesis.openapi.from_path(str(options.spec_path), config=config)
    if options.read_only or options.operations:
        # one matcher: chained `include()` calls are OR-ed by Schemathesis, not AND-ed
        schema = schema.include(lambda ctx: selected(options, ctx.operation))
    if target.app is not None:
        schema.app = target.app  # after filtering: with from_path, `ignored_auth` needs it here
    if target.is_stub and options.stateful_reset:
        install_stateful_reset(schema, target)
    return schema


def selected(options: HarnessOptions, operation: Any) -> bool:
    if options.read_only and operation.method.upper() not in READ_METHODS:
        return False
    if options.operations:
        return operation_id_of(operation) in options.operations
    return True


def operation_id_of(operation: Any) -> str:
    return {where: op for op, where in spec.operations().items()}.get(
        (operation.method.upper(), operation.path), ""
    )


def install_stateful_reset(schema: Any, target: Target) -> None:
    """Every stateful scenario starts from the seeded world (else Hypothesis replays a sequence
    against mutated state and reports it flaky)."""
    original = schema.build_state_machine

    def build_state_machine(**kwargs: Any) -> Any:
        machine = original(**kwargs)

        class ResettingStateMachine(machine):  # type: ignore[misc, valid-type]
            def __init__(self) -> None:
                target.reset()
                run = context.current()
                if run is not None:
                    run.deleted.clear()
                super().__init__()

        ResettingStateMachine.__name__ = machine.__name__
        return ResettingStateMachine

    schema.build_state_machine = build_state_machine


def preflight(target: Target, *, explicit_roles: bool = True) -> None:
    """The token must be accepted before anything else (a rejected token is not a passing run).
    Fixture users the stub rejects on purpose (an inactive user) are dropped from the roles."""
    try:
        reply = target.request("GET", ORDERS_PATH, params={"page_size": 1})
    except Exception as exc:  # noqa: BLE001 - any transport failure means the target is unusable
        raise HarnessError(f"cannot reach {target.base_url}: {type(exc).__name__}: {exc}") from None
    if reply.status == 401:
        raise HarnessError(f"the token was rejected by {target.base_url} (401)")
    for role, token in list(target.role_tokens.items()):
        if target.request("GET", ORDERS_PATH, params={"page_size": 1}, token=token).status == 401:
            if explicit_roles:
                raise HarnessError(f"the token for role {role!r} was rejected (401)")
            del target.role_tokens[role]


# ------------------------------------------------------------------------------------------
class Collector:
    def __init__(self, redactor: Redactor, *, stub: bool) -> None:
        self.redact = redactor
        self.stub = stub
        self.operations: dict[str, OperationStats] = defaultdict(OperationStats)
        self.failures: dict[tuple[str, str, str], Failure] = {}
        self.errors: list[str] = []
        self.phases: dict[str, str] = {}
        self.seen_cases: set[str] = set()
        self.phase_started: dict[str, float] = {}
        # per operation: answers that were a 404 without a DRF error body, and all others
        self.foreign_404: Counter[str] = Counter()
        self.other_answers: Counter[str] = Counter()
        self.foreign_sample: dict[str, str] = {}
        self.unknown_fields: dict[str, set[str]] = {}

    def feed(self, event: Any) -> None:
        if isinstance(event, events.ScenarioFinished):
            self._scenario(event)
        elif isinstance(event, events.PhaseStarted):
            self.phase_started[event.phase.name.value] = event.timestamp
        elif isinstance(event, events.PhaseFinished):
            name = event.phase.name.value
            reason = event.phase.skip_reason
            took = event.timestamp - self.phase_started.get(name, event.timestamp)
            self.phases[name] = event.status.value + (f" ({reason.value})" if reason else "")
            self.phases[name] += f" {took:.1f}s"
        elif isinstance(event, events.NonFatalError):
            self.errors.append(
                self.redact(f"{event.label}: {event.info.title}: {event.info.message}")
            )
        elif isinstance(event, events.FatalError):
            self.errors.append(
                self.redact(f"fatal: {type(event.exception).__name__}: {event.exception}")
            )
        elif isinstance(event, events.Interrupted):
            self.errors.append("interrupted")
        elif isinstance(event, events.EngineFinished):
            for failure in getattr(event, "failures", None) or []:
                self._add(
                    Failure(RUN_LEVEL, "after_run", failure.title, self.redact(failure.message), [])
                )

    def _scenario(self, event: Any) -> None:
        recorder = event.recorder
        stateful = event.phase.value == "stateful"
        for case_id, node in recorder.cases.items():
            label = node.value.operation.label
            stats = self.operations[label]
            if case_id not in self.seen_cases:
                self.seen_cases.add(case_id)
                stats.cases += 1
                interaction = recorder.interactions.get(case_id)
                if interaction is not None and interaction.response is not None:
                    stats.statuses[interaction.response.status_code] += 1
                    self._answer(label, interaction.response)
            for check in recorder.checks.get(case_id, ()):
                stats.checks_run.add(check.name)
                if check.status.value == "error":
                    self.errors.append(f"{label}: check {check.name} crashed")
                if check.status.value != "failure" or check.failure_info is None:
                    continue
                info = check.failure_info
                interaction = recorder.interactions.get(case_id)
                seen = (
                    f"seen: {interaction.response.status_code}"
                    if interaction is not None and interaction.response is not None
                    else "seen: no response"
                )
                steps = [step.curl for step in info.steps] or [info.code_sample]
                if stateful and self.stub:
                    steps = ["curl -X POST http://127.0.0.1:8000/__mock__/reset", *steps]
                response = interaction.response if interaction is not None else None
                failure = Failure(
                    operation=label,
                    check=check.name,
                    title=info.failure.title,
                    message=self.redact(f"{info.failure.message or ''}\n{seen}".strip()),
                    reproduce=[self.redact(s) for s in steps if s],
                    phase=event.phase.value,
                    status=response.status_code if response is not None else None,
                    failure_class=type(info.failure).__name__,
                    signature=str(getattr(info.failure, "_unique_key", "") or ""),
                )
                self._add(failure)

    def _add(self, failure: Failure) -> None:
        self.failures.setdefault(failure.key, failure)

    def _answer(self, label: str, response: Any) -> None:
        """Count whether the server answered this operation at all (see `missing_operations`);
        note the fields of a 2xx answer the contract does not know (`drift`). Only requests
        with the operation's own method count (not the coverage phase's method probes)."""
        method, _, path = label.partition(" ")
        if (getattr(response.request, "method", None) or method).upper() != method.upper():
            return
        if 200 <= response.status_code < 300:
            ok, body = _checks.body_json(response)
            unknown = drift.unknown_fields(method, path, response.status_code, body) if ok \
                else set()
            if unknown:
                self.unknown_fields.setdefault(label, set()).update(unknown)
        if response.status_code != 404:
            self.other_answers[label] += 1
            return
        ok, body = _checks.body_json(response)
        if ok and _checks.error_shape_problem(body) is None:
            self.other_answers[label] += 1
            return
        self.foreign_404[label] += 1
        if label not in self.foreign_sample:
            ctype = _checks.header(response, "content-type") or "no content type"
            self.foreign_sample[label] = f"{ctype}: {response.content[:120]!r}"

    def missing_operations(self) -> list[str]:
        """Operations the server does not serve: every answer was a 404 without a DRF error
        body (Django's HTML page for a URL no route matches)."""
        return sorted(label for label, n in self.foreign_404.items()
                      if n and not self.other_answers[label])

    def result_failures(self) -> list[Failure]:
        """The run's failures, each missing operation reported once instead of its noise."""
        missing = set(self.missing_operations())
        out = [f for f in self.failures.values() if f.operation not in missing]
        for label in sorted(missing):
            noise = [f for f in self.failures.values() if f.operation == label]
            reproduce = noise[0].reproduce if noise else []
            out.append(Failure(
                operation=label,
                check=groups.MISSING_OPERATION_CHECK,
                title=f"this server does not serve operation {label}",
                message=(f"all {self.foreign_404[label]} requests answered 404 without a DRF "
                         f"error body ({self.foreign_sample[label]}); "
                         f"{len(noise)} failures of other checks on it are not listed"),
                reproduce=reproduce[-1:],
                status=404,
            ))
        return out


def run(options: HarnessOptions) -> RunResult:
    problems = options.problems()
    if problems:
        raise HarnessError("; ".join(problems))
    started = time.monotonic()
    target = make_target(options)
    redactor = Redactor([target.token, *target.role_tokens.values()])
    ctx = context.RunContext(options=options, target=target, redactor=redactor)
    try:
        preflight(target, explicit_roles=bool(options.role_tokens))
        config = build_config(options, target)
        schema = load_schema(options, target, config)
        target.reset()
        ctx.references = discover_references(target, options)
        preexisting = project_orders(target, options)
        collector = Collector(redactor, stub=target.is_stub)
        context.activate(ctx)
        try:
            for event in from_schema(schema).execute():
                collector.feed(event)
        finally:
            context.activate(None)
            if not target.is_stub:
                cleanup(target, ctx.ledger, preexisting, options)
        seed = config.seed
    finally:
        target.close()
    return RunResult(
        options=options,
        target_label="in-process stub (ASGI)" if target.is_stub else redactor(target.base_url),
        seed=seed,
        operations=dict(collector.operations),
        failures=collector.result_failures(),
        unknown_fields={k: sorted(v) for k, v in sorted(collector.unknown_fields.items())},
        errors=collector.errors,
        notes=ctx.notes,
        created=list(ctx.ledger.created),
        removed=dict(ctx.ledger.removed),
        left=dict(ctx.ledger.left),
        unacknowledged=list(ctx.ledger.unacknowledged),
        duration=time.monotonic() - started,
        phases=collector.phases,
        lifecycle=dict(ctx.lifecycle),
    )
