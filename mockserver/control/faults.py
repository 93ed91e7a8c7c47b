"""Injected faults: per operation (or all), a delay, a forced status with the real server's body,
or a dropped connection, each with a probability. Every fault draws from its own seeded
`random.Random`, so the same seed and the same request sequence give the same choices."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from typing import Any

from mockserver.control.spec import validation_errors

ALL = "*"

# Bodies the real deployment sends for a status (Waldur = DRF behind nginx; Django's own 500 page
# with DEBUG off). JSON bodies are DRF's default texts; HTML ones are byte-for-byte those pages.
_NGINX = (
    "<html>\r\n<head><title>{code} {reason}</title></head>\r\n<body>\r\n"
    "<center><h1>{code} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n"
    "</html>\r\n"
)
_JSON_BODIES: dict[int, Any] = {
    400: {"detail": "Malformed request."},
    401: {"detail": "Invalid token."},
    403: {"detail": "You do not have permission to perform this action."},
    404: {"detail": "Not found."},
    409: {"detail": "Cannot modify an object in its current state."},
    413: {"detail": "Request entity too large."},
    415: {"detail": 'Unsupported media type "" in request.'},
    429: {"detail": "Request was throttled. Expected available in 1 second."},
}
_EXTRA_HEADERS: dict[int, dict[str, str]] = {
    401: {"WWW-Authenticate": "Token"},
    429: {"Retry-After": "1"},
    503: {"Retry-After": "1"},
}
_REASONS = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Temporarily Unavailable",
    504: "Gateway Time-out",
}


@dataclass(frozen=True)
class FaultResponse:
    status: int
    body: bytes
    content_type: str
    headers: dict[str, str]


def real_response(status: int, method: str, body: Any = None) -> FaultResponse:
    """The response the real deployment sends with `status` (or with the caller's `body`)."""
    import json

    headers = dict(_EXTRA_HEADERS.get(status, {}))
    if body is not None:
        if isinstance(body, str):
            return FaultResponse(status, body.encode(), "text/html; charset=utf-8", headers)
        return FaultResponse(status, json.dumps(body).encode(), "application/json", headers)
    if status == 405:
        payload: Any = {"detail": f'Method "{method}" not allowed.'}
    elif status == 500:
        html = "<h1>Server Error (500)</h1>"
        return FaultResponse(status, html.encode(), "text/html; charset=utf-8", headers)
    elif status in _REASONS or status > 500:
        reason = _REASONS.get(status, "Error")
        html = _NGINX.format(code=status, reason=reason)
        return FaultResponse(status, html.encode(), "text/html", headers)
    else:
        payload = _JSON_BODIES.get(status, {"detail": "A server error occurred."})
    return FaultResponse(status, json.dumps(payload).encode(), "application/json", headers)


@dataclass
class Fault:
    id: int
    seed: int
    operation: str = ALL
    method: str | None = None
    probability: float = 1.0
    delay: float | list[float] | None = None
    status: int | None = None
    body: Any = None
    has_body: bool = False
    drop: bool = False
    after: bool = False
    times: int | None = None
    fired: int = 0
    rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def matches(self, operation: str | None, method: str) -> bool:
        if self.method is not None and self.method != method:
            return False
        return self.operation == ALL or self.operation == operation

    def roll(self) -> bool:
        """Decide (seeded) whether the fault fires now; always draws, so sequences replay."""
        draw = self.rng.random()
        return self.probability >= 1.0 or draw < self.probability

    def delay_seconds(self) -> float:
        if self.delay is None:
            return 0.0
        if isinstance(self.delay, list):
            low, high = self.delay
            return self.rng.uniform(low, high)
        return float(self.delay)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "operation": self.operation,
            "method": self.method,
            "probability": self.probability,
            "delay": self.delay,
            "status": self.status,
            "drop": self.drop,
            "after": self.after,
            "times": self.times,
            "seed": self.seed,
            "fired": self.fired,
        }
        if self.has_body:
            data["body"] = self.body
        return data


class FaultBook:
    """Faults by session; ids are unique over the stub's lifetime."""

    def __init__(self, base_seed: int, operations: frozenset[str]) -> None:
        self.base_seed = base_seed
        self.operations = operations
        self._faults: dict[str | None, list[Fault]] = {}
        self._next_id = 1
        self._lock = threading.Lock()

    def parse(self, data: Any) -> Fault | dict[str, list[str]]:
        """A new Fault from a request body, or DRF-style field errors (not stored yet)."""
        if isinstance(data, dict) and isinstance(data.get("method"), str):
            data = {**data, "method": data["method"].upper()}
        errors = validation_errors("FaultRequest", data)
        if errors:
            return errors
        assert isinstance(data, dict)
        operation = data.get("operation", ALL)
        if operation != ALL and operation not in self.operations:
            return {"operation": [f'"{operation}" is not a valid choice.']}
        delay = data.get("delay")
        if isinstance(delay, list) and delay[0] > delay[1]:
            return {"delay": ["The range must be [min, max] with min <= max."]}
        effects = [data.get("status") is not None, bool(data.get("drop")), delay is not None]
        if not any(effects):
            return {"non_field_errors": ["A fault needs at least one of delay, status, drop."]}
        if data.get("status") is not None and data.get("drop"):
            return {"non_field_errors": ["Use either status or drop, not both."]}
        if "body" in data and data.get("status") is None:
            return {"body": ["A body needs a status."]}
        with self._lock:
            fault_id = self._next_id
            self._next_id += 1
        method = data.get("method")  # already upper case
        return Fault(
            id=fault_id,
            seed=int(data["seed"]) if "seed" in data else self.base_seed * 1_000_003 + fault_id,
            operation=operation,
            method=method or None,
            probability=float(data.get("probability", 1.0)),
            delay=list(delay) if isinstance(delay, list) else delay,
            status=data.get("status"),
            body=data.get("body"),
            has_body="body" in data,
            drop=bool(data.get("drop", False)),
            after=bool(data.get("after", False)),
            times=data.get("times"),
        )

    def add(self, session: str | None, fault: Fault) -> None:
        with self._lock:
            self._faults.setdefault(session, []).append(fault)

    def list(self, session: str | None) -> list[Fault]:
        return list(self._faults.get(session, ()))

    def clear(self, session: str | None) -> None:
        with self._lock:
            self._faults.pop(session, None)

    def remove(self, session: str | None, fault_id: int) -> bool:
        with self._lock:
            faults = self._faults.get(session, [])
            for i, fault in enumerate(faults):
                if fault.id == fault_id:
                    del faults[i]
                    return True
        return False

    def armed(self, session: str | None) -> bool:
        """Whether any fault is set for the session (one could fire on its next request)."""
        return bool(self._faults.get(session))

    def pick(self, session: str | None, operation: str | None, method: str) -> Fault | None:
        """The first matching fault that fires for this request (each candidate draws once)."""
        faults = self._faults.get(session)
        if not faults:
            return None
        with self._lock:
            for fault in list(faults):
                if not fault.matches(operation, method) or not fault.roll():
                    continue
                fault.fired += 1
                if fault.times is not None and fault.fired >= fault.times:
                    faults.remove(fault)
                return fault
        return None
