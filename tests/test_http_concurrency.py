"""Racing transitions over HTTP: of ~20 concurrent approve/reject requests on one order, exactly
one wins (200) and every other one meets the 409 of the state it left behind."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import httpx

from tests.conftest import ORDERS, Api

N = 20


def test_threads_against_uvicorn(live: Any) -> None:
    backend = live.app.registry.get(None)
    uuid = backend.world.keys["orders"]["ord-pc-slurm"]
    owner = {"Authorization": f"Token {live.token('cons_owner')}"}
    creator = {"Authorization": f"Token {live.token('proj_manager')}"}
    barrier = threading.Barrier(N)
    results: list[tuple[str, int, bytes]] = []
    lock = threading.Lock()

    def fire(i: int) -> None:
        action, headers = (("approve_by_consumer", owner) if i % 2 == 0
                           else ("reject_by_consumer", creator))
        with httpx.Client(base_url=live.url, timeout=30) as client:
            barrier.wait()
            r = client.post(f"{ORDERS}{uuid}/{action}/", headers=headers)
        with lock:
            results.append((action, r.status_code, r.content))

    threads = [threading.Thread(target=fire, args=(i,)) for i in range(N)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(results) == N
    statuses = sorted(s for _, s, _ in results)
    assert statuses == [200] + [409] * (N - 1), results
    (winner,) = [a for a, s, _ in results if s == 200]
    assert all(body == b'{"detail":"Valid states for operation: pending-consumer."}'
               for _, s, body in results if s == 409)
    with httpx.Client(base_url=live.url) as client:
        state = client.get(f"{ORDERS}{uuid}/", headers=owner).json()["state"]
    assert state == ("pending-provider" if winner == "approve_by_consumer" else "rejected")


def test_asyncio_gather_over_asgi(api: Api) -> None:
    uuid = api.uuid("orders", "ord-pp-slurm")
    headers = {"Authorization": f"Token {api.token('prov_owner')}"}

    async def main() -> list[httpx.Response]:
        transport = httpx.ASGITransport(api.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            actions = ["approve_by_provider", "reject_by_provider"]
            return await asyncio.gather(*[
                c.post(f"{ORDERS}{uuid}/{actions[i % 2]}/", headers=headers) for i in range(N)
            ])

    responses = asyncio.run(main())
    assert sorted(r.status_code for r in responses) == [200] + [409] * (N - 1)
    state = api.order("ord-pp-slurm")["state"]
    assert state in ("executing", "rejected")
