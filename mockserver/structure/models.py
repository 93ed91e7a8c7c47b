"""Who sees which organization, project and user; login; users/me permissions. No HTTP.

Every function reads the session's world through its backend (`current_backend()` in the
handlers): `backend.world.grants`, `backend.customers`, `backend.projects`, `backend.users`.
Visibility (waldur-behaviour.md §3, issue 10): staff and support see everything; other users see
the organizations where they hold a role (customer, service provider) or a project role, the
projects where they hold a role or whose organization they hold a customer role in, and the
users who share an organization with them (and themselves; inactive users only for staff and
support).
"""

from __future__ import annotations

import uuid as uuid_mod
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from mockserver.memo import memo
from mockserver.orders.entities import Customer, Grant, Project, User
from mockserver.orders.exceptions import ApiError, detail
from mockserver.orders.permissions import ROLE_PERMISSIONS, ROLE_SCOPES
from mockserver.world.generate import NAMESPACE

INVALID_CREDENTIALS = "Invalid username/password."
# Grant scope kind -> `scope_type` of a permission (waldur_api_client.models.RoleType values).
SCOPE_TYPES = ("customer", "project", "offering", "service_provider")


class LoginFailed(ApiError):
    """Waldur's ObtainAuthToken answers a failed login with 401 (no WWW-Authenticate)."""

    status = 401
    default_body = detail(INVALID_CREDENTIALS)


def _sees_all(user: User) -> bool:
    return user.is_staff or user.is_support


def grants_of(backend: Any, user: User) -> list[Grant]:
    return [g for g in backend.world.grants if g.user_uuid == user.uuid]


def customer_of_grant(backend: Any, grant: Grant) -> Customer | None:
    """The organization a role is held in (an offering's provider, a project's customer)."""
    kind, uuid = grant.scope_kind, grant.scope_uuid
    if kind in ("customer", "service_provider"):
        return backend.customers.get(uuid)
    if kind == "project":
        project = backend.projects.get(uuid)
        return project.customer if project is not None else None
    if kind == "offering":
        offering = backend.offerings.get(uuid)
        return offering.customer if offering is not None else None
    return None


def scope_name(backend: Any, grant: Grant) -> str:
    table = {"customer": backend.customers, "service_provider": backend.customers,
             "project": backend.projects, "offering": backend.offerings}.get(grant.scope_kind, {})
    scope = table.get(grant.scope_uuid)
    return getattr(scope, "name", "") if scope is not None else ""


# ---------------------------------------------------------------------------------------------
# Visibility


def customer_uuids(backend: Any, user: User) -> set[str]:
    """Organizations the user holds a customer, service-provider or project role in."""
    out = set()
    for g in grants_of(backend, user):
        if g.scope_kind in ("customer", "service_provider"):
            out.add(g.scope_uuid)
        elif g.scope_kind == "project" and g.scope_uuid in backend.projects:
            out.add(backend.projects[g.scope_uuid].customer.uuid)
    return out


def can_see_customer(backend: Any, user: User, customer: Customer) -> bool:
    return _sees_all(user) or customer.uuid in customer_uuids(backend, user)


def visible_customers(backend: Any, user: User) -> list[Customer]:
    if _sees_all(user):
        return list(backend.world.customers)
    mine = customer_uuids(backend, user)
    return [c for c in backend.world.customers if c.uuid in mine]


def _project_scopes(backend: Any, user: User) -> tuple[set[str], set[str]]:
    """(projects with a project role, organizations with a customer role)."""
    projects, customers = set(), set()
    for g in grants_of(backend, user):
        if g.scope_kind == "project":
            projects.add(g.scope_uuid)
        elif g.scope_kind == "customer":
            customers.add(g.scope_uuid)
    return projects, customers


def can_see_project(backend: Any, user: User, project: Project) -> bool:
    if _sees_all(user):
        return True
    projects, customers = _project_scopes(backend, user)
    return project.uuid in projects or project.customer.uuid in customers


