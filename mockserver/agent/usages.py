"""Component usages and their per-user breakdowns, as the agent reports them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from mockserver.agent.common import (
    NO_USAGE,
    REQUIRED,
    body_dict,
    created_at,
    datetime_field,
    decimal_amount,
    json_number,
    new_uuid,
    raise_errors,
    require_manage,
    resource_visible,
    string_field,
)
from mockserver.agent.entities import ComponentUsage, ComponentUserUsage
from mockserver.agent.resources import touch_resource
from mockserver.orders.entities import Resource, User
from mockserver.orders.exceptions import NotFound, ValidationError
from mockserver.orders.filters import parse_uuid

# ---------------------------------------------------------------------------------------------
# Component usages


def billing_period(when: datetime) -> date:
    return date(when.year, when.month, 1)


def set_usage(backend: Any, user: User, data: Any) -> list[ComponentUsage]:
    """Upsert one usage per (resource, component type, billing period of `date`)."""
    with backend.lock:
        body = body_dict(data)
        errors: dict[str, Any] = {}
        resource = None
        if "resource" not in body:
            errors["resource"] = [REQUIRED]
        else:
            hex_ = parse_uuid(body["resource"]) if isinstance(body["resource"], str) else None
            resource = backend.resources.get(hex_) if hex_ else None
            if resource is None or not resource_visible(backend, user, resource):
                errors["resource"] = [f'Object with uuid={body["resource"]} does not exist.']
            else:
                require_manage(backend, user, resource.offering)
        when = datetime_field(body, "date", errors) or backend.clock.anchor
        usages = body.get("usages")
        if "usages" not in body:
            errors["usages"] = [REQUIRED]
        elif not isinstance(usages, list):
            errors["usages"] = ['Expected a list of items but got type '
                                f'"{type(usages).__name__}".']
        raise_errors(errors)
        assert resource is not None and isinstance(usages, list)
        components = {c.type: c for c in resource.offering.components}
        items: list[tuple[str, str, str]] = []
        item_errors: list[dict[str, list[str]]] = []
        for item in usages:
            err: dict[str, list[str]] = {}
            if not isinstance(item, dict):
                item_errors.append({"non_field_errors": ["Invalid data."]})
                continue
            ctype = string_field(item, "type", err, required=True, blank=False)
            amount = decimal_amount(item.get("amount")) if "amount" in item else None
            if "amount" not in item:
                err["amount"] = [REQUIRED]
            elif amount is None:
                err["amount"] = ["A valid number is required."]
            item_errors.append(err)
            if not err:
                assert ctype is not None and amount is not None
                items.append((ctype, amount, str(item.get("description") or "")))
        if any(item_errors):
            raise ValidationError({"usages": item_errors})
        for ctype, _amount, _desc in items:
            if ctype not in components:
                raise ValidationError([f"Component {ctype} is not found."])
        period = billing_period(when)
        out = []
        for ctype, amount, description in items:
            out.append(_upsert_usage(backend, user, resource, ctype, amount, description,
                                     when, period))
        return out


def _upsert_usage(backend: Any, user: User, resource: Resource, ctype: str, amount: str,
                  description: str, when: datetime, period: date) -> ComponentUsage:
    latest = max((u.billing_period for u in backend.world.component_usages
                  if u.resource_uuid == resource.uuid and u.type == ctype), default=period)
    if period >= latest:
        resource.current_usages = {**resource.current_usages, ctype: json_number(amount)}
        touch_resource(backend, resource)
    for usage in backend.world.component_usages:
        if (usage.resource_uuid == resource.uuid and usage.type == ctype
                and usage.billing_period == period):
            usage.usage, usage.date, usage.description = amount, when, description
            usage.modified_by_uuid = user.uuid
            return usage
    uuid_hex = new_uuid("component-usage", resource.uuid, ctype, period.isoformat())
    usage = ComponentUsage(uuid=uuid_hex, resource_uuid=resource.uuid, type=ctype, usage=amount,
                           date=when, billing_period=period, created=created_at(backend, uuid_hex),
                           description=description, modified_by_uuid=user.uuid)
    backend.world.component_usages.append(usage)
    return usage


def _usage_visible(backend: Any, user: User, usage: ComponentUsage) -> Resource | None:
    resource = backend.resources.get(usage.resource_uuid)
    if resource is None or not resource_visible(backend, user, resource):
        return None
    return resource


def _dates(values: Sequence[str]) -> set[date]:
    out = set()
    for value in values:
        try:
            out.add(date.fromisoformat(value[:10]))
        except ValueError:
            raise ValidationError({"billing_period": ["Enter a valid date."]}) from None
    return out


def list_usages(backend: Any, user: User, query: Mapping[str, list[str]]
                ) -> list[ComponentUsage]:
    resource_uuids = {parse_uuid(v) for v in query.get("resource_uuid", ())}
    offering_uuids = {parse_uuid(v) for v in query.get("offering_uuid", ())}
    periods = _dates(query.get("billing_period", ()))
    types = set(query.get("type", ()))
    out = []
    for usage in backend.world.component_usages:
        resource = _usage_visible(backend, user, usage)
        if resource is None:
            continue
        if resource_uuids and usage.resource_uuid not in resource_uuids:
            continue
        if offering_uuids and resource.offering.uuid not in offering_uuids:
            continue
        if periods and usage.billing_period not in periods:
            continue
        if types and usage.type not in types:
            continue
        out.append(usage)
    return sorted(out, key=lambda u: (u.billing_period, u.date, u.uuid), reverse=True)


def get_usage(backend: Any, user: User, uuid: str) -> ComponentUsage:
    hex_ = parse_uuid(uuid) if isinstance(uuid, str) else None
    usage = next((u for u in backend.world.component_usages if u.uuid == hex_), None)
    if usage is None or _usage_visible(backend, user, usage) is None:
        raise NotFound(NO_USAGE)
    return usage


def set_user_usages(backend: Any, user: User, uuid: str, data: Any
                    ) -> list[ComponentUserUsage]:
    """Upsert one user usage per (component usage, username)."""
    with backend.lock:
        usage = get_usage(backend, user, uuid)
        resource = backend.resources[usage.resource_uuid]
        require_manage(backend, user, resource.offering)
        body = body_dict(data)
        items = body.get("usages")
        if not isinstance(items, list):
            raise ValidationError({"usages": [REQUIRED if "usages" not in body
                                              else "Expected a list of items."]})
        parsed: list[tuple[str, str, datetime, str | None]] = []
        item_errors: list[dict[str, list[str]]] = []
        for item in items:
            err: dict[str, list[str]] = {}
            if not isinstance(item, dict):
                item_errors.append({"non_field_errors": ["Invalid data."]})
                continue
            username = string_field(item, "username", err, required=True, blank=False)
            amount = decimal_amount(item.get("usage", "0"))
            if amount is None:
                err["usage"] = ["A valid number is required."]
            when = datetime_field(item, "date", err) or usage.date
            ou_uuid = _offering_user_from_url(backend, item.get("user"))
            item_errors.append(err)
            if not err:
                assert username is not None and amount is not None
                parsed.append((username, amount, when, ou_uuid))
        if any(item_errors):
            raise ValidationError({"usages": item_errors})
        out = []
        for username, amount, when, ou_uuid in parsed:
            out.append(_upsert_user_usage(backend, usage, username, amount, when, ou_uuid))
        return out


def _offering_user_from_url(backend: Any, value: Any) -> str | None:
    if not isinstance(value, str) or not value:
        return None
    tail = value.rstrip("/").rsplit("/", 1)[-1]
    hex_ = parse_uuid(tail)
    return hex_ if any(ou.uuid == hex_ for ou in backend.world.offering_users) else None


def _upsert_user_usage(backend: Any, usage: ComponentUsage, username: str, amount: str,
                       when: datetime, ou_uuid: str | None) -> ComponentUserUsage:
    for item in backend.world.component_user_usages:
        if item.component_usage_uuid == usage.uuid and item.username == username:
            item.usage, item.date = amount, when
            item.offering_user_uuid = ou_uuid or item.offering_user_uuid
            item.modified = backend.clock.next_change(item.modified)
            return item
    uuid_hex = new_uuid("component-user-usage", usage.uuid, username)
    created = created_at(backend, uuid_hex)
    item = ComponentUserUsage(uuid=uuid_hex, component_usage_uuid=usage.uuid, username=username,
                              usage=amount, date=when, created=created, modified=created,
                              offering_user_uuid=ou_uuid)
    backend.world.component_user_usages.append(item)
    return item


def list_user_usages(backend: Any, user: User, query: Mapping[str, list[str]]
                     ) -> list[tuple[ComponentUserUsage, ComponentUsage]]:
    resource_uuids = {parse_uuid(v) for v in query.get("resource_uuid", ())}
    periods = _dates(query.get("component_usage__billing_period", ())
                     or query.get("billing_period", ()))
    usernames = set(query.get("username", ()))
    usages = {u.uuid: u for u in backend.world.component_usages}
    out = []
    for item in backend.world.component_user_usages:
        usage = usages.get(item.component_usage_uuid)
        if usage is None or _usage_visible(backend, user, usage) is None:
            continue
        if resource_uuids and usage.resource_uuid not in resource_uuids:
            continue
        if periods and usage.billing_period not in periods:
            continue
        if usernames and item.username not in usernames:
            continue
        out.append((item, usage))
    return sorted(out, key=lambda p: (p[0].created, p[0].uuid), reverse=True)
