"""What the site agent area's rules share: who is the provider side of an offering, the
bodies' DRF field texts, deterministic uuids and instants of new records."""

from __future__ import annotations

import uuid as uuid_mod
from collections.abc import Mapping
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from mockserver.orders.entities import Offering, Resource, User
from mockserver.orders.exceptions import PermissionDenied, ValidationError, detail
from mockserver.orders.filters import parse_uuid
from mockserver.world.clock import parse_instant
from mockserver.world.generate import NAMESPACE

REQUIRED = "This field is required."
NOT_NULL = "This field may not be null."
NOT_BLANK = "This field may not be blank."
NO_IDENTITY = detail("No AgentIdentity matches the given query.")
NO_SERVICE = detail("No AgentService matches the given query.")
NO_PROCESSOR = detail("No AgentProcessor matches the given query.")
NO_OFFERING_USER = detail("No OfferingUser matches the given query.")
NO_RESOURCE = detail("No Resource matches the given query.")
NO_OFFERING = detail("No Offering matches the given query.")
NO_USAGE = detail("No ComponentUsage matches the given query.")
SERVICE_STATES = ("Active", "Error", "Idle")
# Offering users in these states are "actionable" for the agent (its own filter); all are served.
OFFERING_USER_STATES = ("OK", "Requested", "Creating", "Error creating",
                        "Pending account linking", "Pending additional validation")
PROVIDER_ROLE_KINDS = (("customer", "provider"), ("offering", "offering"),
                       ("service_provider", "provider"))


def new_uuid(*parts: str) -> str:
    return uuid_mod.uuid5(NAMESPACE, ":".join(parts)).hex


# ---------------------------------------------------------------------------------------------
# Permissions: the provider side of an offering


def _scope(offering: Offering, which: str) -> str:
    return offering.uuid if which == "offering" else offering.customer.uuid


def manages(backend: Any, user: User, offering: Offering) -> bool:
    """Staff, or a provider-side role that may approve the offering's orders (customer owner or
    service-provider manager of the provider, offering manager)."""
    if user.is_staff:
        return True
    perms = backend.perms
    return any(perms.has(user.uuid, "ORDER.APPROVE", kind, _scope(offering, which))
               for kind, which in PROVIDER_ROLE_KINDS)


def sees(backend: Any, user: User, offering: Offering) -> bool:
    """Staff and support see every offering's agent data; otherwise the provider side."""
    if user.is_staff or user.is_support:
        return True
    perms = backend.perms
    return any(perms.has(user.uuid, "ORDER.LIST", kind, _scope(offering, which))
               for kind, which in PROVIDER_ROLE_KINDS)


def require_manage(backend: Any, user: User, offering: Offering) -> None:
    if not manages(backend, user, offering):
        raise PermissionDenied()


# ---------------------------------------------------------------------------------------------
# Body helpers (DRF texts)


def body_dict(data: Any) -> dict[str, Any]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValidationError({"non_field_errors": [
            f"Invalid data. Expected a dictionary, but got {type(data).__name__}."]})
    return data


def required_dict(body: dict[str, Any], name: str, wrong_type: str) -> dict[str, Any]:
    """`body[name]`, which must be present (DRF's "required") and a JSON object (else
    `wrong_type`, the serializer field's own message): a 400 otherwise."""
    if name not in body:
        raise ValidationError({name: [REQUIRED]})
    value = body[name]
    if not isinstance(value, dict):
        raise ValidationError({name: [wrong_type]})
    return value


def string_field(data: dict[str, Any], name: str, errors: dict[str, list[str]], *,
            required: bool = False, nullable: bool = False, blank: bool = True,
            max_length: int | None = None) -> str | None:
    if name not in data:
        if required:
            errors[name] = [REQUIRED]
        return None
    value = data[name]
    if value is None:
        if not nullable:
            errors[name] = [NOT_NULL]
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        errors[name] = ["Not a valid string."]
        return None
    text = str(value)
    if not text.strip() and not blank:
        errors[name] = [NOT_BLANK]
        return None
    if max_length is not None and len(text) > max_length:
        errors[name] = [f"Ensure this field has no more than {max_length} characters."]
        return None
    return text


def datetime_field(data: dict[str, Any], name: str, errors: dict[str, list[str]]
                   ) -> datetime | None:
    value = data.get(name)
    if value is None:
        return None
    try:
        return parse_instant(str(value))
    except ValueError:
        errors[name] = ["Datetime has wrong format. Use one of these formats instead: "
                        "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."]
        return None


def decimal_amount(value: Any) -> str | None:
    """A usage amount as Waldur stores it (2 decimal places); None if not a number."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount < 0:
        return None
    return str(amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def json_number(amount: str) -> int | float:
    value = Decimal(amount)
    return int(value) if value == value.to_integral_value() else float(value)


def raise_errors(errors: Mapping[str, Any]) -> None:
    if errors:
        raise ValidationError(dict(errors))


def offering_by_uuid(backend: Any, value: Any) -> Offering | None:
    hex_ = parse_uuid(value) if isinstance(value, str) else None
    return backend.offerings.get(hex_) if hex_ else None


def created_at(backend: Any, uuid_hex: str) -> datetime:
    """A new record's creation instant: derived from its uuid (world/clock.py)."""
    return backend.clock.created_for(uuid_hex)


def resource_visible(backend: Any, user: User, resource: Resource) -> bool:
    """The provider side, or the consumer's project / customer (the consumer views)."""
    perms = backend.perms
    return (sees(backend, user, resource.offering)
            or perms.has(user.uuid, "ORDER.LIST", "project", resource.project.uuid)
            or perms.has(user.uuid, "ORDER.LIST", "customer", resource.project.customer.uuid))
