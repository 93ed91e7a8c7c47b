"""The floor of a create: `waldur-mock serve` with the create handler's domain work replaced by
its first answer, replayed.

    python -m benchmarks.floor serve --port N --orders 10000 ...   # the same options as serve

Everything else is the served stub, unchanged: uvicorn, the access log, the front door (sessions,
journal, CORS), the write fast path (token, media type, JSON body), response validation of the
201 and the send chain. Only what `marketplace_orders_create` does (the body's rules, the new
order and its resource, the index, rendering) is skipped after the first call. The gap between
this column and the stub's is what the domain work of a create costs when served; the gap to
the ceiling is what the HTTP side of the stub costs (docs/performance.md).
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

HandlerFn = Callable[[], Awaitable[Any]]


def canned(create: HandlerFn) -> HandlerFn:
    """A handler that runs `create` once and then answers its bytes, status and headers again
    (a fresh Response each time, so everything after the handler still runs)."""
    from mockserver.orders import responses

    first: list[Any] = []

    async def replay() -> Any:
        if not first:
            first.append(await create())
        answer = first[0]
        headers = {k: v for k, v in answer.headers.items()
                   if k.lower() not in ("content-length", "content-type")}
        return responses.Response(answer.body, status_code=answer.status_code,
                                  headers=headers, media_type=answer.media_type)

    return replay


def install() -> None:
    """Replace the create handler before an app is built (Connexion and the write fast path
    look it up by its operationId when they are)."""
    from mockserver.orders import responses

    responses.marketplace_orders_create = canned(responses.marketplace_orders_create)


def main(argv: Sequence[str] | None = None) -> int:
    from mockserver import cli

    install()
    return cli.main(list(sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    sys.exit(main())
