"""Load and validate a fixtures YAML file (format: docs/fixtures.md).

`load_fixtures(path)` returns a `FixtureDoc`: plain dicts, checked against `SCHEMA` (known keys,
required keys, types, enums, references between entries, duplicates). Every problem raises a
`FixtureError` whose message names the file, the entry (`users[3]`, `orders[ord-a]`,
`offerings[slurm].plans[0]`) and the problem. Filling the gaps (names, uuids, dates) is
generate.py's job, not this module's.
"""

from __future__ import annotations

import re
import uuid as uuid_mod
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from mockserver import spec
from mockserver.orders.permissions import ROLE_SCOPES
from mockserver.orders.statemachine import ORDER_TYPE_DB_INT, STATE_DB_INT

# Enums of the API contract, read from the spec (a value outside them would fail validation).
RESOURCE_STATES = spec.enum_values("ResourceState")
BILLING_TYPES = spec.enum_values("BillingTypeEnum")
PLAN_UNITS = spec.enum_values("BillingUnit")
OFFERING_STATES = spec.enum_values("OfferingState")
TOKEN_RE = re.compile(r"^[0-9a-f]{40}$")
SCOPE_KINDS = ("customer", "project", "offering", "service_provider")


class FixtureError(ValueError):
    """A broken fixture file. The message names the file, the entry and the problem."""


# ---------------------------------------------------------------------------------------------
# The schema. A field type is one of: "str", "str?" (str or null), "bool", "int", "dict", "date?",
# "datetime", "uuid", "token", "decimal", ("enum", values), ("ref", kind), ("list", sub-schema
# name), "plan" (a plan key of the entry's offering).

Field = tuple[str, Any, bool]  # (name, type, required)

SCHEMA: dict[str, list[Field]] = {
    "users": [
        ("username", "str", True), ("token", "token", True), ("uuid", "uuid", False),
        ("full_name", "str", False), ("email", "str", False), ("civil_number", "str?", False),
        ("is_staff", "bool", False), ("is_support", "bool", False), ("is_active", "bool", False),
        ("roles", ("list", "roles"), False), ("password", "str", False),
    ],
    "roles": [
        ("role", ("enum", tuple(ROLE_SCOPES)), True),
        ("customer", ("ref", "customers"), False), ("project", ("ref", "projects"), False),
        ("offering", ("ref", "offerings"), False),
        ("service_provider", ("ref", "customers"), False),
    ],
    "customers": [
        ("key", "str", True), ("uuid", "uuid", False), ("name", "str", False),
        ("slug", "str", False), ("abbreviation", "str", False), ("description", "str", False),
        ("blocked", "bool", False), ("archived", "bool", False),
        ("service_provider", "bool", False),
    ],
    "categories": [
        ("key", "str", True), ("uuid", "uuid", False), ("title", "str", False),
        ("icon", "str?", False), ("description", "str", False),
    ],
    "projects": [
        ("key", "str", True), ("customer", ("ref", "customers"), True), ("uuid", "uuid", False),
        ("name", "str", False), ("slug", "str", False), ("description", "str", False),
        ("start_date", "date?", False), ("end_date", "date?", False),
    ],
    "offerings": [
        ("key", "str", True), ("type", "str", True), ("customer", ("ref", "customers"), True),
        ("category", ("ref", "categories"), True), ("uuid", "uuid", False),
        ("name", "str", False), ("slug", "str", False), ("description", "str", False),
        ("shared", "bool", False), ("billable", "bool", False),
        ("plugin_options", "dict", False), ("terms_of_service", "str", False),
        ("state", ("enum", OFFERING_STATES), False),
        ("components", ("list", "components"), False), ("plans", ("list", "plans"), False),
    ],
    "components": [
        ("type", "str", True), ("billing_type", ("enum", BILLING_TYPES), True),
        ("uuid", "uuid", False), ("name", "str", False), ("measured_unit", "str", False),
        ("description", "str", False), ("min_value", "int", False), ("max_value", "int", False),
        ("default_limit", "int", False),
    ],
    "plans": [
        ("key", "str", True), ("uuid", "uuid", False), ("name", "str", False),
        ("description", "str", False),
        ("unit", ("enum", PLAN_UNITS), False),
        ("prices", "dict", False),
    ],
    "resources": [
        ("key", "str", True), ("offering", ("ref", "offerings"), True),
        ("project", ("ref", "projects"), True), ("plan", "plan", False), ("uuid", "uuid", False),
        ("name", "str", False), ("state", ("enum", RESOURCE_STATES), False),
        ("limits", "dict", False), ("attributes", "dict", False), ("backend_id", "str", False),
        ("end_date", "date?", False),
    ],
    "orders": [
        ("key", "str", True), ("offering", ("ref", "offerings"), True),
        ("project", ("ref", "projects"), True), ("state", ("enum", tuple(STATE_DB_INT)), True),
        ("created_by", ("ref", "users"), True), ("uuid", "uuid", False),
        ("type", ("enum", tuple(ORDER_TYPE_DB_INT)), False), ("plan", "plan", False),
        ("resource", ("ref", "resources"), False), ("attributes", "dict", False),
        ("limits", "dict", False), ("consumer_reviewed_by", ("ref", "users"), False),
        ("provider_reviewed_by", ("ref", "users"), False), ("error_message", "str", False),
        ("error_traceback", "str", False), ("backend_id", "str", False),
        ("callback_url", "str?", False), ("request_comment", "str?", False),
        ("start_date", "date?", False), ("created", "datetime", False),
        ("output", "str", False), ("consumer_rejection_comment", "str", False),
        ("provider_rejection_comment", "str", False), ("termination_comment", "str?", False),
    ],
}
TOP_LEVEL: dict[str, Any] = {
    "version": "int",
    "anchor": "datetime",
    "users": ("list", "users"),
    "customers": ("list", "customers"),
    "categories": ("list", "categories"),
    "projects": ("list", "projects"),
    "offerings": ("list", "offerings"),
    "resources": ("list", "resources"),
    "orders": ("list", "orders"),
}
KEY_FIELD = {"users": "username"}  # the field naming an entry; "key" for the others


