"""Rules of the site agent's area, without HTTP: who may see and write what, the bodies' field
errors, and the state changes (agent registration, provider-resource actions, usages, offering
users). Every function takes the session's backend (OrdersBackend: world, lock, clock) and the
acting User first and raises mockserver.orders.exceptions.ApiError subclasses.

Identifiers of new records are uuid5 of what makes them unique (e.g. the identity of an
offering's agent by name), so a replayed registration or usage report updates the same record
(the real server's get-or-create / upsert) and the same requests give the same uuids.
"""

from __future__ import annotations

import uuid as uuid_mod
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from mockserver.agent.entities import (
    AgentIdentity,
    AgentProcessor,
    AgentService,
    ComponentUsage,
    ComponentUserUsage,
    OfferingUser,
)
from mockserver.orders.entities import Offering, Project, Resource, User
from mockserver.orders.exceptions import NotFound, PermissionDenied, ValidationError, detail
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


def _require_manage(backend: Any, user: User, offering: Offering) -> None:
    if not manages(backend, user, offering):
        raise PermissionDenied()


# ---------------------------------------------------------------------------------------------
# Body helpers (DRF texts)


def _body(data: Any) -> dict[str, Any]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValidationError({"non_field_errors": [
            f"Invalid data. Expected a dictionary, but got {type(data).__name__}."]})
    return data


