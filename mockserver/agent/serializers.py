"""The site agent's records -> wire dicts, keys in the order of the contract's schema
(openapi/site-agent.yaml) and restricted to a sparse fieldset when one is asked for."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from mockserver import spec
from mockserver.agent import models
from mockserver.agent.entities import (
    AgentIdentity,
    AgentProcessor,
    AgentService,
    ComponentUsage,
    ComponentUserUsage,
    OfferingUser,
)
from mockserver.orders.entities import Offering, User
from mockserver.rendering import render
from mockserver.world.clock import format_instant

DEFAULT_EXPOSED_FIELDS = ("username", "full_name", "email")
NO_VERSION_CHECK = "The stub does not check agent versions."


def shaped(schema_name: str, values: dict[str, Any], fields: Iterable[str] | None = None
           ) -> dict[str, Any]:
    """`values` in the schema's property order, restricted to `fields` (mockserver.rendering)."""
    return render(schema_name, values, fields)


def hexid(hex_: str) -> str:
    """Waldur renders uuids as 32 hex digits (the client parses both forms)."""
    return hex_


def _dt(value: Any) -> str | None:
    return format_instant(value) if value is not None else None


def _amount(text: str) -> float | int:
    value = Decimal(text)
    return int(value) if value == value.to_integral_value() else float(value)


class Urls:
    def __init__(self, base: str) -> None:
        self.base = base

    def of(self, collection: str, uuid: str) -> str:
        return f"{self.base}/api/{collection}/{uuid}/"


def render_identity(backend: Any, identity: AgentIdentity, base: str,
                    fields: Iterable[str] | None = None) -> dict[str, Any]:
    urls = Urls(base)
    services = [shaped("NestedAgentService", {
        "uuid": hexid(s.uuid), "url": urls.of("marketplace-site-agent-services", s.uuid),
        "name": s.name, "state": s.state, "created": _dt(s.created), "modified": _dt(s.modified),
        "mode": s.mode}) for s in models.identity_services(backend, identity)]
    return shaped("AgentIdentity", {
        "uuid": hexid(identity.uuid),
        "url": urls.of("marketplace-site-agent-identities", identity.uuid),
        "offering": hexid(identity.offering_uuid),
        "created_by": hexid(identity.created_by_uuid) if identity.created_by_uuid else None,
        "name": identity.name, "created": _dt(identity.created),
        "modified": _dt(identity.modified), "services": services,
        "compatibility": {"status": "unknown", "message": NO_VERSION_CHECK},
        "version": identity.version, "dependencies": [dict(d) for d in identity.dependencies],
        "config_file_path": identity.config_file_path,
        "config_file_content": identity.config_file_content,
        "last_restarted": _dt(identity.last_restarted),
    }, fields)


def _processor_values(p: AgentProcessor, urls: Urls) -> dict[str, Any]:
    return {"uuid": hexid(p.uuid), "url": urls.of("marketplace-site-agent-processors", p.uuid),
            "name": p.name, "backend_type": p.backend_type, "created": _dt(p.created),
            "modified": _dt(p.modified), "last_run": _dt(p.last_run),
            "backend_version": p.backend_version}


def render_service(backend: Any, service: AgentService, base: str) -> dict[str, Any]:
    urls = Urls(base)
    identity = models.service_identity(backend, service)
    processors = [shaped("NestedAgentProcessor", _processor_values(p, urls))
                  for p in models.service_processors(backend, service)]
    return shaped("AgentService", {
        "uuid": hexid(service.uuid),
        "url": urls.of("marketplace-site-agent-services", service.uuid),
        "identity": hexid(identity.uuid), "identity_name": identity.name, "name": service.name,
        "state": service.state, "created": _dt(service.created),
        "modified": _dt(service.modified), "processors": processors, "mode": service.mode,
    })


def render_processor(backend: Any, processor: AgentProcessor, base: str) -> dict[str, Any]:
    service = next(s for s in backend.world.agent_services if s.uuid == processor.service_uuid)
    values = _processor_values(processor, Urls(base))
    values.update({"service": hexid(service.uuid), "service_name": service.name})
    return shaped("AgentProcessor", values)