@dataclass
class FixtureDoc:
    """The validated file: entries per kind, in file order, as dicts."""

    path: str
    anchor: datetime | None
    entries: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def load_fixtures(path: str | Path) -> FixtureDoc:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise FixtureError(f"{path}: cannot read the fixture file: {exc.strerror}") from exc
    return validate_fixtures(_parse_yaml(text, path), str(path))


def _parse_yaml(text: str, path: Path) -> Any:
    """yaml.safe_load, parsed by libyaml when PyYAML has it (6x faster: ~35 ms of every cold
    start). Same constructor, so the same values; a document libyaml refuses is parsed again
    by the pure-Python parser, whose verdict (and error message) is the reference."""
    fast_loader = getattr(yaml, "CSafeLoader", None)
    if fast_loader is not None:
        try:
            return yaml.load(text, Loader=fast_loader)  # CSafeLoader: a safe loader
        except yaml.YAMLError:
            pass
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise FixtureError(f"{path}: not valid YAML: {exc}") from exc


def validate_fixtures(data: Any, path: str = "<fixtures>") -> FixtureDoc:
    return _Validator(path).run(data)


# ---------------------------------------------------------------------------------------------
class _Validator:
    def __init__(self, path: str) -> None:
        self.path = path

    def fail(self, where: str, problem: str) -> FixtureError:
        return FixtureError(f"{self.path}: {where}: {problem}")

    def run(self, data: Any) -> FixtureDoc:
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise self.fail("top level", f"expected a mapping, got {_tname(data)}")
        for key in data:
            if key not in TOP_LEVEL:
                raise self.fail("top level", f"unknown key {key!r} (known: {', '.join(TOP_LEVEL)})")
        anchor = None
        if data.get("anchor") is not None:
            anchor = self.check_value("anchor", "anchor", "datetime", data["anchor"], {})
        if "version" in data and data["version"] != 1:
            raise self.fail("version", f"unsupported version {data['version']!r} (expected 1)")
        doc = FixtureDoc(path=self.path, anchor=anchor)
        # Two passes: collect names (for references), then check every entry.
        order = ("customers", "categories", "projects", "offerings", "resources", "users", "orders")
        names: dict[str, dict[str, dict[str, Any]]] = {}
        raw: dict[str, list[Any]] = {}
        for kind in order:
            items = data.get(kind) or []
            if not isinstance(items, list):
                raise self.fail(kind, f"expected a list, got {_tname(items)}")
            raw[kind] = items
            names[kind] = {}
            for i, item in enumerate(items):
                where = f"{kind}[{i}]"
                if not isinstance(item, dict):
                    raise self.fail(where, f"expected a mapping, got {_tname(item)}")
                key_field = KEY_FIELD.get(kind, "key")
                key = item.get(key_field)
                if key is None:
                    raise self.fail(where, f"missing required key {key_field!r}")
                if not isinstance(key, str) or not key:
                    raise self.fail(where, f"{key_field!r} must be a non-empty string")
                if key in names[kind]:
                    raise self.fail(f"{kind}[{key}]", f"duplicate {key_field} {key!r}")
                names[kind][key] = item
        for kind in order:
            doc.entries[kind] = [
                self.check_entry(kind, f"{kind}[{item[KEY_FIELD.get(kind, 'key')]}]", item, names)
                for item in raw[kind]
            ]
        self.check_unique(doc)
        return doc

    def check_entry(
        self, schema: str, where: str, item: Any, names: dict[str, dict[str, dict[str, Any]]],
        context: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        if not isinstance(item, dict):
            raise self.fail(where, f"expected a mapping, got {_tname(item)}")
        fields = {name: (ftype, req) for name, ftype, req in SCHEMA[schema]}
        for key in item:
            if key not in fields:
                raise self.fail(where, f"unknown key {key!r} (known: {', '.join(fields)})")
        out: dict[str, Any] = {}
        ctx = dict(context or {}, entry=item)
        for name, (ftype, required) in fields.items():
            if name not in item:
                if required:
                    raise self.fail(where, f"missing required key {name!r}")
                continue
            out[name] = self.check_value(f"{where}.{name}", name, ftype, item[name], names, ctx)
        if schema == "roles":
            scopes = [k for k in SCOPE_KINDS if k in item]
            if len(scopes) != 1:
                raise self.fail(where, f"a role needs exactly one scope key of {SCOPE_KINDS}")
            expected = ROLE_SCOPES[item["role"]]
            if scopes[0] != expected:
                raise self.fail(where, f"role {item['role']} takes a {expected!r} scope, "
                                       f"not {scopes[0]!r}")
            if expected == "service_provider":
                customer = names["customers"][item["service_provider"]]
                if not customer.get("service_provider", False):
                    raise self.fail(where, f"customer {item['service_provider']!r} is not a "
                                           "service provider")
        if schema == "resources" or schema == "orders":
            self.check_same_world(where, item, names)
        return out

    def check_same_world(self, where: str, item: dict[str, Any], names: dict) -> None:
        if res_key := item.get("resource"):
            res = names["resources"][res_key]
            if res.get("offering") != item["offering"] or res.get("project") != item["project"]:
                raise self.fail(where, f"resource {res_key!r} belongs to another offering or "
                                       "project")

    def check_value(
        self, where: str, name: str, ftype: Any, value: Any,
        names: dict[str, dict[str, dict[str, Any]]], ctx: dict[str, Any] | None = None,
    ) -> Any:
        check = _SIMPLE.get(ftype) if isinstance(ftype, str) else None
        if check is not None:
            ok, converted, expected = check(value)
            if not ok:
                raise self.fail(where, f"wrong type: expected {expected}, got {_tname(value)} "
                                       f"{value!r}")
            return converted
        if ftype == "plan":
            offering_key = (ctx or {}).get("entry", {}).get("offering")
            offering = names["offerings"].get(offering_key, {})
            plans = [p.get("key") for p in offering.get("plans") or [] if isinstance(p, dict)]
            if value not in plans:
                raise self.fail(where, f"unknown reference: offering {offering_key!r} has no plan "
                                       f"{value!r}")
            return value
        kind, arg = ftype
        if kind == "enum":
            if value not in arg:
                raise self.fail(where, f"invalid value {value!r} (one of: {', '.join(arg)})")
            return value
        if kind == "ref":
            if not isinstance(value, str):
                raise self.fail(where, f"wrong type: expected a {arg} key, got {_tname(value)}")
            if value not in names.get(arg, {}):
                raise self.fail(where, f"unknown reference: no {arg} entry {value!r}")
            return value
        if kind == "list":
            if not isinstance(value, list):
                raise self.fail(where, f"wrong type: expected a list, got {_tname(value)}")
            out = []
            for i, sub in enumerate(value):
                label = sub.get("key") if isinstance(sub, dict) and "key" in sub else i
                out.append(self.check_entry(arg, f"{where}[{label}]", sub, names, ctx))
            if arg == "plans":
                self.check_prices(where, out, ctx)
            return out
        raise AssertionError(ftype)  # pragma: no cover

    def check_prices(self, where: str, plans: list[dict[str, Any]], ctx: Any) -> None:
        entry = (ctx or {}).get("entry", {})
        comps = {c.get("type") for c in entry.get("components") or [] if isinstance(c, dict)}
        seen: set[str] = set()
        for plan in plans:
            label = f"{where}[{plan['key']}]"
            if plan["key"] in seen:
                raise self.fail(label, f"duplicate key {plan['key']!r}")
            seen.add(plan["key"])
            for comp, price in (plan.get("prices") or {}).items():
                if comp not in comps:
                    raise self.fail(f"{label}.prices", f"unknown reference: no component {comp!r}")
                ok, _, expected = _decimal(price)
                if not ok:
                    raise self.fail(f"{label}.prices.{comp}", f"wrong type: expected {expected}, "
                                                              f"got {_tname(price)} {price!r}")

    def check_unique(self, doc: FixtureDoc) -> None:
        tokens: dict[str, str] = {}
        for user in doc.entries["users"]:
            where = f"users[{user['username']}]"
            if user["token"] in tokens:
                other = tokens[user["token"]]
                raise self.fail(where, f"duplicate token (already used by users[{other}])")
            tokens[user["token"]] = user["username"]
        uuids: dict[str, str] = {}
        for kind, items in doc.entries.items():
            for item in items:
                if "uuid" in item:
                    where = f"{kind}[{item[KEY_FIELD.get(kind, 'key')]}]"
                    if item["uuid"] in uuids:
                        other = uuids[item["uuid"]]
                        raise self.fail(where, f"duplicate uuid {item['uuid']} (also {other})")
                    uuids[item["uuid"]] = where


def _tname(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _str(v: Any) -> tuple[bool, Any, str]:
    return isinstance(v, str), v, "a string"


def _str_or_null(v: Any) -> tuple[bool, Any, str]:
    return v is None or isinstance(v, str), v, "a string or null"


def _bool(v: Any) -> tuple[bool, Any, str]:
    return isinstance(v, bool), v, "a boolean"


def _int(v: Any) -> tuple[bool, Any, str]:
    return isinstance(v, int) and not isinstance(v, bool), v, "an integer"


def _dict(v: Any) -> tuple[bool, Any, str]:
    return isinstance(v, dict), v, "a mapping"


def _date_or_null(v: Any) -> tuple[bool, Any, str]:
    if v is None or (isinstance(v, date) and not isinstance(v, datetime)):
        return True, v, ""
    if isinstance(v, str):
        try:
            return True, date.fromisoformat(v), ""
        except ValueError:
            pass
    return False, v, "a date YYYY-MM-DD or null"


def _datetime(v: Any) -> tuple[bool, Any, str]:
    from mockserver.world.clock import parse_instant

    if isinstance(v, datetime):
        return True, parse_instant(v.isoformat()), ""
    if isinstance(v, str):
        try:
            return True, parse_instant(v), ""
        except ValueError:
            pass
    return False, v, "an ISO 8601 date-time"


def _uuid(v: Any) -> tuple[bool, Any, str]:
    if isinstance(v, str):
        try:
            return True, uuid_mod.UUID(v).hex, ""
        except ValueError:
            pass
    return False, v, "a uuid (32 hex digits, dashes allowed)"


def _token(v: Any) -> tuple[bool, Any, str]:
    return isinstance(v, str) and bool(TOKEN_RE.match(v)), v, "40 lowercase hex digits"


def _decimal(v: Any) -> tuple[bool, Any, str]:
    if isinstance(v, str | int) and not isinstance(v, bool):
        try:
            return True, Decimal(str(v)), ""
        except InvalidOperation:
            pass
    return False, v, "a decimal string such as \"0.5000\""


_SIMPLE: dict[str, Callable[[Any], tuple[bool, Any, str]]] = {
    "str": _str, "str?": _str_or_null, "bool": _bool, "int": _int, "dict": _dict,
    "date?": _date_or_null, "datetime": _datetime, "uuid": _uuid, "token": _token,
    "decimal": _decimal,
}
