"""World <-> JSON-able dict. References become uuids; datetimes DRF-style strings; dates ISO;
attachments base64. Lists are sorted (orders by (created, uuid), the rest by uuid) and every
dict is plain, so `json.dumps(export, sort_keys=True)` is byte-stable across round trips."""

from __future__ import annotations

import base64
import dataclasses
from datetime import date
from typing import Any

from mockserver.agent.entities import (
    AgentIdentity,
    AgentProcessor,
    AgentService,
    ComponentUsage,
    ComponentUserUsage,
    OfferingUser,
)
from mockserver.orders.entities import (
    Attachment,
    Category,
    Component,
    Customer,
    Grant,
    Offering,
    Order,
    Plan,
    Project,
    Resource,
    User,
    World,
)
from mockserver.world.clock import format_instant, parse_instant

FORMAT = 1

# Reference fields: class -> field -> the lookup table it points into.
REFS: dict[type, dict[str, str]] = {
    Project: {"customer": "customers"},
    Offering: {"customer": "customers", "category": "categories"},
    Resource: {"offering": "offerings", "project": "projects", "plan": "plans"},
    Order: {
        "project": "projects", "offering": "offerings", "resource": "resources",
        "created_by": "users", "plan": "plans", "consumer_reviewed_by": "users",
        "provider_reviewed_by": "users", "old_plan": "plans",
    },
    Plan: {"offering": "-"},  # back-reference, restored from the parent offering
}
NESTED: dict[type, dict[str, type]] = {Offering: {"components": Component, "plans": Plan}}
# The site agent's state (World attribute -> class), kept in creation order; absent from
# exports written before it existed.
AGENT_TABLES: dict[str, type] = {
    "agent_identities": AgentIdentity,
    "agent_services": AgentService,
    "agent_processors": AgentProcessor,
    "component_usages": ComponentUsage,
    "component_user_usages": ComponentUserUsage,
    "offering_users": OfferingUser,
}


def _encode_attachment(value: Attachment) -> dict[str, str]:
    return {
        "filename": value.filename,
        "content_type": value.content_type,
        "content": base64.b64encode(value.content).decode("ascii"),
    }


def _copy_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _copy_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_copy_json(v) for v in value]
    return value


# Per class, once: how each field is encoded/decoded ("ref", "nested", "dt", "date", "att",
# "json" for dict/list values, "plain" for scalars, "skip").
_PLANS: dict[type, tuple[tuple[str, str], ...]] = {}


def _plan(cls: type) -> tuple[tuple[str, str], ...]:
    plan = _PLANS.get(cls)
    if plan is None:
        refs, nested = REFS.get(cls, {}), NESTED.get(cls, {})
        items = []
        for f in dataclasses.fields(cls):
            ftype = str(f.type)
            if f.name in refs:
                mode = "skip" if refs[f.name] == "-" else "ref"
            elif f.name in nested:
                mode = "nested"
            elif ftype.startswith("datetime"):
                mode = "dt"
            elif ftype.startswith("date"):
                mode = "date"
            elif ftype.startswith("Attachment"):
                mode = "att"
            elif ftype.startswith(("dict", "list")):
                mode = "json"
            else:
                mode = "plain"
            items.append((f.name, mode))
        plan = _PLANS[cls] = tuple(items)
    return plan


def encode(obj: Any) -> dict[str, Any]:
    cls = type(obj)
    out: dict[str, Any] = {}
    for name, mode in _plan(cls):
        value = getattr(obj, name)
        if mode == "plain":
            out[name] = value
        elif mode == "skip":
            continue
        elif value is None:
            out[name] = None
        elif mode == "ref":
            out[name] = value.uuid
        elif mode == "dt":
            out[name] = format_instant(value)
        elif mode == "date":
            out[name] = value.isoformat()
        elif mode == "json":
            out[name] = _copy_json(value)
        elif mode == "att":
            out[name] = _encode_attachment(value)
        else:  # nested
            out[name] = [encode(v) for v in value]
    return out


def decode(cls: type, data: dict[str, Any], tables: dict[str, dict[str, Any]]) -> Any:
    refs, nested = REFS.get(cls, {}), NESTED.get(cls, {})
    kwargs: dict[str, Any] = {}
    for name, mode in _plan(cls):
        if name not in data:
            continue
        value = data[name]
        if mode == "plain" or value is None:
            kwargs[name] = value
        elif mode == "ref":
            kwargs[name] = tables[refs[name]][value]
        elif mode == "dt":
            kwargs[name] = parse_instant(value)
        elif mode == "date":
            kwargs[name] = date.fromisoformat(value)
        elif mode == "json":
            kwargs[name] = _copy_json(value)
        elif mode == "att":
            kwargs[name] = Attachment(value["filename"], value["content_type"],
                                      base64.b64decode(value["content"]))
        elif mode == "nested":
            kwargs[name] = [decode(nested[name], v, tables) for v in value]
    return cls(**kwargs)


def export_world(world: World, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    def by_uuid(items: list[Any]) -> list[dict[str, Any]]:
        return [encode(x) for x in sorted(items, key=lambda x: x.uuid)]

    return {
        "format": FORMAT,
        "seed": world.seed,
        "anchor": format_instant(world.anchor),
        "users": by_uuid(world.users),
        "customers": by_uuid(world.customers),
        "categories": by_uuid(world.categories),
        "projects": by_uuid(world.projects),
        "offerings": by_uuid(world.offerings),
        "resources": by_uuid(world.resources),
        "grants": sorted(
            [g.user_uuid, g.role, g.scope_kind, g.scope_uuid] for g in world.grants),
        "orders": [encode(o) for o in sorted(world.orders, key=lambda o: (o.created, o.uuid))],
        "keys": {k: dict(sorted(v.items())) for k, v in sorted(world.keys.items())},
        **{kind: [encode(x) for x in getattr(world, kind)] for kind in AGENT_TABLES},
        "extra": extra or {},
    }


def import_world(data: dict[str, Any]) -> tuple[World, dict[str, Any]]:
    if data.get("format") != FORMAT:
        raise ValueError(f"unsupported state format {data.get('format')!r}")
    tables: dict[str, dict[str, Any]] = {}
    world = World(seed=data["seed"], anchor=parse_instant(data["anchor"]))

    def load(kind: str, cls: type) -> list[Any]:
        items = [decode(cls, d, tables) for d in data[kind]]
        tables[kind] = {x.uuid: x for x in items}
        return items

    world.users = load("users", User)
    world.customers = load("customers", Customer)
    world.categories = load("categories", Category)
    world.projects = load("projects", Project)
    world.offerings = load("offerings", Offering)
    tables["plans"] = {}
    for offering in world.offerings:
        for plan in offering.plans:
            plan.offering = offering
            tables["plans"][plan.uuid] = plan
    world.resources = load("resources", Resource)
    world.grants = [Grant(*g) for g in data["grants"]]
    world.orders = load("orders", Order)
    world.keys = {k: dict(v) for k, v in data.get("keys", {}).items()}
    for kind, cls in AGENT_TABLES.items():
        setattr(world, kind, [decode(cls, d, tables) for d in data.get(kind, ())])
    return world, dict(data.get("extra") or {})
