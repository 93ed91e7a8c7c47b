"""OPTIONS on any API route: DRF's `SimpleMetadata` answer, derived from the spec's paths.

A real Waldur answers a plain `OPTIONS` (not a CORS preflight: CORSMiddleware answers those
further out) on every route it serves, whether the object exists or is visible or not, with 200:

    {"name": "Order Instance", "description": "", "renders": [...], "parses": [...],
     "actions": {"PUT": {field: {"type": ..., "required": ..., "read_only": false, ...}}}}

without a token it is the usual 401. Routes, methods and the `actions` fields all come from the
spec (`paths` and the operations' request schemas), so a new API area is covered by its contract
alone. Judgement calls (names of action routes, field types) are in docs/behaviour.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from mockserver import spec
from mockserver.orders.exceptions import ApiError, NotAuthenticated

# DRF's JSONRenderer + BrowsableAPIRenderer, JSONParser + FormParser + MultiPartParser (Waldur's
# REST_FRAMEWORK defaults).
RENDERS = ["application/json", "text/html"]
PARSES = ["application/json", "application/x-www-form-urlencoded", "multipart/form-data"]
# DRF's http_method_names order; OPTIONS is served on every route (APIView.options).
METHOD_ORDER = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
# `determine_actions` looks at these two only, and calls get_object() for PUT.
ACTION_METHODS = ("POST", "PUT")
JSON_MEDIA = "application/json"

# Collection prefix -> (backend, user, id) -> None, raising ApiError when the object is not
# visible (DRF's get_object). A new area registers its lookup here; without one, PUT is listed.
ObjectLookup = Callable[[Any, Any, str], Any]
OBJECT_LOOKUPS: dict[str, ObjectLookup] = {
    "/api/marketplace-orders/": lambda backend, user, uuid: backend.get_order(user, uuid),
}


class Route:
    """One spec path: its regex, the methods it serves (DRF order) and its metadata identity."""

    def __init__(self, template: str, item: dict[str, Any]) -> None:
        self.template = template
        self.static = "{" not in template
        self.regex = re.compile(
            "^" + re.sub(r"\\\{[^}]+\\\}", "([^/]+)", re.escape(template)) + "$")
        declared = {m.upper() for m in item if m.upper() in METHOD_ORDER}
        self.methods = tuple(m for m in METHOD_ORDER if m in declared or m == "OPTIONS")
        self.operations = {m.upper(): op for m, op in item.items()
                           if isinstance(op, dict) and "operationId" in op}
        self.name = view_name(template)

    @property
    def allow(self) -> str:
        return ", ".join(self.methods)


def view_name(template: str) -> str:
    """DRF's `get_view_name()`: `<Model> List` / `<Model> Instance` for the viewset's own routes,
    `pretty_name(<function>)` for an extra action (`approve_by_consumer` -> "Approve by consumer").
    The model name is the collection's last word, singular (`marketplace-orders` -> "Order")."""
    parts = [p for p in template.strip("/").split("/") if p]
    if parts and parts[0] == "api":
        parts = parts[1:]
    collection = parts[0] if parts else ""
    rest = parts[1:]
    if not rest:
        return f"{model_name(collection)} List"
    if len(rest) == 1 and rest[0].startswith("{"):
        return f"{model_name(collection)} Instance"
    action = rest[-1]
    return action.replace("-", "_").replace("_", " ").capitalize()


def model_name(collection: str) -> str:
    word = collection.split("-")[-1]
    if word.endswith("ies"):
        word = word[:-3] + "y"
    elif word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    return word.capitalize()


@cache
def routes() -> tuple[Route, ...]:
    """Every spec path, static ones first (a static path wins over `{uuid}/`, as in DRF)."""
    out = [Route(path, item) for path, item in spec.load_spec()["paths"].items()]
    return tuple(sorted(out, key=lambda r: not r.static))


def match(path: str) -> tuple[Route, tuple[str, ...]] | None:
    for route in routes():
        found = route.regex.match(path)
        if found:
            return route, found.groups()
    return None


# ---------------------------------------------------------------------------------------------
# Field metadata from the request schemas (DRF SimpleMetadata.get_field_info)


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    """Follow $ref, and take the first non-null branch of anyOf/oneOf/allOf."""
    for _ in range(16):
        if "$ref" in schema:
            schema = {**spec.schema(spec.ref_name(schema["$ref"])),
                      **{k: v for k, v in schema.items() if k != "$ref"}}
            continue
        for key in ("allOf", "anyOf", "oneOf"):
            branches = [b for b in schema.get(key, ()) if b.get("enum") != [None]
                        and not (b.get("nullable") and set(b) <= {"nullable", "enum"})]
            if branches:
                merged = {k: v for k, v in schema.items() if k != key}
                schema = {**_resolve(branches[0]), **merged}
                break
        else:
            return schema
    return schema


