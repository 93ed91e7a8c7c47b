"""Same seed + fixtures -> byte-identical answers to the same requests, also when unrelated
requests are interleaved differently."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx

ORDERS = "/api/marketplace-orders/"
TOKENS = {
    "staff": "02020271f1c2fdc62efe0b48ca5ae06ec6857e0f",
    "cons_owner": "e94df485c9c672776832e51a88921b34433bccf9",
    "proj_manager": "be9ef1008229eef1cc1aa27912f10f59cde2d587",
    "prov_owner": "683be672492af986cde636bbd6ff5bed2ea12966",
}
KEPT_HEADERS = ("content-type", "location", "link", "x-result-count")
Step = tuple[str, str, str, Any]  # method, path (may use {A}), user, json body


def script(keys: dict[str, str], base: str) -> list[Step]:
    future, slurm = keys["consumer-future"], keys["slurm"]
    body = {"project": f"{base}/api/projects/{future}/",
            "offering": f"{base}/api/marketplace-public-offerings/{slurm}/",
            "plan": f"{base}/api/marketplace-public-offerings/{slurm}/plans/{keys['slurm-plan']}/",
            "attributes": {"name": "det"}, "limits": {"cpu": 5}}
    pp = keys["ord-pp-slurm"]
    return [
        ("GET", f"{ORDERS}?project_uuid={future}", "staff", None),
        ("POST", ORDERS, "proj_manager", body),
        ("GET", ORDERS + "{A}/", "proj_manager", None),
        ("POST", ORDERS + "{A}/approve_by_consumer/", "cons_owner", None),
        ("GET", ORDERS + "{A}/", "staff", None),
        ("POST", f"{ORDERS}{pp}/approve_by_provider/", "prov_owner", None),
        ("POST", f"{ORDERS}{pp}/set_state_erred/", "prov_owner", {"error_message": "x"}),
        ("POST", f"{ORDERS}{pp}/retry/", "prov_owner", None),
        ("POST", f"{ORDERS}{pp}/set_state_done/", "prov_owner", None),
        ("GET", f"{ORDERS}{pp}/", "staff", None),
        ("GET", f"{ORDERS}{pp}/resource/", "staff", None),
        ("GET", f"{ORDERS}?project_uuid={future}&o=-created&page_size=1&page=2", "staff", None),
        ("HEAD", f"{ORDERS}?project_uuid={future}", "staff", None),
    ]


def noise(keys: dict[str, str], base: str) -> list[Step]:
    basic, main = keys["basic"], keys["consumer-main"]
    body = {"project": f"{base}/api/projects/{main}/",
            "offering": f"{base}/api/marketplace-public-offerings/{basic}/",
            "plan": f"{base}/api/marketplace-public-offerings/{basic}/plans/{keys['basic-plan']}/",
            "attributes": {"name": "noise"}}
    return [
        ("GET", ORDERS + "?page=2", "staff", None),
        ("POST", ORDERS, "cons_owner", body),
        ("POST", f"{ORDERS}{keys['ord-pp-basic']}/approve_by_provider/", "prov_owner", None),
        ("POST", f"{ORDERS}{keys['ord-exec-slurm']}/set_backend_id/", "prov_owner",
         {"backend_id": "noise"}),
        ("GET", ORDERS + "dashboard-my-orders/", "cons_owner", None),
        ("DELETE", f"{ORDERS}{keys['ord-pc-basic']}/", "cons_owner", None),
    ]


def run(app: Any, steps: list[Step], record: Callable[[int], bool]) -> list[tuple]:
    out: list[tuple] = []

    async def main() -> None:
        transport = httpx.ASGITransport(app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            created: dict[str, str] = {}
            for i, (method, path, user, body) in enumerate(steps):
                r = await c.request(method, path.format(**created), json=body,
                                    headers={"Authorization": f"Token {TOKENS[user]}"})
                if method == "POST" and path == ORDERS and record(i):
                    created["A"] = r.json()["uuid"]
                if record(i):
                    out.append((r.status_code, r.content,
                                tuple(r.headers.get(h) for h in KEPT_HEADERS)))

    asyncio.run(main())
    return out


def keys_of(app: Any) -> dict[str, str]:
    backend = app.registry.get(None)
    world = backend.world
    keys = {k: v for kind in ("projects", "offerings", "orders")
            for k, v in world.keys[kind].items()}
    for off in ("slurm", "basic"):
        keys[f"{off}-plan"] = backend.offerings[keys[off]].plans[0].uuid
    return keys


def test_byte_identical_across_apps_and_interleavings(http_settings: Any) -> None:
    from mockserver import create_app

    a, b = create_app(http_settings), create_app(http_settings)
    keys = keys_of(a)
    assert keys == keys_of(b)
    base = "http://testserver"
    steps, extra = script(keys, base), noise(keys, base)
    plain = run(a, steps, lambda i: True)
    assert [s for s, _, _ in plain][:5] == [200, 201, 200, 200, 200]
    # b: the same script with the unrelated requests spread between its steps, in reverse
    mixed: list[Step] = []
    is_script: list[bool] = []
    pending = list(reversed(extra))
    for step in steps:
        mixed.append(step)
        is_script.append(True)
        if pending:
            mixed.append(pending.pop())
            is_script.append(False)
    other = run(b, mixed, lambda i: is_script[i])
    assert len(other) == len(plain)
    for i, (x, y) in enumerate(zip(plain, other, strict=True)):
        assert x == y, (i, steps[i], x, y)


def test_reset_reproduces_the_start(http_settings: Any) -> None:
    from mockserver import create_app

    app = create_app(http_settings)
    keys = keys_of(app)
    steps = script(keys, "http://testserver")
    first = run(app, steps, lambda i: True)
    app.registry.reset(None)
    assert run(app, steps, lambda i: True) == first
