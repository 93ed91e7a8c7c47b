"""Roles, permissions and visibility as data (reference §3, §11).

A role grant is (user, role, scope) with scope kind customer / project / offering /
service_provider (a provider customer's service-provider record, keyed by the customer uuid).
A permission check is "PERM @ scopes", where each scope names an object reached from the order:
  project           the order's project
  customer          project.customer (the consumer organization)
  provider          offering.customer (the provider organization)
  offering          the order's offering
  service_provider  offering.customer's service provider
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

# Role -> order permissions. CUSTOMER.OWNER / PROJECT.ADMIN / PROJECT.MANAGER follow the default
# permissions.yaml of §3 plus the newer ORDER.CREATE / ORDER.SET_CONSUMER_INFO. PROJECT.MEMBER
# sees and creates orders in its project (§3 create holders, §11 visibility). OFFERING.MANAGER and
# the service-provider manager get the newer provider-side grants (§3 "newer tests").
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "CUSTOMER.OWNER": frozenset({
        "ORDER.LIST", "ORDER.APPROVE", "ORDER.APPROVE_PRIVATE", "ORDER.REJECT", "ORDER.DESTROY",
        "ORDER.CANCEL", "ORDER.CREATE", "ORDER.SET_CONSUMER_INFO", "RESOURCE.SET_BACKEND_ID",
    }),
    "CUSTOMER.MANAGER": frozenset({
        "ORDER.LIST", "ORDER.APPROVE", "ORDER.REJECT", "RESOURCE.SET_BACKEND_ID",
    }),
    "CUSTOMER.SUPPORT": frozenset({"ORDER.LIST"}),
    "PROJECT.ADMIN": frozenset({
        "ORDER.LIST", "ORDER.APPROVE_PRIVATE", "ORDER.DESTROY", "ORDER.CANCEL", "ORDER.CREATE",
        "ORDER.SET_CONSUMER_INFO",
    }),
    "PROJECT.MANAGER": frozenset({
        "ORDER.LIST", "ORDER.APPROVE_PRIVATE", "ORDER.DESTROY", "ORDER.CANCEL", "ORDER.CREATE",
        "ORDER.SET_CONSUMER_INFO",
    }),
    "PROJECT.MEMBER": frozenset({"ORDER.LIST", "ORDER.CREATE"}),
    "OFFERING.MANAGER": frozenset({
        "ORDER.LIST", "ORDER.APPROVE", "ORDER.REJECT", "RESOURCE.SET_BACKEND_ID",
    }),
}

# Which scope kinds a role may be granted on.
ROLE_SCOPES: dict[str, str] = {
    "CUSTOMER.OWNER": "customer",
    "CUSTOMER.SUPPORT": "customer",
    "CUSTOMER.MANAGER": "service_provider",
    "PROJECT.ADMIN": "project",
    "PROJECT.MANAGER": "project",
    "PROJECT.MEMBER": "project",
    "OFFERING.MANAGER": "offering",
}


@dataclass(frozen=True)
class Rule:
    """`permission` @ any of `scopes`. staff_only: only is_staff passes (unlink).
    or_creator: the order's creator passes too (reject_by_consumer, attachments)."""

    permission: str | None
    scopes: tuple[str, ...]
    staff_only: bool = False
    or_creator: bool = False


_CONSUMER = ("project", "customer")
_PROVIDER = ("provider",)

ACTION_RULES: dict[str, Rule] = {
    "approve_by_consumer": Rule("ORDER.APPROVE", _CONSUMER),
    "reject_by_consumer": Rule("ORDER.REJECT", _CONSUMER, or_creator=True),
    "approve_by_provider": Rule("ORDER.APPROVE", ("provider", "offering", "service_provider")),
    "set_provider_info": Rule("ORDER.APPROVE", ("provider", "offering", "service_provider")),
    "reject_by_provider": Rule("ORDER.REJECT", ("provider", "offering", "service_provider")),
    "cancel": Rule("ORDER.CANCEL", _CONSUMER),
    "destroy": Rule("ORDER.DESTROY", _CONSUMER),
    "set_state": Rule("ORDER.APPROVE", ("provider", "offering")),
    "set_state_erred": Rule("ORDER.APPROVE", ("provider", "service_provider", "offering")),
    "set_backend_id": Rule("RESOURCE.SET_BACKEND_ID", ("offering", "provider", "service_provider")),
    "set_consumer_info": Rule("ORDER.SET_CONSUMER_INFO", _CONSUMER),
    "update": Rule("ORDER.APPROVE", _CONSUMER),
    # Not documented (§3): the creator, or whoever may cancel it on the consumer side.
    "attachment": Rule("ORDER.CANCEL", _CONSUMER, or_creator=True),
    "unlink": Rule(None, (), staff_only=True),
    "create": Rule("ORDER.CREATE", _CONSUMER),
}


# Rule scope -> the kind of grant that covers it ("provider" is a customer grant).
GRANT_KIND: dict[str, str] = {
    "project": "project",
    "customer": "customer",
    "provider": "customer",
    "offering": "offering",
    "service_provider": "service_provider",
}


class Grant(Protocol):
    user_uuid: str
    role: str
    scope_kind: str
    scope_uuid: str


class PermissionIndex:
    """(user, permission) -> set of (scope_kind, scope_uuid). Built once from the grants; the
    world's grants do not change at run time."""

    def __init__(self, grants: Iterable[Grant]) -> None:
        self._by_user: dict[str, dict[str, set[tuple[str, str]]]] = {}
        self._roles: dict[str, list[tuple[str, str, str]]] = {}
        for g in grants:
            perms = self._by_user.setdefault(g.user_uuid, {})
            for perm in ROLE_PERMISSIONS.get(g.role, ()):
                perms.setdefault(perm, set()).add((g.scope_kind, g.scope_uuid))
            self._roles.setdefault(g.user_uuid, []).append((g.role, g.scope_kind, g.scope_uuid))

    def scopes(self, user_uuid: str, permission: str, kind: str) -> set[str]:
        """The scope uuids of one kind where the user holds `permission`."""
        return {
            uuid for k, uuid in self._by_user.get(user_uuid, {}).get(permission, ()) if k == kind
        }

    def has(self, user_uuid: str, permission: str, scope_kind: str, scope_uuid: str | None) -> bool:
        if scope_uuid is None:
            return False
        return (scope_kind, scope_uuid) in self._by_user.get(user_uuid, {}).get(permission, ())

    def roles(self, user_uuid: str) -> list[tuple[str, str, str]]:
        return list(self._roles.get(user_uuid, ()))


def allowed(
    rule: Rule,
    *,
    is_staff: bool,
    is_creator: bool,
    user_uuid: str,
    index: PermissionIndex,
    scope_of: Callable[[str], str | None],
) -> bool:
    """Does the user pass `rule` for an object whose scopes are given by `scope_of(kind)`?
    Staff always passes (§3: has_permission). Support is not staff."""
    if is_staff:
        return True
    if rule.staff_only:
        return False
    if rule.or_creator and is_creator:
        return True
    if rule.permission is None:
        return False
    return any(
        index.has(user_uuid, rule.permission, GRANT_KIND[kind], scope_of(kind))
        for kind in rule.scopes
    )
