"""Connexion handlers, one per operationId of openapi/marketplace-orders.yaml.

Each handler only translates: request -> OrdersBackend call -> response (reference section 7).
Domain errors (ApiError) become the real server's JSON bodies right here, so that they pass
through response validation like any other answer.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl

import orjson
from connexion.context import _scope as _current_scope
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response

from mockserver import spec
from mockserver.auth import current_user
from mockserver.orders.entities import Attachment, User
from mockserver.orders.exceptions import ApiError, ValidationError
from mockserver.orders.models import OrdersBackend
from mockserver.orders.rendercache import Entry, select
from mockserver.orders.serializers import (
    Urls,
    attachment_url,
    render_dashboard_order,
    render_offering,
    render_order,
    render_order_update,
    render_resource,
)
from mockserver.pagination import paginate
from mockserver.registry import current_backend
from mockserver.validators import NO_BODY, parse_json, parsed_body

JSON = "application/json"
FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")

Handler = Callable[..., Awaitable[Response]]


# ---------------------------------------------------------------------------------------------
# Responses


def json_response(
    body: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    return Response(dump_json(body), status_code=status, headers=headers, media_type=JSON)


def dump_json(body: Any) -> bytes:
    """orjson; the stdlib (same compact output) for what orjson refuses, e.g. integers beyond
    64 bits in client-sent `attributes` (DRF echoes them)."""
    try:
        return orjson.dumps(body)
    except TypeError:
        return json.dumps(body, ensure_ascii=False, separators=(",", ":"),
                          allow_nan=False).encode()


class CachedJSONResponse(Response):
    """A 200 JSON answer joined from render-cache entries: a list page (`many`) or one order.
    Keeping the entries lets the fast path validate each order once per revision
    (`rendercache.Entry.conforms`) instead of parsing and validating the whole body per request."""

    media_type = JSON

    def __init__(self, entries: Sequence[Entry], many: bool,
                 headers: Mapping[str, str] | None = None) -> None:
        if many:
            content = b"[" + b",".join(e.encoded for e in entries) + b"]"  # type: ignore[misc]
        else:
            content = entries[0].encoded  # type: ignore[assignment]
        super().__init__(content, headers=headers)
        self.entries = entries
        self.many = many


def empty_response(status: int, headers: Mapping[str, str] | None = None) -> Response:
    """No body and no Content-Type, as DRF's `Response(status=...)`."""
    return Response(b"", status_code=status, headers=headers)


def api_error_response(exc: ApiError) -> Response:
    return json_response(exc.body, exc.status, exc.headers or None)


def handler(fn: Handler) -> Handler:
    """Turns domain errors into responses (inside response validation)."""

    @functools.wraps(fn)
    async def wrapper(*args: Any, **kwargs: Any) -> Response:
        try:
            return await fn(*args, **kwargs)
        except ApiError as exc:
            return api_error_response(exc)

    return wrapper


# ---------------------------------------------------------------------------------------------
# Request helpers


