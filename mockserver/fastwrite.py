"""A fast path for every other operation of the spec (writes above all: create, the state
actions, PUT/PATCH/DELETE): the same answer as Connexion's stack, without its per-request cost
(routing, security, request validation and the parameter decorator cost ~0.5-1 ms of a write).

Generic, driven by the spec: each operation of `openapi/*.yaml` whose handler `orders/responses.py`
(the RelativeResolver's module) defines is served here when the request is plain enough that the
outcome of Connexion's checks is known before the handler runs:

* exactly one spec path template matches the path, it declares the method, and every path
  parameter is a `type: string` matched by `[\\w.-]{1,64}` (anything else falls through);
* no query string (Connexion would coerce declared query parameters first);
* security is none, or one apiKey header scheme whose `x-apikeyInfoFunc` accepts the header
  (a missing or bad token falls through: Connexion answers the 401);
* the Content-Type (or, without one, the operation's first declared media type, as Connexion
  takes it) is accepted by the operation; a declared JSON body is parsed here with the very
  parser Connexion's body validator uses (`validators.parse_json`); it must be `application/json`
  with no charset or `utf-8`. A parse error, a form or multipart body, an unsupported media type
  fall through with the body replayed, so Connexion produces its exact 400/415 answer;
* the handler takes only the path parameters, or `**kwargs` whose only non-path entry Connexion
  would give it is `body` (the parsed JSON, which our handlers read from `parsed_body`).

Everything before the handler is a pure check, so a fall-through changes nothing; once the handler
ran the answer is committed: it is sent through Connexion's own `ResponseValidationOperation`
(when `Settings.validate_responses` is on), so a non-conforming answer raises the same exception
inside the same exception middleware (the same 500). Handlers run with Connexion's context
variables set as its ContextMiddleware and security would set them.

GET and HEAD are left to `fastpath.py` (orders' list/retrieve, with its per-revision validation
memo) unless an operation id is added to `READS` (a new area's retrieve/list without a query can
opt in with one line). `Settings.fast_path = False` turns this off as well (tests compare both).
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Awaitable, Callable, MutableMapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import orjson
from connexion.context import _context, _operation, _receive, _scope
from connexion.datastructures import MediaTypeDict
from connexion.middleware.response_validation import ResponseValidationOperation
from connexion.operations import OpenAPIOperation
from connexion.resolver import RelativeResolver
from connexion.utils import is_nullable
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver import fastvalidation, resolvedspec, spec
from mockserver.settings import Settings
from mockserver.validators import (
    NO_BODY,
    VALIDATOR_MAP,
    DRFJSONBodyValidator,
    ResponseBodyValidator,
    parse_json,
    parsed_body,
    without_components,
)

HANDLERS = "mockserver.orders.responses"
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# GET operations served here too (opt-in; the orders' list and retrieve have fastpath.py).
READS: set[str] = set()
_PARAM = re.compile(r"^[\w.-]{1,64}$", re.ASCII)
_JSON_CHARSETS = (None, "utf-8", "utf8")


@dataclass
class FastOperation:
    operation: OpenAPIOperation
    function: Callable[..., Awaitable[Any]]
    params: tuple[str, ...]  # path parameter names, in template order
    api_key: Callable[[str], Any] | None  # the x-apikeyInfoFunc; None: no security
    api_key_header: bytes
    consumes: MediaTypeDict  # accepted request media types (Connexion's check)
    default_mime: str  # Connexion's guess without a Content-Type
    parses_json: bool  # a JSON body schema: parsed before the handler (DRF parser)
    app: Any = None  # the handler as an ASGI app (behind response validation when on)
    accepted: dict[str, bool] = field(default_factory=dict)  # memo of `consumes` lookups

    def accepts(self, mime: str) -> bool:
        """Connexion's check of the request media type (MediaTypeDict matches wildcards with
        fnmatch: a few µs per request), remembered per media type (at most 64)."""
        known = self.accepted.get(mime)
        if known is None:
            known = not self.consumes or mime in self.consumes
            if len(self.accepted) < 64:
                self.accepted[mime] = known
        return known


@dataclass
class Route:
    regex: re.Pattern[str]
    methods: dict[str, FastOperation | None]  # None: declared, not servable here


def _security(op: OpenAPIOperation) -> tuple[bool, Callable[[str], Any] | None, bytes]:
    """(servable, apikey function or None, header name) for the operation's security."""
    requirements = op.security or []
    if not requirements:
        return True, None, b""
    if len(requirements) != 1 or len(requirements[0]) != 1:
        return False, None, b""
    (name,) = requirements[0]
    scheme = op.security_schemes.get(name, {})
    func = scheme.get("x-apikeyInfoFunc")
    if scheme.get("type") != "apiKey" or scheme.get("in") != "header" or not func:
        return False, None, b""
    module, _, attr = func.rpartition(".")
    return True, getattr(importlib.import_module(module), attr), scheme["name"].lower().encode()


