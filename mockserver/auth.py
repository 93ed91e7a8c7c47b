"""Token authentication, as Waldur's `TokenAuthentication` does it (reference section 3).

* `Authorization: Token <key>`; the keyword is case-insensitive.
* `?x-auth-token=<key>` is used when no Authorization header is sent (QueryTokenMiddleware maps it
  to the header before Connexion's security middleware runs).
* 401 bodies are the real server's, always with `WWW-Authenticate: Token`.
* `X-Impersonated-User-UUID: <uuid>` (HomePort's impersonation): a staff caller acts as that
  (active) user on this request; from anyone else, or naming nobody (HomePort sends `null` when
  it does not impersonate), the header is ignored.
"""

from __future__ import annotations

import uuid as uuid_mod
from contextvars import ContextVar
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Receive, Scope, Send

from mockserver.orders.exceptions import NotAuthenticated, detail
from mockserver.registry import current_backend

KEYWORD = b"token"
QUERY_PARAM = "x-auth-token"
IMPERSONATION_HEADER = b"x-impersonated-user-uuid"
_impersonated: ContextVar[bytes | None] = ContextVar("mockserver_impersonated", default=None)

NO_CREDENTIALS = "Authentication credentials were not provided."
INVALID_TOKEN = "Invalid token."
NO_KEY = "Invalid token. No credentials provided."
HAS_SPACES = "Invalid token. Token string should not contain spaces."
BAD_CHARS = "Invalid token header. Token string should not contain invalid characters."


def not_authenticated(text: str = NO_CREDENTIALS) -> NotAuthenticated:
    return NotAuthenticated(detail(text))


_KEYS: dict[str, str] = {}  # header value -> its key, for the last few thousand valid values
_KEYS_MAX = 4096


def key_from_header(value: str | None) -> str:
    """The token key of an Authorization header value, or NotAuthenticated with the exact text.
    (A pure function of the value, asked 2-3 times a request: well-formed values remembered.)"""
    if value:
        key = _KEYS.get(value)
        if key is not None:
            return key
    key = _parse_key(value)
    if len(_KEYS) >= _KEYS_MAX:
        _KEYS.clear()
    _KEYS[value] = key  # type: ignore[index]  # a value that parses is a non-empty str
    return key


def _parse_key(value: str | None) -> str:
    if not value:
        raise not_authenticated()
    raw = value.encode("latin-1", errors="replace")
    parts = raw.split()
    if not parts or parts[0].lower() != KEYWORD:
        # Another scheme (Bearer, Basic...): DRF treats it as "no credentials".
        raise not_authenticated()
    if len(parts) == 1:
        raise not_authenticated(NO_KEY)
    if len(parts) > 2:
        raise not_authenticated(HAS_SPACES)
    try:
        return parts[1].decode("utf-8")
    except UnicodeError:
        raise not_authenticated(BAD_CHARS) from None


def authenticate(value: str | None) -> Any:
    """Resolve a header value to the backend's User (raises NotAuthenticated)."""
    return current_backend().authenticate(key_from_header(value))


def token_info(value: str) -> dict[str, Any]:
    """Connexion `x-apikeyInfoFunc`: receives the whole Authorization header value."""
    user = impersonated(authenticate(value))
    return {"sub": getattr(user, "username", None), "user": user}


def impersonated(user: Any) -> Any:
    """The user a staff caller impersonates on this request (X-Impersonated-User-UUID), else
    the caller."""
    raw = _impersonated.get()
    if not raw or not getattr(user, "is_staff", False):
        return user
    try:
        key = uuid_mod.UUID(raw.decode("latin-1").strip()).hex
    except ValueError:
        return user
    other = current_backend().users.get(key)
    return other if other is not None and other.is_active else user


def current_user() -> Any:
    """The authenticated User of the operation being served."""
    from connexion.context import context

    return context["token_info"]["user"]


class QueryTokenMiddleware:
    """Maps `?x-auth-token=` to `Authorization: Token <key>` when no Authorization is present,
    and publishes the request's X-Impersonated-User-UUID for `impersonated`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            marker = _impersonated.set(next((v for k, v in scope["headers"]
                                             if k == IMPERSONATION_HEADER), None))
            try:
                await self._call(scope, receive, send)
            finally:
                _impersonated.reset(marker)
            return
        await self.app(scope, receive, send)

    async def _call(self, scope: Scope, receive: Receive, send: Send) -> None:
        if b"x-auth-token" in scope.get("query_string", b""):
            headers = scope["headers"]
            if not any(k == b"authorization" and v for k, v in headers):
                key = query_token(scope["query_string"])
                if key:
                    scope = dict(scope)
                    scope["headers"] = [(k, v) for k, v in headers if k != b"authorization"]
                    scope["headers"].append(
                        (b"authorization", b"Token " + key.encode("utf-8"))
                    )
        await self.app(scope, receive, send)


def query_token(query_string: bytes) -> str:
    """The last `x-auth-token` value of a query string (Django's QueryDict.get)."""
    value = ""
    for name, val in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        if name == QUERY_PARAM:
            value = val
    return value
