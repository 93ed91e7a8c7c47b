"""The stub's control API and browser-facing middleware (issue 5). Placeholder until it lands."""

from __future__ import annotations

from typing import Any


def install(app: Any, settings: Any, registry: Any) -> None:
    """Add the control API routes and middleware to the app. No-op until issue 5 lands."""
