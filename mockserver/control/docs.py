"""Swagger UI at /api/docs/, wired to the stub itself: the spec it shows names the stub (the
request's own scheme and host) as its only server, and "Try it out" is pre-authorised with a
fixture user's token (a picker switches users; an optional X-Mock-Session field selects a session).
The assets come from the swagger-ui-bundle package that Connexion's swagger-ui extra installs."""

from __future__ import annotations

import copy
import json
import mimetypes
import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from starlette.responses import RedirectResponse, Response
from starlette.types import Receive, Scope, Send

from mockserver import spec
from mockserver.control import sessions
from mockserver.registry import session_from_scope

if TYPE_CHECKING:  # pragma: no cover
    from mockserver.control.context import Control

DOCS = "/api/docs"
_ASSET = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <title>Waldur Orders API (waldur-orders-mock)</title>
  <link rel="stylesheet" type="text/css" href="./swagger-ui.css">
  <link rel="icon" type="image/png" href="./favicon-32x32.png" sizes="32x32">
  <style>
    body { margin: 0; background: #fafafa; }
    #mock-bar { font: 14px sans-serif; padding: 8px 20px; background: #1b1b1b; color: #eee; }
    #mock-bar select, #mock-bar input { margin: 0 12px 0 4px; }
  </style>
</head>
<body>
  <div id="mock-bar">
    waldur-orders-mock: requests go to this stub.
    <label>Token of <select id="mock-user"></select></label>
    <label>X-Mock-Session <input id="mock-session" placeholder="(default session)"></label>
  </div>
  <div id="swagger-ui"></div>
  <script src="./swagger-ui-bundle.js" charset="UTF-8"></script>
  <script src="./swagger-ui-standalone-preset.js" charset="UTF-8"></script>
  <script>
    const USERS = __USERS__;
    const SCHEME = __SCHEME__;
    const picker = document.getElementById("mock-user");
    for (const user of USERS) {
      const option = document.createElement("option");
      option.value = user.token;
      option.textContent = user.username + (user.is_staff ? " (staff)" : "");
      picker.appendChild(option);
    }
    function authorize() {
      if (window.ui && picker.value) {
        window.ui.preauthorizeApiKey(SCHEME, "Token " + picker.value);
      }
    }
    picker.addEventListener("change", authorize);
    window.onload = function () {
      window.ui = SwaggerUIBundle({
        url: "./openapi.json",
        dom_id: "#swagger-ui",
        deepLinking: true,
        tryItOutEnabled: true,
        presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
        plugins: [SwaggerUIBundle.plugins.DownloadUrl],
        layout: "StandaloneLayout",
        requestInterceptor: function (request) {
          const session = document.getElementById("mock-session").value.trim();
          if (session) { request.headers["X-Mock-Session"] = session; }
          return request;
        },
        onComplete: authorize,
      });
    };
  </script>
</body>
</html>
"""


@cache
def _asset_dir() -> Path | None:
    try:
        from swagger_ui_bundle import swagger_ui_path
    except ImportError:  # pragma: no cover - the swagger-ui extra is a dependency
        return None
    return Path(swagger_ui_path)


@cache
def _asset(name: str) -> tuple[bytes, str] | None:
    directory = _asset_dir()
    if directory is None or not _ASSET.match(name):
        return None
    path = directory / name
    if not path.is_file():
        return None
    media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return path.read_bytes(), media_type


def _security_scheme() -> str:
    schemes = spec.load_spec().get("components", {}).get("securitySchemes", {})
    return next(iter(schemes), "tokenAuth")


def origin_of(scope: Scope) -> str:
    host = None
    for name, value in scope.get("headers", ()):
        if name == b"host":
            host = value.decode("latin-1")
            break
    if not host:
        server = scope.get("server") or ("127.0.0.1", 80)
        host = f"{server[0]}:{server[1]}"
    return f"{scope.get('scheme', 'http')}://{host}"


def spec_for(origin: str) -> dict[str, Any]:
    """The Waldur spec with the stub as its only server (Try it out goes to the stub)."""
    document = copy.copy(spec.load_spec())
    document["servers"] = [{"url": origin, "description": "this waldur-orders-mock stub"}]
    return document


def page(users: list[dict[str, Any]]) -> str:
    staff_first = sorted(users, key=lambda u: (not u["is_staff"], u["username"]))

    def js(value: Any) -> str:
        return json.dumps(value).replace("<", "\\u003c")

    picked = [{"username": u["username"], "token": u["token"], "is_staff": u["is_staff"]}
              for u in staff_first]
    return PAGE.replace("__USERS__", js(picked)).replace("__SCHEME__", js(_security_scheme()))


class DocsApp:
    def __init__(self, control: Control) -> None:
        self.control = control

    @staticmethod
    def handles(path: str) -> bool:
        return path == DOCS or path.startswith(DOCS + "/")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        response: Response
        if scope["method"] not in ("GET", "HEAD"):
            body = {"detail": f'Method "{scope["method"]}" not allowed.'}
            response = Response(orjson.dumps(body), 405, {"Allow": "GET, HEAD"},
                                media_type="application/json")
        elif path == DOCS:
            response = RedirectResponse(DOCS + "/", 301)
        else:
            response = self._get(scope, path[len(DOCS) + 1:])
        await response(scope, receive, send)

    def _get(self, scope: Scope, name: str) -> Response:
        if name in ("", "index.html"):
            backend = self.control.registry.get(session_from_scope(scope))
            html = page(sessions.fixture_users(backend))
            return Response(html, 200, media_type="text/html; charset=utf-8")
        if name == "openapi.json":
            return Response(orjson.dumps(spec_for(origin_of(scope))), 200,
                            media_type="application/json")
        found = _asset(name)
        if found is None:
            return Response(orjson.dumps({"detail": "Not found."}), 404,
                            media_type="application/json")
        body, media_type = found
        return Response(body, 200, {"Cache-Control": "max-age=3600"}, media_type=media_type)