def _handler_ok(function: Callable[..., Any], params: tuple[str, ...]) -> bool:
    """Whether calling it with the path parameters alone gives what Connexion would pass."""
    while hasattr(function, "__wrapped__"):
        function = function.__wrapped__
    names = []
    for p in inspect.signature(function).parameters.values():
        if p.kind is p.VAR_KEYWORD:
            continue  # **kwargs: only `body`, which our handlers take from parsed_body
        names.append(p.name)
    return set(names) <= set(params)


def _fast_operation(path: str, method: str, op_spec: dict[str, Any]) -> FastOperation | None:
    module = importlib.import_module(HANDLERS)
    function = getattr(module, op_spec.get("operationId", ""), None)
    if function is None:
        return None
    op = OpenAPIOperation.from_spec(resolvedspec.shared(), path=path, method=method,
                                    resolver=RelativeResolver(HANDLERS))
    params = tuple(re.findall(r"\{([^}]+)\}", path))
    declared = {p["name"]: p for p in op.parameters if p["in"] == "path"}
    for name in params:
        schema = declared.get(name, {}).get("schema", {})
        if schema.get("type") != "string" or schema.get("format") not in (None, "uuid"):
            return None
    servable, api_key, header = _security(op)
    if not servable or not _handler_ok(function, params):
        return None
    consumes = op.consumes
    default_mime = consumes[0] if consumes else "application/octet-stream"
    parses_json = False
    if op.request_body:  # only JSON bodies are served here (forms: Connexion's kwargs)
        if not op.body_schema("application/json") or \
                VALIDATOR_MAP["body"]["application/json"] is not DRFJSONBodyValidator:
            return None
        parses_json = True
    return FastOperation(op, function, params, api_key, header,
                         MediaTypeDict([(c.lower(), None) for c in consumes]), default_mime,
                         parses_json)


@cache
def routes() -> tuple[Route, ...]:
    """One Route per spec path (built on the first request, not at start-up)."""
    out = []
    for path, item in spec.load_spec()["paths"].items():
        pattern = re.sub(r"\\\{[^}]+\\\}", "([^/]+)", re.escape(path))
        methods: dict[str, FastOperation | None] = {}
        for method, op_spec in item.items():
            verb = method.upper()
            if not isinstance(op_spec, dict) or "operationId" not in op_spec:
                continue
            eligible = verb in WRITES or (verb == "GET" and op_spec["operationId"] in READS)
            methods[verb] = _fast_operation(path, method, op_spec) if eligible else None
        out.append(Route(re.compile("^" + pattern + "$"), methods))
    return tuple(out)


_matches: dict[tuple[str, str], tuple[FastOperation, dict[str, str]] | None] = {}
MATCH_MEMO = 4096  # paths remembered (then forgotten all at once: a bound, not an LRU)


def _match(path: str, method: str) -> tuple[FastOperation, dict[str, str]] | None:
    key = (path, method)
    try:
        return _matches[key]
    except KeyError:
        pass
    if len(_matches) >= MATCH_MEMO:
        _matches.clear()
    found = _matches[key] = _find(path, method)
    return found


def _find(path: str, method: str) -> tuple[FastOperation, dict[str, str]] | None:
    found = None
    for route in routes():
        m = route.regex.match(path)
        if m is None:
            continue
        if found is not None:
            return None  # ambiguous (a static segment and a parameter): Connexion decides
        found = (route, m)
    if found is None:
        return None
    route, m = found
    fast = route.methods.get(method)
    if fast is None:
        return None
    values = m.groups()
    if not all(_PARAM.match(v) for v in values):
        return None
    return fast, dict(zip(fast.params, values, strict=True))


def _mime(value: bytes | None, default: str) -> tuple[str, str | None] | None:
    """(mime type, charset) of a Content-Type value; None when it is not in a form whose
    reading by Connexion is known (it honours `;charset=x` only without a space, and looks the
    body schema up by the exact text): those requests fall through."""
    if value is None:
        return default, None
    text = value.decode("latin-1")
    mime, sep, rest = text.partition(";")
    if mime != mime.strip().lower():
        return None
    if not sep:
        return mime, None
    rest = rest.strip()
    if ";" in rest or not rest.lower().startswith("charset="):
        return None
    return mime, rest[len("charset="):].lower()