def render_team_member(member: User, role: str, offering_user: OfferingUser | None,
                       base: str) -> dict[str, Any]:
    return shaped("ProjectUser", {
        "url": Urls(base).of("users", member.uuid), "uuid": hexid(member.uuid),
        "username": member.username, "full_name": member.full_name, "role": role,
        "expiration_time": None,
        "offering_user_username": offering_user.username if offering_user else None,
        "offering_user_state": offering_user.state if offering_user else None,
        "email": member.email,
    })


def render_offering_user(backend: Any, ou: OfferingUser, base: str,
                         fields: Iterable[str] | None = None) -> dict[str, Any]:
    urls = Urls(base)
    offering = backend.offerings[ou.offering_uuid]
    member = backend.users[ou.user_uuid]
    return shaped("OfferingUser", {
        "url": urls.of("marketplace-offering-users", ou.uuid), "uuid": hexid(ou.uuid),
        # no `user` (the profile URL): the provider side may not see /api/users/<uuid>/; the
        # agent reads user_uuid and user_username
        "offering": urls.of("marketplace-public-offerings", offering.uuid),
        "username": ou.username, "offering_uuid": hexid(offering.uuid),
        "offering_name": offering.name, "user_uuid": hexid(member.uuid),
        "user_username": member.username, "user_full_name": member.full_name,
        "user_email": member.email, "created": _dt(ou.created), "modified": _dt(ou.modified),
        "customer_uuid": hexid(offering.customer.uuid), "customer_name": offering.customer.name,
        "is_restricted": ou.is_restricted, "state": ou.state,
    }, fields)


def render_attribute_config(offering: Offering) -> dict[str, Any]:
    values: dict[str, Any] = {
        "uuid": hexid(models.new_uuid("attribute-config", offering.uuid)),
        "created": _dt(offering.created), "modified": _dt(offering.created),
        "exposed_fields": list(DEFAULT_EXPOSED_FIELDS), "is_default": True,
        "offering_uuid": hexid(offering.uuid), "offering_name": offering.name,
    }
    for name in spec.schema_properties("OfferingUserAttributeConfig"):
        if name.startswith("expose_"):
            values[name] = name[len("expose_"):] in DEFAULT_EXPOSED_FIELDS
    return shaped("OfferingUserAttributeConfig", values)


def _resource_values(backend: Any, resource_uuid: str) -> dict[str, Any]:
    resource = backend.resources[resource_uuid]
    offering, project = resource.offering, resource.project
    return {"resource_name": resource.name, "resource_uuid": hexid(resource.uuid),
            "offering_name": offering.name, "offering_uuid": hexid(offering.uuid),
            "project_name": project.name, "project_uuid": hexid(project.uuid),
            "customer_name": project.customer.name,
            "customer_uuid": hexid(project.customer.uuid)}


def render_usage(backend: Any, usage: ComponentUsage, fields: Iterable[str] | None = None
                 ) -> dict[str, Any]:
    resource = backend.resources[usage.resource_uuid]
    component = next((c for c in resource.offering.components if c.type == usage.type), None)
    return shaped("ComponentUsage", {
        "uuid": hexid(usage.uuid), "created": _dt(usage.created),
        "description": usage.description, "type": usage.type,
        "name": component.name if component else usage.type,
        "measured_unit": component.measured_unit if component else "",
        "usage": _amount(usage.usage), "date": _dt(usage.date), "recurring": False,
        **_resource_values(backend, usage.resource_uuid),
        "billing_period": usage.billing_period.isoformat(), "modified_by": None,
    }, fields)


def render_user_usage(backend: Any, item: ComponentUserUsage, usage: ComponentUsage, base: str,
                      fields: Iterable[str] | None = None) -> dict[str, Any]:
    urls = Urls(base)
    resource = backend.resources[usage.resource_uuid]
    component = next((c for c in resource.offering.components if c.type == usage.type), None)
    return shaped("ComponentUserUsage", {
        "uuid": hexid(item.uuid),
        "user": (urls.of("marketplace-offering-users", item.offering_user_uuid)
                 if item.offering_user_uuid else None),
        "username": item.username,
        "component_usage": urls.of("marketplace-component-usages", usage.uuid),
        "usage": _amount(item.usage),
        "measured_unit": component.measured_unit if component else "",
        "description": "", "created": _dt(item.created), "modified": _dt(item.modified),
        "backend_id": resource.backend_id, **_resource_values(backend, usage.resource_uuid),
        "component_type": usage.type, "date": _dt(item.date),
        "billing_period": usage.billing_period.isoformat(),
    }, fields)
