"""State the site agent writes, as dataclasses held in the World (so state export/import,
reset and sessions cover it). Related objects are referred to by uuid (hex), not by reference:
the snapshot codec (orders/snapshot.py) stores them as they are."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any


@dataclass(eq=False, slots=True)
class AgentIdentity:
    uuid: str
    offering_uuid: str
    name: str
    created: datetime
    modified: datetime
    created_by_uuid: str | None = None
    version: str | None = None
    dependencies: list[dict[str, Any]] = field(default_factory=list)
    config_file_path: str | None = None
    config_file_content: str | None = None
    last_restarted: datetime | None = None


@dataclass(eq=False, slots=True)
class AgentService:
    uuid: str
    identity_uuid: str
    name: str
    created: datetime
    modified: datetime
    mode: str | None = None
    state: str = "Active"


@dataclass(eq=False, slots=True)
class AgentProcessor:
    uuid: str
    service_uuid: str
    name: str
    backend_type: str
    created: datetime
    modified: datetime
    backend_version: str | None = None
    last_run: datetime | None = None


@dataclass(eq=False, slots=True)
class ComponentUsage:
    """One reported usage of a component of a resource in a billing period (a month)."""

    uuid: str
    resource_uuid: str
    type: str
    usage: str  # decimal string, 2 places (Waldur's DecimalField)
    date: datetime
    billing_period: date
    created: datetime
    description: str = ""
    modified_by_uuid: str | None = None


@dataclass(eq=False, slots=True)
class ComponentUserUsage:
    uuid: str
    component_usage_uuid: str
    username: str
    usage: str
    date: datetime
    created: datetime
    modified: datetime
    offering_user_uuid: str | None = None


@dataclass(eq=False, slots=True)
class OfferingUser:
    uuid: str
    offering_uuid: str
    user_uuid: str
    created: datetime
    modified: datetime
    username: str | None = None
    state: str = "OK"
    is_restricted: bool = False