def _string(data: dict[str, Any], name: str, errors: dict[str, list[str]], *,
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


def _datetime(data: dict[str, Any], name: str, errors: dict[str, list[str]]) -> datetime | None:
    value = data.get(name)
    if value is None:
        return None
    try:
        return parse_instant(str(value))
    except ValueError:
        errors[name] = ["Datetime has wrong format. Use one of these formats instead: "
                        "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."]
        return None


def _decimal(value: Any) -> str | None:
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


def _number(amount: str) -> int | float:
    value = Decimal(amount)
    return int(value) if value == value.to_integral_value() else float(value)


def _raise(errors: Mapping[str, Any]) -> None:
    if errors:
        raise ValidationError(dict(errors))


def _offering_by_uuid(backend: Any, value: Any) -> Offering | None:
    hex_ = parse_uuid(value) if isinstance(value, str) else None
    return backend.offerings.get(hex_) if hex_ else None


def _now(backend: Any, uuid_hex: str) -> datetime:
    """A new record's creation instant: derived from its uuid (world/clock.py)."""
    return backend.clock.created_for(uuid_hex)


# ---------------------------------------------------------------------------------------------
# Agent identities, services, processors


def list_identities(backend: Any, user: User, query: Mapping[str, list[str]]
                    ) -> list[AgentIdentity]:
    names = query.get("name")
    offering_uuids = {parse_uuid(v) for v in query.get("offering_uuid", ())}
    out = []
    for identity in backend.world.agent_identities:
        offering = backend.offerings.get(identity.offering_uuid)
        if offering is None or not sees(backend, user, offering):
            continue
        if names and identity.name != names[-1]:
            continue
        if offering_uuids and identity.offering_uuid not in offering_uuids:
            continue
        out.append(identity)
    return sorted(out, key=lambda i: (i.created, i.uuid), reverse=True)


def get_identity(backend: Any, user: User, uuid: str) -> AgentIdentity:
    hex_ = parse_uuid(uuid) if isinstance(uuid, str) else None
    identity = next((i for i in backend.world.agent_identities if i.uuid == hex_), None)
    if identity is None:
        raise NotFound(NO_IDENTITY)
    offering = backend.offerings.get(identity.offering_uuid)
    if offering is None or not sees(backend, user, offering):
        raise NotFound(NO_IDENTITY)
    return identity


def _identity_fields(backend: Any, user: User, data: Any) -> tuple[Offering, dict[str, Any]]:
    body = _body(data)
    errors: dict[str, list[str]] = {}
    offering = None
    if "offering" not in body:
        errors["offering"] = [REQUIRED]
    else:
        offering = _offering_by_uuid(backend, body["offering"])
        if offering is None:
            errors["offering"] = [f'“{body["offering"]}” is not a valid UUID.'
                                  if parse_uuid(str(body["offering"])) is None
                                  else "Object with uuid={} does not exist.".format(
                                      body["offering"])]
        elif not manages(backend, user, offering):
            raise PermissionDenied()  # 403 before the body's other errors (DRF's order)
    name = _string(body, "name", errors, required=True, blank=False, max_length=255)
    fields: dict[str, Any] = {"name": name}
    for key in ("version", "config_file_path", "config_file_content"):
        fields[key] = _string(body, key, errors, nullable=True)
    deps = body.get("dependencies", [])
    if deps is None or not isinstance(deps, list) or not all(
            isinstance(d, dict) and isinstance(d.get("package"), str)
            and isinstance(d.get("version"), str) for d in deps):
        errors["dependencies"] = ["Each dependency needs `package` and `version` strings."]
    else:
        fields["dependencies"] = [{"package": d["package"], "version": d["version"]}
                                  for d in deps]
    fields["last_restarted"] = _datetime(body, "last_restarted", errors)
    _raise(errors)
    assert offering is not None
    return offering, fields


def create_identity(backend: Any, user: User, data: Any) -> AgentIdentity:
    with backend.lock:
        offering, fields = _identity_fields(backend, user, data)
        if any(i.offering_uuid == offering.uuid and i.name == fields["name"]
               for i in backend.world.agent_identities):
            raise ValidationError({"non_field_errors": [
                "The fields offering, name must make a unique set."]})
        uuid_hex = new_uuid("agent-identity", offering.uuid, fields["name"])
        created = _now(backend, uuid_hex)
        identity = AgentIdentity(uuid=uuid_hex, offering_uuid=offering.uuid,
                                 name=fields["name"], created=created, modified=created,
                                 created_by_uuid=user.uuid)
        _apply_identity(identity, fields)
        backend.world.agent_identities.append(identity)
        return identity


def update_identity(backend: Any, user: User, uuid: str, data: Any) -> AgentIdentity:
    with backend.lock:
        identity = get_identity(backend, user, uuid)
        offering, fields = _identity_fields(backend, user, data)
        clash = any(i is not identity and i.offering_uuid == offering.uuid
                    and i.name == fields["name"] for i in backend.world.agent_identities)
        if clash:
            raise ValidationError({"non_field_errors": [
                "The fields offering, name must make a unique set."]})
        identity.offering_uuid = offering.uuid
        identity.name = fields["name"]
        _apply_identity(identity, fields)
        identity.modified = backend.clock.next_change(identity.modified)
        return identity


def _apply_identity(identity: AgentIdentity, fields: dict[str, Any]) -> None:
    for key in ("version", "config_file_path", "config_file_content", "last_restarted"):
        setattr(identity, key, fields.get(key))
    identity.dependencies = fields.get("dependencies", [])


def identity_services(backend: Any, identity: AgentIdentity) -> list[AgentService]:
    return [s for s in backend.world.agent_services if s.identity_uuid == identity.uuid]


def register_service(backend: Any, user: User, uuid: str, data: Any
                     ) -> tuple[AgentService, bool]:
    """Get-or-create the identity's service by name (True when created); `mode` updated."""
    with backend.lock:
        identity = get_identity(backend, user, uuid)
        _require_manage(backend, user, backend.offerings[identity.offering_uuid])
        body = _body(data)
        errors: dict[str, list[str]] = {}
        name = _string(body, "name", errors, required=True, blank=False, max_length=255)
        mode = _string(body, "mode", errors, nullable=True)
        _raise(errors)
        assert name is not None
        service = next((s for s in identity_services(backend, identity) if s.name == name), None)
        if service is not None:
            service.mode = mode
            service.state = "Active"
            service.modified = backend.clock.next_change(service.modified)
            return service, False
        uuid_hex = new_uuid("agent-service", identity.uuid, name)
        created = _now(backend, uuid_hex)
        service = AgentService(uuid=uuid_hex, identity_uuid=identity.uuid, name=name,
                               created=created, modified=created, mode=mode)
        backend.world.agent_services.append(service)
        return service, True


def get_service(backend: Any, user: User, uuid: str) -> AgentService:
    hex_ = parse_uuid(uuid) if isinstance(uuid, str) else None
    service = next((s for s in backend.world.agent_services if s.uuid == hex_), None)
    if service is None:
        raise NotFound(NO_SERVICE)
    identity = next((i for i in backend.world.agent_identities
                     if i.uuid == service.identity_uuid), None)
    offering = backend.offerings.get(identity.offering_uuid) if identity else None
    if offering is None or not sees(backend, user, offering):
        raise NotFound(NO_SERVICE)
    return service


def get_processor(backend: Any, user: User, uuid: str) -> AgentProcessor:
    hex_ = parse_uuid(uuid) if isinstance(uuid, str) else None
    processor = next((p for p in backend.world.agent_processors if p.uuid == hex_), None)
    if processor is None:
        raise NotFound(NO_PROCESSOR)
    try:
        get_service(backend, user, processor.service_uuid)
    except NotFound:
        raise NotFound(NO_PROCESSOR) from None
    return processor


def service_identity(backend: Any, service: AgentService) -> AgentIdentity:
    return next(i for i in backend.world.agent_identities if i.uuid == service.identity_uuid)


def service_processors(backend: Any, service: AgentService) -> list[AgentProcessor]:
    return [p for p in backend.world.agent_processors if p.service_uuid == service.uuid]


def register_processor(backend: Any, user: User, uuid: str, data: Any
                       ) -> tuple[AgentProcessor, bool]:
    with backend.lock:
        service = get_service(backend, user, uuid)
        identity = service_identity(backend, service)
        _require_manage(backend, user, backend.offerings[identity.offering_uuid])
        body = _body(data)
        errors: dict[str, list[str]] = {}
        name = _string(body, "name", errors, required=True, blank=False, max_length=255)
        backend_type = _string(body, "backend_type", errors, required=True, blank=False,
                               max_length=255)
        version = _string(body, "backend_version", errors, nullable=True)
        _raise(errors)
        assert name is not None and backend_type is not None
        processor = next((p for p in service_processors(backend, service) if p.name == name),
                         None)
        if processor is not None:
            processor.backend_type = backend_type
            processor.backend_version = version
            processor.modified = backend.clock.next_change(processor.modified)
            return processor, False
        uuid_hex = new_uuid("agent-processor", service.uuid, name)
        created = _now(backend, uuid_hex)
        processor = AgentProcessor(uuid=uuid_hex, service_uuid=service.uuid, name=name,
                                   backend_type=backend_type, created=created, modified=created,
                                   backend_version=version)
        backend.world.agent_processors.append(processor)
        return processor, True


# ---------------------------------------------------------------------------------------------
# Provider resources: the agent's actions


def provider_resource(backend: Any, user: User, uuid: str) -> Resource:
    """A resource of an offering the user sees from the provider side (hex or dashed uuid)."""
    hex_ = parse_uuid(uuid) if isinstance(uuid, str) else None
    resource = backend.resources.get(hex_) if hex_ else None
    if resource is None or not sees(backend, user, resource.offering):
        raise NotFound(NO_RESOURCE)
    return resource


def _touch_resource(backend: Any, resource: Resource) -> None:
    previous = resource.modified or resource.created or backend.clock.anchor
    resource.modified = backend.clock.next_change(previous)
    # the orders that show this resource render its state/backend id: drop their cache entries
    for order in backend.index.by_created:
        if order.resource is resource:
            order.rev += 1


def _managed_resource(backend: Any, user: User, uuid: str) -> Resource:
    resource = provider_resource(backend, user, uuid)
    _require_manage(backend, user, resource.offering)
    return resource


def set_backend_id(backend: Any, user: User, uuid: str, data: Any) -> dict[str, str]:
    with backend.lock:
        resource = _managed_resource(backend, user, uuid)
        body = _body(data)
        errors: dict[str, list[str]] = {}
        value = _string(body, "backend_id", errors, max_length=255)
        _raise(errors)
        value = value or ""
        if value == resource.backend_id:
            return {"status": "Resource backend_id is not changed."}
        resource.backend_id = value
        _touch_resource(backend, resource)
        return {"status": "Resource backend_id has been changed."}


def set_limits(backend: Any, user: User, uuid: str, data: Any) -> dict[str, str]:
    """`limits`: component type -> non-negative integer, for the offering's components."""
    with backend.lock:
        resource = _managed_resource(backend, user, uuid)
        body = _body(data)
        limits = body.get("limits")
        if "limits" not in body:
            raise ValidationError({"limits": [REQUIRED]})
        if not isinstance(limits, dict):
            raise ValidationError({"limits": [
                f'Expected a dictionary of items but got type "{type(limits).__name__}".']})
        known = {c.type for c in resource.offering.components}
        errors = []
        clean: dict[str, int] = {}
        for key, value in limits.items():
            if key not in known:
                errors.append(f"{key} is not a valid offering component.")
            elif isinstance(value, bool) or not isinstance(value, int | float) or value < 0 or (
                    isinstance(value, float) and not value.is_integer()):
                errors.append(f"{key} must be a non-negative integer.")
            else:
                clean[key] = int(value)
        if errors:
            raise ValidationError({"limits": errors})
        resource.limits = {**resource.limits, **clean}
        _touch_resource(backend, resource)
        return {"status": "Resource limits have been set."}


def set_backend_metadata(backend: Any, user: User, uuid: str, data: Any) -> dict[str, str]:
    with backend.lock:
        resource = _managed_resource(backend, user, uuid)
        body = _body(data)
        metadata = body.get("backend_metadata")
        if "backend_metadata" not in body:
            raise ValidationError({"backend_metadata": [REQUIRED]})
        if not isinstance(metadata, dict):
            raise ValidationError({"backend_metadata": ["Value must be valid JSON object."]})
        resource.backend_metadata = dict(metadata)
        _touch_resource(backend, resource)
        return {"status": "Resource backend_metadata has been changed."}


def refresh_last_sync(backend: Any, user: User, uuid: str) -> dict[str, str]:
    with backend.lock:
        resource = _managed_resource(backend, user, uuid)
        _touch_resource(backend, resource)
        resource.last_sync = resource.modified
        return {"status": "Last sync has been refreshed."}


def set_as_ok(backend: Any, user: User, uuid: str) -> dict[str, str]:
    with backend.lock:
        resource = _managed_resource(backend, user, uuid)
        resource.state = "OK"
        resource.error_message = ""
        resource.error_traceback = ""
        _touch_resource(backend, resource)
        return {"status": "Resource state has been changed to OK."}


def set_as_erred(backend: Any, user: User, uuid: str, data: Any) -> dict[str, str]:
    with backend.lock:
        resource = _managed_resource(backend, user, uuid)
        body = _body(data)
        errors: dict[str, list[str]] = {}
        message = _string(body, "error_message", errors) or ""
        traceback = _string(body, "error_traceback", errors) or ""
        _raise(errors)
        resource.state = "Erred"
        resource.error_message = message
        resource.error_traceback = traceback
        _touch_resource(backend, resource)
        return {"status": "Resource state has been changed to Erred."}


def set_membership_sync_statuses(backend: Any, user: User, uuid: str, data: Any
                                 ) -> dict[str, Any]:
    """Accepted and counted, not stored (no reader in the stub)."""
    with backend.lock:
        _managed_resource(backend, user, uuid)
        body = _body(data)
        statuses = body.get("statuses")
        if not isinstance(statuses, list):
            raise ValidationError({"statuses": [REQUIRED if "statuses" not in body
                                                else "Expected a list of items."]})
        return {"stored": len(statuses), "skipped": []}


def team(backend: Any, user: User, uuid: str) -> list[tuple[User, str, OfferingUser | None]]:
    """The resource's project team: (user, role name, the user's offering user or None)."""
    resource = provider_resource(backend, user, uuid)
    return project_team(backend, resource.project, resource.offering)


def project_team(backend: Any, project: Project, offering: Offering
                 ) -> list[tuple[User, str, OfferingUser | None]]:
    offering_users = {ou.user_uuid: ou for ou in backend.world.offering_users
                      if ou.offering_uuid == offering.uuid}
    members = []
    for grant in backend.world.grants:
        if grant.scope_kind == "project" and grant.scope_uuid == project.uuid:
            member = backend.users.get(grant.user_uuid)
            if member is not None and member.is_active:
                members.append((member, grant.role, offering_users.get(member.uuid)))
    return sorted(members, key=lambda m: m[0].username)


# ---------------------------------------------------------------------------------------------
# Offering users


def list_offering_users(backend: Any, user: User, query: Mapping[str, list[str]]
                        ) -> list[OfferingUser]:
    offering_uuids = {parse_uuid(v) for v in query.get("offering_uuid", ())}
    user_uuids = {parse_uuid(v) for v in query.get("user_uuid", ())}
    states = set(query.get("state", ()))
    restricted = query.get("is_restricted")
    want_restricted = None if not restricted else restricted[-1].lower() in ("true", "1")
    out = []
    for ou in backend.world.offering_users:
        offering = backend.offerings.get(ou.offering_uuid)
        member = backend.users.get(ou.user_uuid)
        if offering is None or member is None:
            continue
        if not (sees(backend, user, offering) or member is user):
            continue
        if offering_uuids and ou.offering_uuid not in offering_uuids:
            continue
        if user_uuids and ou.user_uuid not in user_uuids:
            continue
        if states and ou.state not in states:
            continue
        if want_restricted is not None and ou.is_restricted != want_restricted:
            continue
        out.append(ou)
    return sorted(out, key=lambda o: (o.created, o.uuid), reverse=True)


def get_offering_user(backend: Any, user: User, uuid: str) -> OfferingUser:
    hex_ = parse_uuid(uuid) if isinstance(uuid, str) else None
    found = next((ou for ou in list_offering_users(backend, user, {}) if ou.uuid == hex_), None)
    if found is None:
        raise NotFound(NO_OFFERING_USER)
    return found


def seed_offering_users(backend_world: Any) -> None:
    """Every member of a project that has a resource of a Marketplace.Slurm offering gets an
    offering user (state OK, username = their username), as Waldur's default username policy
    does once the resource exists. Called when a world is built (world/generate.py)."""
    world = backend_world
    seen = {(ou.offering_uuid, ou.user_uuid) for ou in world.offering_users}
    users = {u.uuid: u for u in world.users}
    pairs = sorted({(r.offering.uuid, r.project.uuid) for r in world.resources
                    if r.offering.type == "Marketplace.Slurm" and r.backend_id})
    for offering_uuid, project_uuid in pairs:
        for grant in sorted(world.grants, key=lambda g: (g.user_uuid, g.role)):
            member = users.get(grant.user_uuid)
            if (grant.scope_kind != "project" or grant.scope_uuid != project_uuid
                    or member is None or (offering_uuid, member.uuid) in seen):
                continue
            seen.add((offering_uuid, member.uuid))
            uuid_hex = new_uuid("offering-user", offering_uuid, member.uuid)
            created = world.anchor
            world.offering_users.append(OfferingUser(
                uuid=uuid_hex, offering_uuid=offering_uuid, user_uuid=member.uuid,
                created=created, modified=created, username=member.username))


# ---------------------------------------------------------------------------------------------
# Provider offerings: the agent's extra reads


def provider_offering(backend: Any, user: User, uuid: str) -> Offering:
    offering = _offering_by_uuid(backend, uuid)
    if offering is None or not sees(backend, user, offering):
        raise NotFound(NO_OFFERING)
    return offering


# ---------------------------------------------------------------------------------------------
# Component usages


def billing_period(when: datetime) -> date:
    return date(when.year, when.month, 1)


def set_usage(backend: Any, user: User, data: Any) -> list[ComponentUsage]:
    """Upsert one usage per (resource, component type, billing period of `date`)."""
    with backend.lock:
        body = _body(data)
        errors: dict[str, Any] = {}
        resource = None
        if "resource" not in body:
            errors["resource"] = [REQUIRED]
        else:
            hex_ = parse_uuid(body["resource"]) if isinstance(body["resource"], str) else None
            resource = backend.resources.get(hex_) if hex_ else None
            if resource is None or not _resource_visible(backend, user, resource):
                errors["resource"] = [f'Object with uuid={body["resource"]} does not exist.']
            else:
                _require_manage(backend, user, resource.offering)
        when = _datetime(body, "date", errors) or backend.clock.anchor
        usages = body.get("usages")
        if "usages" not in body:
            errors["usages"] = [REQUIRED]
        elif not isinstance(usages, list):
            errors["usages"] = ['Expected a list of items but got type '
                                f'"{type(usages).__name__}".']
        _raise(errors)
        assert resource is not None and isinstance(usages, list)
        components = {c.type: c for c in resource.offering.components}
        items: list[tuple[str, str, str]] = []
        item_errors: list[dict[str, list[str]]] = []
        for item in usages:
            err: dict[str, list[str]] = {}
            if not isinstance(item, dict):
                item_errors.append({"non_field_errors": ["Invalid data."]})
                continue
            ctype = _string(item, "type", err, required=True, blank=False)
            amount = _decimal(item.get("amount")) if "amount" in item else None
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
        resource.current_usages = {**resource.current_usages, ctype: _number(amount)}
        _touch_resource(backend, resource)
    for usage in backend.world.component_usages:
        if (usage.resource_uuid == resource.uuid and usage.type == ctype
                and usage.billing_period == period):
            usage.usage, usage.date, usage.description = amount, when, description
            usage.modified_by_uuid = user.uuid
            return usage
    uuid_hex = new_uuid("component-usage", resource.uuid, ctype, period.isoformat())
    usage = ComponentUsage(uuid=uuid_hex, resource_uuid=resource.uuid, type=ctype, usage=amount,
                           date=when, billing_period=period, created=_now(backend, uuid_hex),
                           description=description, modified_by_uuid=user.uuid)
    backend.world.component_usages.append(usage)
    return usage


def _resource_visible(backend: Any, user: User, resource: Resource) -> bool:
    """The provider side, or the consumer's project / customer (the consumer views)."""
    perms = backend.perms
    return (sees(backend, user, resource.offering)
            or perms.has(user.uuid, "ORDER.LIST", "project", resource.project.uuid)
            or perms.has(user.uuid, "ORDER.LIST", "customer", resource.project.customer.uuid))


def _usage_visible(backend: Any, user: User, usage: ComponentUsage) -> Resource | None:
    resource = backend.resources.get(usage.resource_uuid)
    if resource is None or not _resource_visible(backend, user, resource):
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
        _require_manage(backend, user, resource.offering)
        body = _body(data)
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
            username = _string(item, "username", err, required=True, blank=False)
            amount = _decimal(item.get("usage", "0"))
            if amount is None:
                err["usage"] = ["A valid number is required."]
            when = _datetime(item, "date", err) or usage.date
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
    created = _now(backend, uuid_hex)
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
