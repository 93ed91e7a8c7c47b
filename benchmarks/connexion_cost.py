"""Benchmark 4: what Connexion costs per request on our spec, in-process (no sockets, no wrk).

A small Connexion AsyncApp built from openapi/marketplace-orders.yaml whose handlers return the
spec's own example order (a 10-order page for the list), under several configurations, against
a bare Starlette app returning the same bytes (the baseline, measured in the same run):

  starlette-bytes          the ceiling: prebuilt bytes
  connexion-bytes          handlers return prebuilt bytes; request validation on
  connexion-dict           handlers return dicts (Connexion's stdlib-json serialisation)
  connexion-dict+validate  ... and Connexion's default response validation (jsonschema)
  connexion-dict+fastval   ... response validation through mockserver.fastvalidation
  connexion-bytes+fastval  prebuilt (orjson) bytes + mockserver.fastvalidation (responses and
                           cached parameter validators)
  starlette-dict+fastval   no Connexion: a Starlette route that serialises the dict with orjson
                           and validates it with the same compiled validator (what a fast path
                           outside Connexion could reach)
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from benchmarks import asgi
from benchmarks.ceiling import Capture
from benchmarks.ceiling import create_app as ceiling_app
from mockserver.orders.rendercache import Entry, RenderCache

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import connexion
    from connexion.resolver import Resolver
    from starlette.responses import Response

SPEC_PATH = Path(__file__).resolve().parent.parent / "openapi" / "marketplace-orders.yaml"
LIST = "/api/marketplace-orders/"
TOKEN = {"Authorization": "Token benchmark"}
VARIANTS = (
    "starlette-bytes",
    "connexion-bytes",
    "connexion-dict",
    "connexion-dict+validate",
    "connexion-dict+fastval",
    "connexion-bytes+fastval",
    "starlette-dict+fastval",
)


def token_info(value: str) -> dict[str, Any] | None:
    """Security function of the benchmark app: accepts any `Token x` (no backend involved)."""
    return {"sub": "bench"} if value.lower().startswith("token ") else None


@dataclass(frozen=True)
class Payloads:
    order: dict[str, Any]
    page: list[dict[str, Any]]

    @property
    def uuid(self) -> str:
        return str(self.order["uuid"])

    def retrieve_path(self) -> str:
        return f"{LIST}{self.uuid}/"


def load_spec(path: Path = SPEC_PATH) -> dict[str, Any]:
    import yaml

    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    schemes = spec["components"]["securitySchemes"]
    for scheme in schemes.values():
        if "x-apikeyInfoFunc" in scheme:
            scheme["x-apikeyInfoFunc"] = f"{__name__}.token_info"
    return spec


def payloads(spec: dict[str, Any], page_size: int = 10) -> Payloads:
    op = spec["paths"][LIST + "{uuid}/"]["get"]
    order = op["responses"]["200"]["content"]["application/json"]["example"]
    page = []
    for i in range(page_size):
        o = copy.deepcopy(order)
        o["uuid"] = f"{i:032x}"
        page.append(o)
    return Payloads(order=order, page=page)


def _handler(body: Any, as_bytes: bool) -> Callable[..., Any]:
    raw = orjson.dumps(body)
    headers = _headers(body)

    async def handler(*_args: Any, **_kwargs: Any) -> Any:
        if as_bytes:
            return Response(raw, media_type="application/json", headers=headers)
        return body, 200, headers

    return handler


def _headers(body: Any) -> dict[str, str]:
    """The list's pagination headers (X-Result-Count is required by the spec)."""
    if not isinstance(body, list):
        return {}
    base = f"http://127.0.0.1:8000{LIST}"
    link = f'<{base}>; rel="first", <{base}?page=100>; rel="last"'
    return {"X-Result-Count": "1000", "Link": link}


def build(variant: str, spec: dict[str, Any], data: Payloads) -> asgi.ASGIApp:
    """The app of one variant (see the module docstring)."""
    if variant == "starlette-bytes":
        return ceiling_app(
            [
                Capture("GET", LIST, "", 200,
                        [("content-type", "application/json"), *_headers(data.page).items()],
                        orjson.dumps(data.page)),
                Capture("GET", data.retrieve_path(), "", 200,
                        [("content-type", "application/json")], orjson.dumps(data.order)),
            ]
        )
    from mockserver.fastvalidation import VALIDATOR_MAP, FastParameterValidator

    if variant == "starlette-dict+fastval":
        return _starlette_validated(spec, data)

    as_bytes = variant.startswith("connexion-bytes")
    handlers = {
        "marketplace_orders_list": _handler(data.page, as_bytes),
        "marketplace_orders_retrieve": _handler(data.order, as_bytes),
    }
    missing = _handler({}, as_bytes)
    app = connexion.AsyncApp(__name__)
    app.add_api(
        copy.deepcopy(spec),
        resolver=Resolver(function_resolver=lambda op_id: handlers.get(op_id, missing)),
        validate_responses=variant.endswith(("+validate", "+fastval")),
        validator_map=(
            {**VALIDATOR_MAP, "parameter": FastParameterValidator}
            if variant.endswith("+fastval")
            else None
        ),
    )
    return app