def field_type(schema: dict[str, Any]) -> str:
    """DRF's `label_lookup` name for a field of this JSON schema."""
    kind, fmt = schema.get("type"), schema.get("format", "")
    if "enum" in schema:
        return "choice"
    if kind == "boolean":
        return "boolean"
    if kind == "integer":
        return "integer"
    if kind == "number":
        return "decimal" if fmt == "decimal" else "float"
    if kind == "array":
        return "list"
    if kind == "object":
        extra = schema.get("additionalProperties")
        return "nested object" if isinstance(extra, dict) or schema.get("properties") else "field"
    return {"uri": "url", "date": "date", "date-time": "datetime", "binary": "file upload",
            "email": "email", "time": "time", "duration": "duration"}.get(fmt, "string")


def field_info(name: str | None, schema: dict[str, Any], required: bool) -> dict[str, Any]:
    schema = _resolve(schema)
    kind = field_type(schema)
    if kind == "url" and name is not None and not name.endswith("url"):
        kind = "field"  # a hyperlinked relation (DRF: RelatedField -> "field"), not a URLField
    info: dict[str, Any] = {"type": kind, "required": required, "read_only": False}
    if name is not None:
        info["label"] = schema.get("title") or name.replace("_", " ").capitalize()
    for drf, keyword in (("min_length", "minLength"), ("max_length", "maxLength"),
                         ("min_value", "minimum"), ("max_value", "maximum")):
        if keyword in schema:
            info[drf] = schema[keyword]
    child = schema.get("items") if schema.get("type") == "array" else None
    if child is None and isinstance(schema.get("additionalProperties"), dict):
        child = schema["additionalProperties"]
    if child is not None:
        info["child"] = field_info(None, child, True)
    if "enum" in schema:
        info["choices"] = [{"value": v, "display_name": str(v)}
                           for v in schema["enum"] if v is not None]
    return info


@cache
def serializer_info(operation_id: str) -> dict[str, dict[str, Any]]:
    """name -> DRF field info of the operation's request body (JSON, else its first media)."""
    content = (spec.request_body(operation_id) or {}).get("content", {})
    media = content.get(JSON_MEDIA) or next(iter(content.values()), {})
    ref = spec.body_schema_ref(media.get("schema", {}))
    if ref is None:
        return {}
    required = set(_resolve({"$ref": ref}).get("required", ()))
    props = spec.property_schemas(spec.ref_name(ref))
    return {name: field_info(name, sch, name in required) for name, sch in props.items()
            if not sch.get("readOnly")}


def metadata(route: Route, params: tuple[str, ...], backend: Any, user: Any) -> dict[str, Any]:
    """DRF's `SimpleMetadata.determine_metadata` for `user` on this route."""
    body: dict[str, Any] = {"name": route.name, "description": "", "renders": list(RENDERS),
                            "parses": list(PARSES)}
    actions: dict[str, Any] = {}
    for method in ACTION_METHODS:
        op = route.operations.get(method)
        if op is None:
            continue
        if method == "PUT" and params and not _visible(route, params[0], backend, user):
            continue
        actions[method] = serializer_info(op["operationId"])
    if actions:
        body["actions"] = actions
    return body


def _visible(route: Route, ident: str, backend: Any, user: Any) -> bool:
    lookup = next((fn for prefix, fn in OBJECT_LOOKUPS.items()
                   if route.template.startswith(prefix)), None)
    if lookup is None:
        return True
    try:
        lookup(backend, user, ident)
    except ApiError:
        return False
    return True


# ---------------------------------------------------------------------------------------------
# ASGI


class OptionsMiddleware:
    """Answers a plain OPTIONS on a spec route (inside the session and query-token middlewares,
    so `X-Mock-Session` and `?x-auth-token=` apply); anything else passes through."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "OPTIONS":
            await self.app(scope, receive, send)
            return
        found = match(scope["path"])
        if found is None:
            await self.app(scope, receive, send)
            return
        from mockserver import auth
        from mockserver.app import _send_json
        from mockserver.registry import current_backend

        route, params = found
        header = next((v.decode("latin-1") for k, v in scope["headers"]
                       if k == b"authorization"), None)
        try:
            user = auth.authenticate(header)
        except NotAuthenticated as exc:
            await _send_json(send, exc.status, exc.body, dict(exc.headers))
            return
        body = metadata(route, params, current_backend(), user)
        await _send_json(send, 200, body, {"Allow": route.allow, "Vary": "Accept"})
