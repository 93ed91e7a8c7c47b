"""What a harness run is asked to do: target, tokens, safety, profile. Shared by CLI and pytest."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from mockserver.spec import SPEC_PATH

ALL_PHASES: tuple[str, ...] = ("examples", "coverage", "fuzzing", "stateful")
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Profile:
    """How much testing a run does. `max_examples` is per operation and phase (fuzzing/stateful)."""

    name: str
    max_examples: int
    stateful_max_steps: int
    phases: tuple[str, ...] = ALL_PHASES
    stateful_examples: int | None = None  # stateful scenarios; defaults to max_examples
    description: str = ""


PROFILES: dict[str, Profile] = {
    "quick": Profile(
        "quick",
        max_examples=6,
        stateful_max_steps=8,
        stateful_examples=12,
        description="inner loop: every operation, every phase, few examples each",
    ),
    "default": Profile(
        "default",
        max_examples=100,
        stateful_max_steps=20,
        stateful_examples=150,
        description="CI: every operation, every phase, Hypothesis defaults scaled to fit 5 min",
    ),
    "thorough": Profile(
        "thorough",
        max_examples=300,
        stateful_max_steps=40,
        stateful_examples=500,
        description="nightly / before a release; no time promise",
    ),
}


def parse_role_tokens(items: list[str] | tuple[str, ...]) -> dict[str, str]:
    """`ROLE=KEY` items (from --token-for) -> {role: key}."""
    roles: dict[str, str] = {}
    for item in items:
        role, sep, key = item.partition("=")
        if not sep or not role.strip() or not key.strip():
            raise ValueError(f"--token-for expects ROLE=KEY, got {item.split('=', 1)[0]!r}=...")
        roles[role.strip()] = key.strip()
    return roles


@dataclass(frozen=True)
class HarnessOptions:
    """Everything a run needs. `base_url=None` means the in-process stub over ASGI."""

    base_url: str | None = None
    token: str | None = None  # primary token; in-process default: the fixture staff token
    role_tokens: Mapping[str, str] = field(default_factory=dict)
    read_only: bool = False
    project: str | None = None  # project URL the harness may create orders in (remote targets)
    offering: str | None = None  # offering URL the harness may create orders for (remote targets)
    plan: str | None = None
    seed: int | None = None
    profile: str = "default"
    phases: tuple[str, ...] | None = None  # None: the profile's phases
    operations: tuple[str, ...] = ()  # operationIds to restrict to; empty: all
    max_examples: int | None = None  # overrides the profile
    junit_xml: Path | None = None
    spec_path: Path = SPEC_PATH
    app: object | None = None  # an ASGI app to test in-process instead of a fresh stub
    reset: object | None = None  # callable resetting `app`'s state (stateful setup)
    stub_tokens: bool = True  # in-process: use every fixture user's token for the role checks
    stateful_reset: bool = True
    verbose: bool = False

    @property
    def is_stub(self) -> bool:
        return self.base_url is None

    @property
    def resolved_profile(self) -> Profile:
        try:
            return PROFILES[self.profile]
        except KeyError:
            raise ValueError(
                f"unknown profile {self.profile!r}; one of {sorted(PROFILES)}"
            ) from None

    @property
    def active_phases(self) -> tuple[str, ...]:
        return self.phases or self.resolved_profile.phases

    def with_(self, **changes: object) -> HarnessOptions:
        return replace(self, **changes)  # type: ignore[arg-type]

    def problems(self) -> list[str]:
        """Option combinations a run must refuse (safety against real deployments)."""
        out: list[str] = []
        self.resolved_profile  # noqa: B018 - raises on an unknown profile
        bad = set(self.active_phases) - set(ALL_PHASES)
        if bad:
            out.append(f"unknown phase(s): {', '.join(sorted(bad))}")
        if not self.is_stub:
            if not self.token:
                out.append("a remote target needs --token (or WALDUR_TOKEN)")
            if not self.read_only and not (self.project and self.offering):
                out.append(
                    "mutating tests against a remote target need --project URL and --offering URL "
                    "(orders are created only there and removed afterwards); or pass --read-only"
                )
        return out


def from_env(env: Mapping[str, str] | None = None) -> dict[str, object]:
    """Defaults taken from the environment (WALDUR_URL, WALDUR_TOKEN, WALDUR_CONTRACT_*)."""
    env = os.environ if env is None else env
    out: dict[str, object] = {}
    if env.get("WALDUR_URL"):
        out["base_url"] = env["WALDUR_URL"]
    if env.get("WALDUR_TOKEN"):
        out["token"] = env["WALDUR_TOKEN"]
    if env.get("WALDUR_CONTRACT_PROFILE"):
        out["profile"] = env["WALDUR_CONTRACT_PROFILE"]
    if env.get("WALDUR_CONTRACT_SEED"):
        out["seed"] = int(env["WALDUR_CONTRACT_SEED"])
    if env.get("WALDUR_PROJECT"):
        out["project"] = env["WALDUR_PROJECT"]
    if env.get("WALDUR_OFFERING"):
        out["offering"] = env["WALDUR_OFFERING"]
    if env.get("WALDUR_READ_ONLY", "").lower() in ("1", "true", "yes"):
        out["read_only"] = True
    return out
