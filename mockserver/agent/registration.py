"""Agent identities, their services and the services' processors (registration)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mockserver.agent.common import (
    NO_IDENTITY,
    NO_PROCESSOR,
    NO_SERVICE,
    REQUIRED,
    body_dict,
    created_at,
    datetime_field,
    manages,
    new_uuid,
    offering_by_uuid,
    raise_errors,
    require_manage,
    sees,
    string_field,
)
from mockserver.agent.entities import AgentIdentity, AgentProcessor, AgentService
from mockserver.orders.entities import Offering, User
from mockserver.orders.exceptions import NotFound, PermissionDenied, ValidationError
from mockserver.orders.filters import parse_uuid

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
    body = body_dict(data)
    errors: dict[str, list[str]] = {}
    offering = None
    if "offering" not in body:
        errors["offering"] = [REQUIRED]
    else:
        offering = offering_by_uuid(backend, body["offering"])
        if offering is None:
            errors["offering"] = [f'“{body["offering"]}” is not a valid UUID.'
                                  if parse_uuid(str(body["offering"])) is None
                                  else "Object with uuid={} does not exist.".format(
                                      body["offering"])]
        elif not manages(backend, user, offering):
            raise PermissionDenied()  # 403 before the body's other errors (DRF's order)
    name = string_field(body, "name", errors, required=True, blank=False, max_length=255)
    fields: dict[str, Any] = {"name": name}
    for key in ("version", "config_file_path", "config_file_content"):
        fields[key] = string_field(body, key, errors, nullable=True)
    deps = body.get("dependencies", [])
    if deps is None or not isinstance(deps, list) or not all(
            isinstance(d, dict) and isinstance(d.get("package"), str)
            and isinstance(d.get("version"), str) for d in deps):
        errors["dependencies"] = ["Each dependency needs `package` and `version` strings."]
    else:
        fields["dependencies"] = [{"package": d["package"], "version": d["version"]}
                                  for d in deps]
    fields["last_restarted"] = datetime_field(body, "last_restarted", errors)
    raise_errors(errors)
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
        created = created_at(backend, uuid_hex)
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
        require_manage(backend, user, backend.offerings[identity.offering_uuid])
        body = body_dict(data)
        errors: dict[str, list[str]] = {}
        name = string_field(body, "name", errors, required=True, blank=False, max_length=255)
        mode = string_field(body, "mode", errors, nullable=True)
        raise_errors(errors)
        assert name is not None
        service = next((s for s in identity_services(backend, identity) if s.name == name), None)
        if service is not None:
            service.mode = mode
            service.state = "Active"
            service.modified = backend.clock.next_change(service.modified)
            return service, False
        uuid_hex = new_uuid("agent-service", identity.uuid, name)
        created = created_at(backend, uuid_hex)
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
        require_manage(backend, user, backend.offerings[identity.offering_uuid])
        body = body_dict(data)
        errors: dict[str, list[str]] = {}
        name = string_field(body, "name", errors, required=True, blank=False, max_length=255)
        backend_type = string_field(body, "backend_type", errors, required=True, blank=False,
                               max_length=255)
        version = string_field(body, "backend_version", errors, nullable=True)
        raise_errors(errors)
        assert name is not None and backend_type is not None
        processor = next((p for p in service_processors(backend, service) if p.name == name),
                         None)
        if processor is not None:
            processor.backend_type = backend_type
            processor.backend_version = version
            processor.modified = backend.clock.next_change(processor.modified)
            return processor, False
        uuid_hex = new_uuid("agent-processor", service.uuid, name)
        created = created_at(backend, uuid_hex)
        processor = AgentProcessor(uuid=uuid_hex, service_uuid=service.uuid, name=name,
                                   backend_type=backend_type, created=created, modified=created,
                                   backend_version=version)
        backend.world.agent_processors.append(processor)
        return processor, True
