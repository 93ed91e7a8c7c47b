"""Call an ASGI app in-process (no sockets): per-request cost of the app itself, in microseconds."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

ASGIApp = Any


@dataclass(frozen=True)
class Req:
    method: str
    path: str
    query: str = ""
    headers: Mapping[str, str] | None = None
    body: bytes = b""


@dataclass
class Resp:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


def _scope(req: Req) -> dict[str, Any]:
    headers = [
        (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (req.headers or {}).items()
    ]
    if req.body:
        headers.append((b"content-length", str(len(req.body)).encode()))
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": req.method,
        "scheme": "http",
        "path": req.path,
        "raw_path": req.path.encode(),
        "root_path": "",
        "query_string": req.query.encode(),
        "headers": headers,
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "state": {},
    }


async def call(app: ASGIApp, req: Req) -> Resp:
    sent = False
    resp = Resp(0, [], b"")
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)  # a client that never disconnects
        sent = True
        return {"type": "http.request", "body": req.body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            resp.status = message["status"]
            resp.headers = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(_scope(req), receive, send)
    resp.body = b"".join(chunks)
    return resp


async def _time(app: ASGIApp, req: Req, n: int, expect: int, repeat: int) -> float:
    first = await call(app, req)
    if first.status != expect:
        raise AssertionError(f"{req.method} {req.path}: {first.status} {first.body[:300]!r}")
    batch = max(1, n // repeat)
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(batch):
            await call(app, req)
        best = min(best, (time.perf_counter() - t0) / batch)
    return best * 1e6


def per_request_us(
    app: ASGIApp, req: Req, n: int = 300, expect: int = 200, repeat: int = 5
) -> float:
    """Wall time of one request through `app`, in microseconds: the best mean of `repeat`
    batches (timeit's rule: on a shared machine the minimum is the least disturbed)."""
    return asyncio.run(_time(app, req, n, expect, repeat))


def fetch(app: ASGIApp, req: Req) -> Resp:
    return asyncio.run(call(app, req))