class Req:
    """What the handlers need from the ASGI scope of the current request."""

    __slots__ = ("scope", "_query", "_base")

    def __init__(self) -> None:
        self.scope = _current_scope.get()
        self._query: list[tuple[str, str]] | None = None
        self._base: str | None = None

    @property
    def query_string(self) -> str:
        return self.scope.get("query_string", b"").decode("utf-8", "replace")

    @property
    def query(self) -> list[tuple[str, str]]:
        if self._query is None:
            raw = self.scope.get("query_string", b"")
            self._query = parse_qsl(self.query_string, keep_blank_values=True) if raw else []
        return self._query

    def multi(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for key, value in self.query:
            out.setdefault(key, []).append(value)
        return out

    def values(self, key: str) -> list[str]:
        return [v for k, v in self.query if k == key]

    @property
    def fields(self) -> list[str] | None:
        """The sparse fieldset: `?field=a&field=b` (None when not asked for)."""
        return self.values("field") or None

    @property
    def host(self) -> str:
        for name, value in self.scope["headers"]:
            if name == b"host":
                return value.decode("latin-1")
        server = self.scope.get("server")
        if server:
            host, port = server
            return f"{host}:{port}" if port not in (80, 443, None) else str(host)
        return "localhost"

    @property
    def base_url(self) -> str:
        """scheme://host of the request (Django's build_absolute_uri)."""
        if self._base is None:
            self._base = f"{self.scope.get('scheme', 'http')}://{self.host}"
        return self._base

    @property
    def path_url(self) -> str:
        return self.base_url + self.scope["path"]

    def header(self, name: bytes) -> str | None:
        for key, value in self.scope["headers"]:
            if key == name:
                return value.decode("latin-1")
        return None

    @property
    def mimetype(self) -> str:
        return (self.header(b"content-type") or "").split(";", 1)[0].strip().lower()


async def json_body(req: Req) -> Any:
    """The parsed JSON body (parsed once by the body validator; `{}` when there is none)."""
    body = parsed_body.get()
    if body is not NO_BODY:
        return body
    from connexion.context import _receive

    return parse_json(await Request(req.scope, _receive.get()).body())


def form_data(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """A multipart / urlencoded body as Connexion hands it over (`body` = text fields, one
    keyword argument per file field): text fields as str, files as Attachment."""
    out: dict[str, Any] = {}
    body = kwargs.get("body")
    if isinstance(body, Mapping):
        out.update(body)
    for name, value in kwargs.items():
        if isinstance(value, list) and value and isinstance(value[0], UploadFile):
            value = value[-1]
        if isinstance(value, UploadFile):
            content = value.file.read() if value.file else b""
            out[name] = Attachment(
                valid_filename(value.filename or name),
                value.content_type or "application/octet-stream", content,
            )
    return out


def valid_filename(name: str) -> str:
    """Django's storage name (base name, spaces to `_`, only `-`, word characters and `.`),
    restricted to ASCII so that the file's URL needs no quoting."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1].strip().replace(" ", "_")
    cleaned = re.sub(r"[^-A-Za-z0-9_.]", "", base)
    return cleaned if cleaned.strip(".") else "attachment"


async def request_data(req: Req, kwargs: Mapping[str, Any]) -> Any:
    if req.mimetype in FORM_TYPES:
        return form_data(kwargs)
    return await json_body(req)


# ---------------------------------------------------------------------------------------------
# List / count / create


def _listing(req: Req, orders: Sequence[Any], render: Callable[[Any], Any]) -> Response:
    page = paginate(orders, req.query, req.path_url, req.query_string)
    if req.scope["method"] == "HEAD":
        return Response(b"", headers=page.headers, media_type=JSON)
    body = [render(o) for o in page.items]
    return json_response(body, headers=page.headers)


@handler
async def marketplace_orders_list() -> Response:
    req = Req()
    user = current_user()
    backend = current_backend()
    orders = backend.list_orders(user, req.multi())
    fields, base = req.fields, req.base_url
    if fields:
        cache = backend.render_cache
        return _listing(req, orders, lambda o: cache.render(o, user, base, "detail", fields))
    page = paginate(orders, req.query, req.path_url, req.query_string)
    if req.scope["method"] == "HEAD":
        return Response(b"", headers=page.headers, media_type=JSON)
    entries = [backend.render_cache.entry(o, user, base) for o in page.items]
    if any(e.encoded is None for e in entries):
        return json_response([e.body for e in entries], headers=page.headers)
    # the bytes `dump_json` gives for the list of their dicts (orjson's output of a list is its
    # items' outputs joined by commas)
    return CachedJSONResponse(entries, many=True, headers=page.headers)


marketplace_orders_count = marketplace_orders_list


@handler
async def marketplace_orders_create() -> Response:
    req = Req()
    user = current_user()
    data = await json_body(req)
    order = current_backend().create_order(user, data)
    body = render_order(order, user, req.base_url, "create", req.fields)
    location = body.get("url") or Urls(req.base_url).order(order.uuid)
    return json_response(body, 201, {"Location": location})


@handler
async def marketplace_orders_dashboard_my_orders_list() -> Response:
    req = Req()
    orders = current_backend().dashboard_my_orders(current_user(), req.multi())
    return _listing(req, orders, render_dashboard_order)


marketplace_orders_dashboard_my_orders_count = marketplace_orders_dashboard_my_orders_list


# ---------------------------------------------------------------------------------------------
# One order


def _retrieve(uuid: str, lookup: Callable[[OrdersBackend, User, str], Any],
              render: Callable[..., dict[str, Any]]) -> Response:
    """GET of one object reached through the order: lookup (404/403), then the detail
    representation restricted to the sparse fieldset `?field=`."""
    req = Req()
    user = current_user()
    obj = lookup(current_backend(), user, uuid)
    return json_response(render(obj, user, req.base_url, fields=req.fields))


@handler
async def marketplace_orders_retrieve(uuid: str) -> Response:
    req = Req()
    user = current_user()
    backend = current_backend()
    order = backend.get_order(user, uuid)
    entry = backend.render_cache.entry(order, user, req.base_url)
    if req.fields or entry.encoded is None:
        return json_response(select(entry.body, req.fields))
    return CachedJSONResponse([entry], many=False)


async def _update(uuid: str, partial: bool) -> Response:
    req = Req()
    data = await json_body(req)
    order = current_backend().update_order(current_user(), uuid, data, partial)
    return json_response(render_order_update(order))


@handler
async def marketplace_orders_update(uuid: str) -> Response:
    return await _update(uuid, partial=False)


@handler
async def marketplace_orders_partial_update(uuid: str) -> Response:
    return await _update(uuid, partial=True)


@handler
async def marketplace_orders_destroy(uuid: str) -> Response:
    current_backend().destroy_order(current_user(), uuid)
    return empty_response(204)


@handler
async def marketplace_orders_unlink(uuid: str) -> Response:
    current_backend().unlink_order(current_user(), uuid)
    return empty_response(204)


@handler
async def marketplace_orders_offering_retrieve(uuid: str) -> Response:
    return _retrieve(uuid, OrdersBackend.order_offering, render_offering)


@handler
async def marketplace_orders_resource_retrieve(uuid: str) -> Response:
    return _retrieve(uuid, OrdersBackend.order_resource, render_resource)


# ---------------------------------------------------------------------------------------------
# POST actions: the backend decides status and body (ActionResult)


def _action_handler(action: str) -> Handler:
    """POST /{uuid}/<action>/. The body is read only where the spec declares one (DRF reads
    `request.data` only in actions that use it)."""
    name = f"marketplace_orders_{action}"
    with_body = spec.request_body(name) is not None

    async def run(uuid: str, **kwargs: Any) -> Response:
        data = await request_data(Req(), kwargs) if with_body else None
        result = current_backend().run_action(current_user(), uuid, action, data)
        if result.body is None:
            return empty_response(result.status)
        return json_response(result.body, result.status)

    run.__name__ = run.__qualname__ = name
    return handler(run)


marketplace_orders_approve_by_consumer = _action_handler("approve_by_consumer")
marketplace_orders_approve_by_provider = _action_handler("approve_by_provider")
marketplace_orders_reject_by_consumer = _action_handler("reject_by_consumer")
marketplace_orders_reject_by_provider = _action_handler("reject_by_provider")
marketplace_orders_cancel = _action_handler("cancel")
marketplace_orders_set_state_executing = _action_handler("set_state_executing")
marketplace_orders_set_state_done = _action_handler("set_state_done")
marketplace_orders_set_state_erred = _action_handler("set_state_erred")
marketplace_orders_retry = _action_handler("retry")
marketplace_orders_set_backend_id = _action_handler("set_backend_id")
marketplace_orders_set_consumer_info = _action_handler("set_consumer_info")
marketplace_orders_set_provider_info = _action_handler("set_provider_info")


# ---------------------------------------------------------------------------------------------
# Attachments


@handler
async def marketplace_orders_update_attachment(uuid: str, **kwargs: Any) -> Response:
    req = Req()
    backend, user = current_backend(), current_user()
    data = await request_data(req, kwargs)
    if not isinstance(data, dict):
        raise ValidationError({"non_field_errors": [
            f"Invalid data. Expected a dictionary, but got {type(data).__name__}."]})
    value = data.get("attachment")
    if "attachment" not in data:
        # DRF saves the instance unchanged (the field is optional): same checks, same file.
        current = backend.get_order(user, uuid).attachment
        value = current
    if isinstance(value, Attachment):
        order = backend.set_attachment(user, uuid, value.filename, value.content_type,
                                       value.content)
    elif value is None or value == "":
        order = backend.set_attachment(user, uuid, None, None, None)
    else:
        raise ValidationError({"attachment": [
            "The submitted data was not a file. Check the encoding type on the form."]})
    return json_response({"attachment": attachment_url(order, req.base_url)})


@handler
async def marketplace_orders_delete_attachment(uuid: str) -> Response:
    current_backend().set_attachment(current_user(), uuid, None, None, None)
    return empty_response(204)
