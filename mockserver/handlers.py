"""What every area's handlers share: the request view (`Req`), JSON / empty responses, the
`handler` decorator that renders domain errors (ApiError) as the real server's JSON inside
response validation, the parsed JSON body, the acting user and the session's backend.

These were written for the orders and still live in `orders/responses.py`; they are imported
from here by every other area, so that moving them later changes one import line.
"""

from __future__ import annotations

from mockserver.auth import current_user
from mockserver.orders.responses import (
    Req,
    api_error_response,
    dump_json,
    empty_response,
    handler,
    json_body,
    json_response,
)
from mockserver.registry import current_backend

__all__ = [
    "Req", "api_error_response", "current_backend", "current_user", "dump_json",
    "empty_response", "handler", "json_body", "json_response",
]