class FastWriteMiddleware:
    """At Connexion's BEFORE_SWAGGER position, inside FastPathMiddleware (see module docstring)."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.enabled = getattr(settings, "fast_path", True)
        self.validate = settings.validate_responses

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (self.enabled and scope["type"] == "http" and scope["method"] != "HEAD"
                and not scope.get("query_string")):
            matched = _match(scope["path"], scope["method"])
            if matched is not None:
                await self._serve(matched[0], matched[1], scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _serve(self, fast: FastOperation, kwargs: dict[str, str], scope: Scope,
                     receive: Receive, send: Send) -> None:
        authorization = content_type = None
        for name, value in scope["headers"]:
            if name == fast.api_key_header:
                if authorization is not None:
                    return await self.app(scope, receive, send)
                authorization = value
            elif name == b"content-type":
                if content_type is not None:
                    return await self.app(scope, receive, send)
                content_type = value
        token_info = None
        if fast.api_key is not None:
            if not authorization:
                return await self.app(scope, receive, send)
            try:
                token_info = fast.api_key(authorization.decode("latin-1"))
            except Exception:
                token_info = None
            if token_info is None:
                return await self.app(scope, receive, send)
        mime = _mime(content_type, fast.default_mime)
        if mime is None or not fast.accepts(mime[0]):
            return await self.app(scope, receive, send)
        body: Any = NO_BODY
        if fast.parses_json:
            if mime[0] != "application/json" or mime[1] not in _JSON_CHARSETS:
                return await self.app(scope, receive, send)
            messages, raw = await _read(receive)
            try:
                body = parse_json(raw)
            except Exception:
                return await self.app(scope, _replay(messages, receive), send)
            receive = _replay(messages, receive)
        await self._run(fast, kwargs, token_info, body, scope, receive, send)

    async def _run(self, fast: FastOperation, kwargs: dict[str, str], token_info: Any,
                   body: Any, scope: Scope, receive: Receive, send: Send) -> None:
        context = {} if token_info is None else {"token_info": token_info,
                                                 "user": token_info.get("sub")}
        if fast.app is None:
            fast.app = _handler_app(fast, MemoResponseValidation(
                operation=fast.operation, validator_map=VALIDATOR_MAP) if self.validate else None)
        tokens = (_context.set(context), _operation.set(fast.operation), _scope.set(scope),
                  _receive.set(receive), parsed_body.set(body), _kwargs.set(kwargs))
        try:
            await fast.app(scope, receive, send)
        finally:
            _kwargs.reset(tokens[5])
            parsed_body.reset(tokens[4])
            _receive.reset(tokens[3])
            _scope.reset(tokens[2])
            _operation.reset(tokens[1])
            _context.reset(tokens[0])


class MemoResponseValidation(ResponseValidationOperation):
    """Connexion's response validation with its per-response lookups remembered per (status,
    Content-Type): the operation's response definition and schema, the required headers and
    whether the media type is one the operation produces. A failing check is left to
    Connexion's own code, so it raises exactly what Connexion raises.

    A JSON body under our own validator (`validators.ResponseBodyValidator`) is checked here,
    with the same compiled validator, nothing sent before the whole body passed, without a
    validator object and its closures per response; when the body does not parse or does not
    conform, that validator itself raises (the same 500). Used through `checked_send`, by the
    handler app of each fast operation, not as an ASGI layer of its own."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(_no_app, **kwargs)
        self._memo: dict[tuple[int, bytes | None], _Checks] = {}

    def _checks(self, status: int, content_type: bytes | None, headers: list[Any]) -> _Checks:
        mime_type, encoding = self.extract_content_type(headers)
        if status < 400:
            self.validate_mime_type(mime_type)
        definition = self._operation.response_definition(str(status), mime_type)
        required = frozenset(k.lower() for k, v in definition.get("headers", {}).items()
                             if v.get("required", False))
        validator_cls = self._validator_map["response"].get(mime_type)
        schema = self._operation.response_schema(str(status), mime_type)
        compiled = None
        if validator_cls is ResponseBodyValidator:
            compiled = fastvalidation.compiled(without_components(schema))
        return _Checks(required, frozenset(r.encode("latin-1") for r in required), definition,
                       validator_cls, schema, is_nullable(definition), encoding, compiled)

    def _checks_for(self, status: int, headers: list[Any]) -> _Checks:
        """The checks of an answer with this status and these (raw) headers; a missing
        required header raises Connexion's own exception."""
        content_type = None
        for k, v in headers:
            if k.lower() == b"content-type":
                content_type = v
                break
        key = (status, content_type)
        checks = self._memo.get(key)
        if checks is None:
            checks = self._checks(status, content_type, headers)
            if len(self._memo) < 256:
                self._memo[key] = checks
        if checks.required and not checks.required_raw <= {k for k, _ in headers} \
                and not checks.required <= {k.decode("latin-1").lower() for k, _ in headers}:
            self.validate_required_headers(headers, checks.definition)  # raises
        return checks

    def checked_send(self, response: Any, scope: Scope, send: Send) -> Send:
        """Validate a handler's answer before any of it is sent. A Starlette `Response` (its
        whole body in hand, sent as one start and one body message) is checked here, at once:
        the same checks as the buffering `send` wrapper below, without the wrapper, the buffer
        and the messages' round trip. Anything else (a streamed or file answer) gets that
        wrapper. Returns the `send` to answer with."""
        if type(response).__call__ is not Response.__call__:
            return self._wrapped(scope, send)
        checks = self._checks_for(response.status_code, response.raw_headers)
        if checks.compiled is not None and scope["method"] != "HEAD":
            _check_body(response.body, scope, checks)
            return send
        return checks.other_validator(scope, send)

    def _wrapped(self, scope: Scope, send: Send) -> Send:
        async def wrapped_send(message: MutableMapping[str, Any]) -> None:
            nonlocal send
            if message["type"] == "http.response.start":
                checks = self._checks_for(message["status"], message["headers"])
                if checks.compiled is not None and scope["method"] != "HEAD":
                    send = _validating_send(send, scope, checks)
                else:
                    send = checks.other_validator(scope, send)
            await send(message)

        return wrapped_send


