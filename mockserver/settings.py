"""Runtime settings of the stub, shared by the CLI, the app factory and the pytest plugin."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

# Shipped inside the package; `fixtures/` at the repository root links here.
DEFAULT_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "default.yaml"


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    seed: int = 1
    fixtures: Path = DEFAULT_FIXTURES
    orders: int = 50  # extra Faker-generated orders on top of the fixture's own
    # every answer checked against the spec (mockserver.fastvalidation; ~0 on cached GETs)
    validate_responses: bool = True
    fast_path: bool = True  # mockserver.fastpath: GET list/retrieve without Connexion's stack
    # mockserver.frontdoor: a fast GET's answer is reused for the very same request until the
    # next write (on in `serve`, where only HTTP and the stub's own timers change the state;
    # off in-process, where a test may change a backend directly)
    answer_memo: bool = False
    max_attachment_bytes: int = 5 * 1024 * 1024
    max_body_bytes: int = 10 * 1024 * 1024
    # issue 5 (control API, browser use)
    control: bool = True
    cors_origins: tuple[str, ...] = ("*",)
    process_delay: float | None = 0.0  # None = "manual": executing Basic orders never finish alone
    state_file: Path | None = None
    extra: dict = field(default_factory=dict)