def _starlette_validated(spec: dict[str, Any], data: Payloads) -> asgi.ASGIApp:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.routing import Route

    from mockserver.fastvalidation import compiled

    ref = {"$ref": "#/components/schemas/OrderDetails"}
    one = compiled({**ref, "components": spec["components"]})
    many = compiled({"type": "array", "items": ref, "components": spec["components"]})

    def route(body: Any, validator: Any) -> Callable[..., Any]:
        headers = _headers(body)

        async def endpoint(request: Request) -> Response:
            if not request.headers.get("authorization", "").lower().startswith("token "):
                return Response(b'{"detail": "no"}', status_code=401)
            raw = orjson.dumps(body)
            if not validator.is_valid(orjson.loads(raw)):
                return Response(b'{"detail": "invalid"}', status_code=500)
            return Response(raw, media_type="application/json", headers=headers)

        return endpoint

    return Starlette(routes=[
        Route(LIST, route(data.page, many)),
        Route(LIST + "{uuid}/", route(data.order, one)),
    ])


@dataclass(frozen=True)
class CostRow:
    variant: str
    list_us: float
    retrieve_us: float


def run(n: int = 300, variants: tuple[str, ...] = VARIANTS) -> list[CostRow]:
    spec = load_spec()
    data = payloads(spec)
    rows = []
    for variant in variants:
        app = build(variant, spec, data)
        list_us = asgi.per_request_us(app, asgi.Req("GET", LIST, headers=TOKEN), n)
        get_us = asgi.per_request_us(app, asgi.Req("GET", data.retrieve_path(), headers=TOKEN), n)
        rows.append(CostRow(variant, list_us, get_us))
    return rows


def table(rows: list[CostRow]) -> list[list[str]]:
    base = rows[0]
    out = [["app (in-process)", "list µs/req", "x ceiling", "retrieve µs/req", "x ceiling"]]
    for r in rows:
        out.append([
            r.variant,
            f"{r.list_us:,.0f}",
            f"{r.list_us / base.list_us:.1f}",
            f"{r.retrieve_us:,.0f}",
            f"{r.retrieve_us / base.retrieve_us:.1f}",
        ])
    return out


# ---------------------------------------------------------------------------------------------
# The real stub, in-process: as it is (with its render cache, mockserver/orders/rendercache.py),
# and with that cache switched off for the measurement (every order rendered on every request,
# as before the cache existed).

STUB_VARIANTS = ("stub --no-validate-responses", "stub (validating: the default)",
                 "stub, no render cache")
VALIDATING = STUB_VARIANTS[1:]


class _NoRenderCache(RenderCache):
    """Renders on every call: the stub as it was before its render cache."""

    def entry(self, order: Any, viewer: Any, base_url: str,
              representation: str = "detail") -> Entry:
        self.clear()
        return super().entry(order, viewer, base_url, representation)


def stub_rows(n: int = 300, orders: int = 10_000) -> list[CostRow]:
    """Per-request cost of the real app (staff token, `orders` generated orders), against bare
    Starlette replaying its own list/retrieve bytes."""
    import json

    from benchmarks import stub
    from mockserver import app as stub_app
    from mockserver.settings import Settings

    headers = stub.auth(stub.token())
    apps = {
        v: stub_app.create_app(Settings(orders=orders, validate_responses=(v in VALIDATING)))
        for v in STUB_VARIANTS
    }
    first = asgi.fetch(apps[STUB_VARIANTS[0]], asgi.Req("GET", LIST, headers=headers))
    one = f"{LIST}{json.loads(first.body)[0]['uuid']}/"
    got = asgi.fetch(apps[STUB_VARIANTS[0]], asgi.Req("GET", one, headers=headers))
    base = ceiling_app([
        Capture("GET", LIST, "", 200, [(k.decode(), v.decode()) for k, v in first.headers],
                first.body),
        Capture("GET", one, "", 200, [(k.decode(), v.decode()) for k, v in got.headers],
                got.body),
    ])
    rows = [CostRow("starlette-bytes (stub's bytes)",
                    asgi.per_request_us(base, asgi.Req("GET", LIST, headers=headers), n),
                    asgi.per_request_us(base, asgi.Req("GET", one, headers=headers), n))]
    for variant, app in apps.items():
        if variant.endswith("no render cache"):
            app.registry.get(None).render_cache = _NoRenderCache()
        rows.append(CostRow(
            variant,
            asgi.per_request_us(app, asgi.Req("GET", LIST, headers=headers), n),
            asgi.per_request_us(app, asgi.Req("GET", one, headers=headers), n)))
    return rows
