"""Domain errors. Each carries the status and body the real Waldur server sends (reference §6)."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    status: int = 400
    default_body: Any = None

    def __init__(self, body: Any = None, headers: dict[str, str] | None = None) -> None:
        self.body = body if body is not None else self.default_body
        self.headers = headers or {}
        super().__init__(self.body)


def detail(text: str) -> dict[str, str]:
    return {"detail": text}


class ValidationError(ApiError):
    """400: `{"field": ["msg"]}` for serializer errors; a bare `["msg"]` list for validators."""

    status = 400


class NotAuthenticated(ApiError):
    status = 401
    default_body = detail("Authentication credentials were not provided.")

    def __init__(self, body: Any = None) -> None:
        super().__init__(body, {"WWW-Authenticate": "Token"})


class PermissionDenied(ApiError):
    status = 403
    default_body = detail("You do not have permission to perform this action.")


class NotFound(ApiError):
    status = 404
    default_body = detail("No Order matches the given query.")


class MethodNotAllowed(ApiError):
    status = 405


class IncorrectState(ApiError):
    status = 409

    @classmethod
    def for_states(cls, states: list[str] | tuple[str, ...]) -> IncorrectState:
        return cls(detail(f"Valid states for operation: {', '.join(states)}."))