@dataclass(frozen=True)
class _Checks:
    required: frozenset[str]  # required response headers, lower-case
    required_raw: frozenset[bytes]  # the same as bytes (Starlette's header names)
    definition: dict[str, Any]
    validator_cls: Any
    schema: Any
    nullable: bool
    encoding: str | None
    compiled: Any  # the jsonschema_rs validator when validator_cls is ResponseBodyValidator

    def other_validator(self, scope: Scope, send: Send) -> Send:
        """`send` through Connexion's validator of this media type (unchanged without one)."""
        if self.validator_cls is None:
            return send
        return self.validator_cls(scope, schema=self.schema, nullable=self.nullable,
                                  encoding=self.encoding).wrap_send(send)


def _validating_send(send: Send, scope: Scope, checks: _Checks) -> Send:
    """`ResponseBodyValidator(...).wrap_send(send)` (Connexion's AbstractResponseBodyValidator
    buffering, FastJSONResponseBodyValidator's parse and check) without building it."""
    messages: list[MutableMapping[str, Any]] = []

    async def send_(message: MutableMapping[str, Any]) -> None:
        messages.append(message)
        if message["type"] == "http.response.start" or message.get("more_body", False):
            return
        _check_body(b"".join(m.get("body", b"") for m in messages), scope, checks)
        while messages:
            await send(messages.pop(0))

    return send_


def _check_body(raw: bytes, scope: Scope, checks: _Checks) -> None:
    """FastJSONResponseBodyValidator's parse and check of a whole body: the compiled
    validator says yes, or the validator itself raises its exception."""
    body: Any = None
    ok = True
    if raw:
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            ok = False
    if not ok or not (body is None and checks.nullable) and not checks.compiled.is_valid(body):
        validator = checks.validator_cls(scope, schema=checks.schema, nullable=checks.nullable,
                                         encoding=checks.encoding)
        parsed = validator._parse(iter([raw]))
        if not (parsed is None and checks.nullable):
            validator._validate(parsed)


_kwargs: ContextVar[dict[str, str]] = ContextVar("mockserver_fast_kwargs")


def _handler_app(fast: FastOperation, validation: MemoResponseValidation | None) -> ASGIApp:
    """The handler as an ASGI app; its answer checked by `validation` (None: not checked)."""
    async def handler_app(scope: Scope, receive: Receive, send: Send) -> None:
        response = await fast.function(**_kwargs.get())
        if validation is not None:
            send = validation.checked_send(response, scope, send)
        await response(scope, receive, send)

    return handler_app


async def _no_app(scope: Scope, receive: Receive, send: Send) -> None:  # pragma: no cover
    """The `next_app` Connexion's base class wants; MemoResponseValidation calls none."""
    raise RuntimeError("not an app")


async def _read(receive: Receive) -> tuple[list[Message], bytes]:
    messages: list[Message] = []
    chunks: list[bytes] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return messages, b"".join(chunks)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay
