"""The stub as users run it (`waldur-mock serve`), and what the benchmarks ask it.

`plan()` looks at a running stub and builds the request scenarios every target then answers:
list (default page), list with a `state` filter, retrieve, create, and one state action.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

from benchmarks import procs

LIST = "/api/marketplace-orders/"
SLURM = "Marketplace.Slurm"
ACTION = "set_state_erred"
STATES = (
    "pending-consumer",
    "pending-provider",
    "pending-project",
    "pending-start-date",
    "executing",
    "done",
    "erred",
    "canceled",
    "rejected",
)
_HEX32 = re.compile(r"(?<![0-9a-f])([0-9a-f]{32})(?![0-9a-f])")


def command() -> list[str]:
    """`waldur-mock` of this virtualenv (else on PATH, else `python -m mockserver.cli`);
    $BENCH_WALDUR_MOCK overrides it (e.g. "python -X importtime -m mockserver.cli")."""
    override = os.environ.get("BENCH_WALDUR_MOCK")
    if override:
        return shlex.split(override)
    local = Path(sys.executable).parent / "waldur-mock"
    if local.exists():
        return [str(local)]
    found = shutil.which("waldur-mock")
    return [found] if found else [sys.executable, "-m", "mockserver.cli"]


@cache
def serve_help() -> str:
    argv = [*command(), "serve", "--help"]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    return proc.stdout + proc.stderr


def serve_argv(port: int, orders: int, seed: int = 1, extra: tuple[str, ...] = ()) -> list[str]:
    return [*command(), *serve_args(port, orders, seed, extra)]


def serve_args(port: int, orders: int, seed: int = 1, extra: tuple[str, ...] = ()) -> list[str]:
    """The arguments of `waldur-mock` in `serve_argv` (for a program that takes the same)."""
    return ["serve", "--host", procs.HOST, "--port", str(port), "--seed", str(seed),
            "--orders", str(orders), *extra]


NO_ANSWER_MEMO = "--no-answer-memo"


def without_answer_memo() -> tuple[str, ...]:
    """`serve`'s flag that makes every GET compute its answer (remembered answers would make a
    repeated GET measure a lookup), or nothing for a stub without remembered answers."""
    return (NO_ANSWER_MEMO,) if NO_ANSWER_MEMO in serve_help() else ()


def pick_token(data: Any) -> str:
    """The staff token (sees every order) from `waldur-mock tokens --json`, whatever its shape:
    {username: token}, {username: {token: ...}} or [{username, token, ...}, ...]."""
    entries: list[tuple[str, str]] = []
    if isinstance(data, dict):
        data = data.get("users", data.get("tokens", data))
    if isinstance(data, dict):
        for name, value in data.items():
            if isinstance(value, str):
                entries.append((name, value))
            elif isinstance(value, dict):
                tok = value.get("token") or value.get("key")
                if tok:
                    entries.append((f"{name} {json.dumps(value)}", str(tok)))
    elif isinstance(data, list):
        for item in data:
            if isinstance(item, dict) and (item.get("token") or item.get("key")):
                entries.append((json.dumps(item), str(item.get("token") or item.get("key"))))
    if not entries:
        raise ValueError(f"no tokens in {data!r:.300}")
    for label, tok in entries:
        low = label.lower()
        if "staff" in low and '"is_staff": false' not in low:
            return tok
    return entries[0][1]


@cache
def token() -> str:
    proc = subprocess.run(
        [*command(), "tokens", "--json"], capture_output=True, text=True, timeout=60, check=True
    )
    return pick_token(json.loads(proc.stdout))


def auth(tok: str) -> dict[str, str]:
    return {"Authorization": f"Token {tok}"}


@dataclass(frozen=True)
class Scenario:
    name: str
    method: str
    path: str  # with the query string
    body: str | None = None
    expect: int = 200

    @property
    def split(self) -> tuple[str, str]:
        path, _, query = self.path.partition("?")
        return path, query

    def dashed(self) -> Scenario:
        """Prism wants RFC 4122 dashed UUIDs in paths (it answers 422 to Waldur's 32 hex)."""
        path = _HEX32.sub(lambda m: _dash(m.group(1)), self.path)
        return replace(self, path=path)


def _dash(h: str) -> str:
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


@dataclass(frozen=True)
class Plan:
    token: str
    scenarios: tuple[Scenario, ...]
    state_counts: dict[str, int]
    notes: tuple[str, ...] = ()

    @property
    def headers(self) -> dict[str, str]:
        return {**auth(self.token), "Content-Type": "application/json"}



def _get_json(port: int, path: str, headers: dict[str, str]) -> tuple[procs.Response, Any]:
    resp = procs.request(port, "GET", path, headers)
    if resp.status != 200:
        raise RuntimeError(f"GET {path}: {resp.status} {resp.body[:300]!r}")
    return resp, json.loads(resp.body)


def _count(port: int, query: str, headers: dict[str, str]) -> int:
    resp, body = _get_json(port, f"{LIST}?{query}&page_size=1", headers)
    count = resp.header("X-Result-Count")
    return int(count) if count is not None else len(body)


def _create_body(order: dict[str, Any]) -> str:
    """An order for the same offering, plan and project (the detail view has no project URL)."""
    root = str(order["offering"]).split("/api/", 1)[0]
    project = order.get("project") or f"{root}/api/projects/{order['project_uuid']}/"
    body = {
        "offering": order["offering"],
        "project": project,
        "attributes": {"name": "bench-order"},
        "limits": {},
        "accepting_terms_of_service": True,
    }
    if order.get("plan"):
        body["plan"] = order["plan"]
    return json.dumps(body)


# The read endpoints of the other areas (issue 10), judged like the orders' reads.
AREA_READS = (
    ("GET users/me", "/api/users/me/"),
    ("GET customers", "/api/customers/"),
    ("GET projects", "/api/projects/"),
    ("GET public offerings", "/api/marketplace-public-offerings/"),
    ("GET categories", "/api/marketplace-categories/"),
    ("GET resources", "/api/marketplace-resources/"),
)


def area_reads(port: int, headers: dict[str, str]) -> list[Scenario]:
    """GETs of the structure and marketplace areas (lists, users/me, one project, one resource)
    for the same user."""
    out = [Scenario(name, "GET", path) for name, path in AREA_READS]
    _, projects = _get_json(port, "/api/projects/", headers)
    if projects:
        out.append(Scenario("GET project retrieve", "GET",
                            f"/api/projects/{projects[0]['uuid']}/"))
    _, resources = _get_json(port, "/api/marketplace-resources/", headers)
    if resources:
        out.append(Scenario("GET resource retrieve", "GET",
                            f"/api/marketplace-resources/{resources[0]['uuid']}/"))
    return out


def plan(port: int, tok: str) -> Plan:
    """Ask the running stub for the data the scenarios need; probe each scenario once."""
    headers = {**auth(tok), "Content-Type": "application/json"}
    notes: list[str] = []
    _, page = _get_json(port, LIST, headers)
    counts = {s: _count(port, f"state={s}", headers) for s in STATES}
    common = max(counts, key=lambda s: (counts[s], s))
    scenarios = [
        Scenario("GET list", "GET", LIST),
        Scenario(f"GET list ?state={common}", "GET", f"{LIST}?state={common}"),
        Scenario("GET retrieve", "GET", f"{LIST}{page[0]['uuid']}/"),
        *area_reads(port, headers),
    ]
    for order in page:
        sc = Scenario("POST create", "POST", LIST, _create_body(order), expect=201)
        resp = procs.request(port, "POST", LIST, headers, sc.body.encode() if sc.body else None)
        if resp.status == 201:
            scenarios.append(sc)
            break
        notes.append(f"create from {order['uuid']}: {resp.status} {resp.body[:200]!r}")
    _, slurm = _get_json(port, f"{LIST}?offering_type={SLURM}&page_size=50", headers)
    for order in slurm:
        sc = Scenario(f"POST {ACTION}", "POST", f"{LIST}{order['uuid']}/{ACTION}/",
                      json.dumps({"error_message": "bench"}))
        statuses = [
            procs.request(port, "POST", sc.path, headers, (sc.body or "").encode()).status
            for _ in range(2)
        ]
        if statuses == [200, 200]:
            scenarios.append(sc)
            break
        notes.append(f"{ACTION} on {order['uuid']}: {statuses}")
    return Plan(tok, tuple(scenarios), counts, tuple(notes))
