"""`waldur-mock serve | tokens`: run the stub, or list the fixture users and their tokens."""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
import warnings
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import replace
from pathlib import Path
from typing import Any

from mockserver.memory import collector_off, release_free_memory, tune_for_serving
from mockserver.settings import Settings
from mockserver.version import add_version_option


def _settings(args: argparse.Namespace) -> Settings:
    base = Settings()
    changes: dict[str, Any] = {}
    for name in ("host", "port", "seed", "orders", "validate_responses"):
        value = getattr(args, name, None)
        if value is not None:
            changes[name] = value
    if getattr(args, "fixtures", None):
        changes["fixtures"] = Path(args.fixtures)
    if hasattr(args, "answer_memo"):
        changes["answer_memo"] = args.answer_memo
    if hasattr(args, "process_delay"):  # serve: the control options (docs/daily-use.md)
        from mockserver.control import cli_args

        changes.update(cli_args.settings_kwargs(args, base.extra))
    return replace(base, **changes)


def user_rows(backend: Any) -> list[dict[str, Any]]:
    """One row per user: username, flags and roles (role @ scope name), token, password."""
    world = backend.world
    names: dict[str, str] = {}
    for kind, items, attr in (("customer", world.customers, "name"),
                              ("service_provider", world.customers, "name"),
                              ("project", world.projects, "name"),
                              ("offering", world.offerings, "name")):
        for item in items:
            names[f"{kind}:{item.uuid}"] = getattr(item, attr)
    roles: dict[str, list[str]] = {}
    for grant in world.grants:
        scope = names.get(f"{grant.scope_kind}:{grant.scope_uuid}", grant.scope_uuid)
        roles.setdefault(grant.user_uuid, []).append(f"{grant.role} @ {scope}")
    rows = []
    for user in world.users:
        flags = [f for f, on in (("staff", user.is_staff), ("support", user.is_support),
                                 ("inactive", not user.is_active)) if on]
        rows.append({
            "username": user.username,
            "uuid": user.uuid,
            "token": user.token,
            "password": user.password,
            "flags": flags,
            "roles": roles.get(user.uuid, []),
        })
    return rows


def tokens_table(rows: list[dict[str, Any]]) -> str:
    lines = []
    width = max((len(r["username"]) for r in rows), default=8)
    for r in rows:
        what = ", ".join(r["flags"] + r["roles"]) or "(no role)"
        lines.append(f"  {r['username']:<{width}}  {r['token']}  {what}")
    return "\n".join(lines)


def cmd_tokens(args: argparse.Namespace) -> int:
    from mockserver.registry import build_backend

    rows = user_rows(build_backend(_settings(args)))
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print(tokens_table(rows))
    return 0


def imports_frozen() -> AbstractContextManager[None]:
    """Import without the cyclic garbage collector, then freeze what the imports allocated
    (modules, classes, functions: they live as long as the process). The collector's passes
    over them cost ~0.05 s of every cold start, and each later full collection walked them
    again. Only the imports: the world is rebuilt on reset and must stay collectable."""
    return collector_off(then=gc.freeze)


def cmd_serve(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    warnings.filterwarnings("ignore", message=".*httpx.*starlette.testclient")
    settings = _settings(args)
    from mockserver.lazyimports import deferred

    with imports_frozen(), deferred():  # deferred: what Connexion imports but serve never uses
        import uvicorn

        from mockserver import spec
        from mockserver.app import create_app

    app = create_app(settings)
    backend = app.registry.get(None)  # type: ignore[attr-defined]  # built now, not on request 1
    app.registry.freeze_large_world()  # type: ignore[attr-defined]
    release_free_memory()
    tune_for_serving()
    url = f"http://{settings.host}:{settings.port}"
    orders_path = spec.path_of("marketplace_orders_list")
    print(f"waldur-mock: Waldur Marketplace Orders API stub on {url}{orders_path}")
    print(f"  seed {settings.seed}, fixtures {settings.fixtures}, "
          f"{len(backend.orders)} orders, response validation "
          f"{'on' if settings.validate_responses else 'off'}, remembered GET answers "
          f"{'on' if settings.answer_memo else 'off'} "
          f"(ready in {time.perf_counter() - started:.2f} s)")
    print("  Authorization: Token <token>, or log in: POST "
          f"{url}{spec.path_of('api_auth_password')} with password = username")
    print(f"  HomePort: apiEndpoint {url}/ ; Swagger UI {url}/api/docs/")
    print(tokens_table(user_rows(backend)), flush=True)
    served, logged = serve_with_access_log(app, args.access_log, args.log_level)
    try:
        uvicorn.run(served, host=settings.host, port=settings.port,
                    **uvicorn_kwargs(args.log_level))
    finally:
        if logged is not None:
            logged.flush()
    return 0


def uvicorn_kwargs(log_level: str = "info") -> dict[str, Any]:
    """uvicorn's settings of `serve` (benchmarks/ceiling.py serves its bare app with the same)."""
    return {"log_level": log_level,
            "access_log": False,  # written by mockserver.accesslog (same lines)
            "ws": "none"}  # no WebSocket routes: spares importing a WebSocket library


def serve_with_access_log(app: Any, access_log: bool, log_level: str) -> tuple[Any, Any]:
    """The app to serve and its access logger (None when off): uvicorn's access lines, written
    by `mockserver.accesslog` instead of uvicorn's (same lines, a fraction of the cost)."""
    from mockserver import accesslog

    if not accesslog.enabled(access_log, log_level):
        return app, None
    logged = accesslog.AccessLog(app)
    return logged, logged


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="waldur-mock", description="A stateful fake of the Waldur Marketplace Orders API.")
    add_version_option(parser)
    sub = parser.add_subparsers(dest="command", required=True)

    def world_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--seed", type=int, help="seed of the generated data (default 1)")
        p.add_argument("--fixtures", help="fixtures YAML file (default fixtures/default.yaml)")
        p.add_argument("--orders", type=int, help="extra generated orders (default 50)")

    serve = sub.add_parser("serve", help="start the stub (uvicorn)")
    serve.add_argument("--host", help="bind address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default 8000)")
    world_options(serve)
    serve.add_argument("--validate-responses", action=argparse.BooleanOptionalAction,
                       default=None,
                       help="check every response against the spec (default: on)")
    serve.add_argument("--log-level", default="info",
                       choices=("critical", "error", "warning", "info", "debug"))
    serve.add_argument("--access-log", action=argparse.BooleanOptionalAction, default=True)
    serve.add_argument("--answer-memo", action=argparse.BooleanOptionalAction, default=True,
                       help="answer a repeated GET from memory until the next write "
                            "(default: on)")
    from mockserver.control import cli_args

    cli_args.add_arguments(serve)
    serve.set_defaults(func=cmd_serve)

    tokens = sub.add_parser("tokens", help="print the fixture users, their roles and tokens")
    world_options(tokens)
    tokens.add_argument("--json", action="store_true", help="as JSON")
    tokens.set_defaults(func=cmd_tokens)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:  # pragma: no cover
        return 130
    except (OSError, ValueError) as exc:
        print(f"waldur-mock: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