def visible_projects(backend: Any, user: User) -> list[Project]:
    if _sees_all(user):
        return list(backend.world.projects)
    projects, customers = _project_scopes(backend, user)
    return [p for p in backend.world.projects
            if p.uuid in projects or p.customer.uuid in customers]


def visible_users(backend: Any, user: User) -> list[User]:
    if _sees_all(user):
        return list(backend.world.users)
    mine = customer_uuids(backend, user)
    linked = {g.user_uuid for g in backend.world.grants
              if (c := customer_of_grant(backend, g)) is not None and c.uuid in mine}
    return [u for u in backend.world.users
            if u is user or (u.is_active and u.uuid in linked)]


def can_see_user(backend: Any, user: User, other: User) -> bool:
    return other is user or any(u is other for u in visible_users(backend, user))


# ---------------------------------------------------------------------------------------------
# Counts shown on an organization / project


def projects_count(backend: Any, customer: Customer) -> int:
    return sum(1 for p in backend.world.projects if p.customer is customer)


def users_count(backend: Any, customer: Customer) -> int:
    return len({g.user_uuid for g in backend.world.grants
                if g.scope_kind in ("customer", "project")
                and (c := customer_of_grant(backend, g)) is not None and c is customer})


def resources_stamp(backend: Any) -> int:
    """What project counts depend on: resources are only ever added (orders create them)."""
    return len(backend.resources)


def resources_count(backend: Any, project: Project) -> int:
    counts = memo(backend, "resources_per_project", resources_stamp(backend),
                  lambda: Counter(r.project.uuid for r in backend.resources.values()))
    return counts.get(project.uuid, 0)


# ---------------------------------------------------------------------------------------------
# Login


def login(backend: Any, username: str, password: str) -> User:
    """The user whose username and password these are (Waldur's ObtainAuthToken): anything
    else, an inactive user included (Django's ModelBackend refuses them), is LoginFailed."""
    user = backend.user_by_username(username)
    if user is None or not user.is_active or user.password != password:
        raise LoginFailed()
    return user


def permissions(backend: Any, user: User) -> Iterable[dict[str, Any]]:
    """The user's roles as `/api/users/me/` lists them, in fixture order."""
    for g in grants_of(backend, user):
        customer = customer_of_grant(backend, g)
        yield {
            "role_name": g.role,
            "scope_type": g.scope_kind,
            "scope_uuid": g.scope_uuid,
            "scope_name": scope_name(backend, g),
            "customer_uuid": customer.uuid if customer is not None else None,
            "customer_name": customer.name if customer is not None else None,
        }


# ---------------------------------------------------------------------------------------------
# Roles (GET /api/roles/, anonymous): the roles the permission table knows


ROLE_DESCRIPTIONS = {
    "CUSTOMER.OWNER": "Organization owner",
    "CUSTOMER.SUPPORT": "Organization support",
    "CUSTOMER.MANAGER": "Service provider manager",
    "PROJECT.ADMIN": "Project administrator",
    "PROJECT.MANAGER": "Project manager",
    "PROJECT.MEMBER": "Project member",
    "OFFERING.MANAGER": "Offering manager",
}


@dataclass(frozen=True)
class Role:
    uuid: str
    name: str
    description: str
    permissions: tuple[str, ...]
    content_type: str


@cache
def roles() -> tuple[Role, ...]:
    """Every role of `orders.permissions.ROLE_PERMISSIONS`, by name; uuids derived from the
    name (the same in every world)."""
    return tuple(Role(uuid_mod.uuid5(NAMESPACE, f"role:{name}").hex, name,
                 ROLE_DESCRIPTIONS.get(name, name), tuple(sorted(perms)), ROLE_SCOPES[name])
            for name, perms in sorted(ROLE_PERMISSIONS.items()))


def role_users_count(backend: Any, role: Role) -> int:
    return len({g.user_uuid for g in backend.world.grants if g.role == role.name})
