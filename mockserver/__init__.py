"""waldur-orders-mock: a stateful fake of the Waldur Marketplace Orders API."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from mockserver.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    # Lazy, so that importing a domain module does not pull in Connexion.
    if name == "create_app":
        from mockserver.app import create_app

        return create_app
    raise AttributeError(name)
