"""Provider resources as the agent writes them (backend id, limits, metadata, state, last
sync), their teams, offering users and the offering reads of the agent."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mockserver.agent.common import (
    NO_OFFERING,
    NO_OFFERING_USER,
    NO_RESOURCE,
    REQUIRED,
    body_dict,
    new_uuid,
    offering_by_uuid,
    raise_errors,
    require_manage,
    required_dict,
    sees,
    string_field,
)
from mockserver.agent.entities import OfferingUser
from mockserver.orders.entities import Offering, Project, Resource, User
from mockserver.orders.exceptions import NotFound, ValidationError
from mockserver.orders.filters import parse_uuid

# ---------------------------------------------------------------------------------------------
# Provider resources: the agent's actions


def provider_resource(backend: Any, user: User, uuid: str) -> Resource:
    """A resource of an offering the user sees from the provider side (hex or dashed uuid)."""
    hex_ = parse_uuid(uuid) if isinstance(uuid, str) else None
    resource = backend.resources.get(hex_) if hex_ else None
    if resource is None or not sees(backend, user, resource.offering):
        raise NotFound(NO_RESOURCE)
    return resource


def touch_resource(backend: Any, resource: Resource) -> None:
    previous = resource.modified or resource.created or backend.clock.anchor
    resource.modified = backend.clock.next_change(previous)
    # the orders that show this resource render its state/backend id: drop their cache entries
    # (found through the index's table per resource, not a scan of every order: ~0.25 ms per
    # call at 10k orders, on each of the agent's resource writes)
    index = backend.index
    for uuid in index.ids("resource", (resource.uuid,)):
        index.orders[uuid].rev += 1


def managed_resource(backend: Any, user: User, uuid: str) -> Resource:
    resource = provider_resource(backend, user, uuid)
    require_manage(backend, user, resource.offering)
    return resource


def set_backend_id(backend: Any, user: User, uuid: str, data: Any) -> dict[str, str]:
    with backend.lock:
        resource = managed_resource(backend, user, uuid)
        body = body_dict(data)
        errors: dict[str, list[str]] = {}
        value = string_field(body, "backend_id", errors, max_length=255)
        raise_errors(errors)
        value = value or ""
        if value == resource.backend_id:
            return {"status": "Resource backend_id is not changed."}
        resource.backend_id = value
        touch_resource(backend, resource)
        return {"status": "Resource backend_id has been changed."}


def set_limits(backend: Any, user: User, uuid: str, data: Any) -> dict[str, str]:
    """`limits`: component type -> non-negative integer, for the offering's components."""
    with backend.lock:
        resource = managed_resource(backend, user, uuid)
        body = body_dict(data)
        limits = required_dict(body, "limits", 'Expected a dictionary of items but got type '
                               f'"{type(body.get("limits")).__name__}".')
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
        touch_resource(backend, resource)
        return {"status": "Resource limits have been set."}


def set_backend_metadata(backend: Any, user: User, uuid: str, data: Any) -> dict[str, str]:
    with backend.lock:
        resource = managed_resource(backend, user, uuid)
        metadata = required_dict(body_dict(data), "backend_metadata",
                                 "Value must be valid JSON object.")
        resource.backend_metadata = dict(metadata)
        touch_resource(backend, resource)
        return {"status": "Resource backend_metadata has been changed."}


def refresh_last_sync(backend: Any, user: User, uuid: str) -> dict[str, str]:
    with backend.lock:
        resource = managed_resource(backend, user, uuid)
        touch_resource(backend, resource)
        resource.last_sync = resource.modified
        return {"status": "Last sync has been refreshed."}


def set_as_ok(backend: Any, user: User, uuid: str) -> dict[str, str]:
    with backend.lock:
        resource = managed_resource(backend, user, uuid)
        resource.state = "OK"
        resource.error_message = ""
        resource.error_traceback = ""
        touch_resource(backend, resource)
        return {"status": "Resource state has been changed to OK."}


def set_as_erred(backend: Any, user: User, uuid: str, data: Any) -> dict[str, str]:
    with backend.lock:
        resource = managed_resource(backend, user, uuid)
        body = body_dict(data)
        errors: dict[str, list[str]] = {}
        message = string_field(body, "error_message", errors) or ""
        traceback = string_field(body, "error_traceback", errors) or ""
        raise_errors(errors)
        resource.state = "Erred"
        resource.error_message = message
        resource.error_traceback = traceback
        touch_resource(backend, resource)
        return {"status": "Resource state has been changed to Erred."}


def set_membership_sync_statuses(backend: Any, user: User, uuid: str, data: Any
                                 ) -> dict[str, Any]:
    """Accepted and counted, not stored (no reader in the stub)."""
    with backend.lock:
        managed_resource(backend, user, uuid)
        body = body_dict(data)
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
    offering = offering_by_uuid(backend, uuid)
    if offering is None or not sees(backend, user, offering):
        raise NotFound(NO_OFFERING)
    return offering
