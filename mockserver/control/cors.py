"""CORS for browser apps on another origin: any origin by default (`--cors-origin` narrows it),
preflight for the Authorization and X-Mock-Session headers, and the pagination headers exposed
so that a browser app can read them."""

from __future__ import annotations

from typing import Any

from mockserver.settings import Settings

EXPOSED = ("Link", "X-Result-Count", "Location", "WWW-Authenticate", "Allow", "Retry-After")
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
PREFLIGHT_MAX_AGE = 600


def cors_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments of starlette.middleware.cors.CORSMiddleware."""
    origins = list(settings.cors_origins) or ["*"]
    return {
        "allow_origins": ["*"] if "*" in origins else origins,
        "allow_methods": list(METHODS),
        # "*" makes Starlette echo the requested headers, which is what a preflight for
        # `Authorization` needs (a literal "*" does not cover Authorization in browsers).
        "allow_headers": ["*"],
        "expose_headers": list(EXPOSED),
        "allow_credentials": False,
        "max_age": PREFLIGHT_MAX_AGE,
    }
