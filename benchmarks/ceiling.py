"""The ceiling: a bare Starlette app answering the stub's own captured response bytes.

`python -m benchmarks.ceiling CAPTURES.json --port N` serves it with the same uvicorn settings
and the same access log as `waldur-mock serve` (see `served`).
"""

from __future__ import annotations

import argparse
import base64
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

# Headers uvicorn/Starlette write themselves; everything else is replayed byte for byte.
_SKIP = {"content-length", "date", "server", "connection", "transfer-encoding"}


@dataclass(frozen=True)
class Capture:
    method: str
    path: str
    query: str
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["body"] = base64.b64encode(self.body).decode()
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Capture:
        return cls(
            method=d["method"],
            path=d["path"],
            query=d["query"],
            status=d["status"],
            headers=[(k, v) for k, v in d["headers"]],
            body=base64.b64decode(d["body"]),
        )


def save(captures: Iterable[Capture], path: Path) -> None:
    path.write_text(json.dumps([c.to_json() for c in captures]), encoding="utf-8")


def load(path: Path) -> list[Capture]:
    return [Capture.from_json(d) for d in json.loads(path.read_text(encoding="utf-8"))]


def create_app(captures: Iterable[Capture]) -> Starlette:
    """One route per captured path; the answer is picked by (method, query string)."""
    table: dict[str, dict[tuple[str, str], Capture]] = {}
    for c in captures:
        table.setdefault(c.path, {})[(c.method, c.query)] = c

    def endpoint_for(answers: dict[tuple[str, str], Capture]):  # noqa: ANN202
        async def endpoint(request: Request) -> Response:
            c = answers.get((request.method, request.url.query))
            if c is None:
                return Response(b"not captured", status_code=404)
            headers = {k: v for k, v in c.headers if k.lower() not in _SKIP}
            return Response(c.body, status_code=c.status, headers=headers)

        return endpoint

    routes = [
        Route(path, endpoint_for(answers), methods=sorted({m for m, _ in answers}))
        for path, answers in table.items()
    ]
    return Starlette(routes=routes)


def served(app: Any) -> tuple[Any, dict[str, Any]]:
    """The app as `waldur-mock serve` would serve it, with its uvicorn settings: its access log
    (`mockserver.accesslog`, the same lines as uvicorn's, on by default) and `uvicorn_kwargs`.
    Both sides of a ratio then pay the same for logging. A stub without these (an older
    checkout) gets uvicorn's defaults with uvicorn's own access log, as it served then."""
    try:
        from mockserver.cli import serve_with_access_log, uvicorn_kwargs
    except ImportError:
        return app, {"log_level": "info", "access_log": True}
    wrapped, _logged = serve_with_access_log(app, True, "info")
    return wrapped, uvicorn_kwargs("info")


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("captures", type=Path)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    args = p.parse_args(argv)
    app, kwargs = served(create_app(load(args.captures)))
    uvicorn.run(app, host=args.host, port=args.port, **kwargs)


if __name__ == "__main__":
    main()
