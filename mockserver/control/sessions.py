"""Glue between the control API and the domain: sessions' backends, users, forced order states."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.types import Scope

from mockserver import auth
from mockserver.orders.exceptions import ApiError
from mockserver.registry import BackendRegistry
from mockserver.settings import Settings

if TYPE_CHECKING:
    from mockserver.orders.models import OrdersBackend


def configure(backend: Any, settings: Settings) -> None:
    """Apply the command line's policy (process delay) to a backend, whatever built it (the
    registry, a state import, a state file)."""
    if getattr(backend, "process_delay", settings.process_delay) != settings.process_delay:
        backend.process_delay = settings.process_delay


def replace_backend(registry: BackendRegistry, session: str | None, backend: Any) -> None:
    registry.put(session, backend)


def order_count(backend: Any) -> int:
    orders = getattr(backend, "orders", None)
    return len(orders) if orders is not None else 0


def username_for(backend: Any, scope: Scope) -> str | None:
    value = None
    for name, raw in scope.get("headers", ()):
        if name == b"authorization":
            value = raw.decode("latin-1")
            break
    if value is None:
        key = auth.query_token(scope.get("query_string", b""))
        if not key:
            return None
        value = f"Token {key}"
    try:
        user = backend.authenticate(auth.key_from_header(value))
    except ApiError:
        return None
    return getattr(user, "username", None)


def fixture_users(backend: Any) -> list[dict[str, Any]]:
    """Users of the world with their tokens (all fixture tokens are public test data)."""
    users = getattr(backend, "users", None) or {}
    if isinstance(users, dict):
        users = list(users.values())
    return [
        {
            "username": u.username,
            "token": u.token,
            "full_name": getattr(u, "full_name", ""),
            "is_staff": bool(getattr(u, "is_staff", False)),
        }
        for u in users
        if getattr(u, "token", None) and getattr(u, "is_active", True)
    ]


def force_order_state(backend: OrdersBackend, uuid: str, state: str,
                      data: dict[str, Any]) -> str:
    """Put an order into `state`, bypassing the state machine, permissions and side effects
    (OrdersBackend.force_state); returns the previous state."""
    return backend.force_state(uuid, state, error_message=data.get("error_message"),
                               error_traceback=data.get("error_traceback"))
