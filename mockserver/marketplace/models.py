"""Marketplace rules without HTTP: who sees which category, offering, plan, service provider and
resource, the list filters and orderings, and the few derived objects (service providers,
plugins, suggested names). Everything reads one session's world; nothing here mutates it.

Visibility (docs/behaviour.md, "Marketplace"):
  categories, service providers, plugins  every authenticated user
  public offerings    staff/support: all; others: shared Active/Paused offerings, and private
                      Active/Paused ones of an organization they belong to (any role there or in
                      one of its projects) or that they manage as offering manager
  provider offerings, plans (marketplace-plans), provider resources
                      staff/support: all; others: offerings of organizations where they hold a
                      customer role or the service-provider manager role, and offerings they
                      manage (OFFERING.MANAGER)
  resources (consumer view)
                      a role on the resource's project or on its organization; staff/support: all
                      (the provider side uses the provider view)
Invisible or malformed uuids are 404s.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import chain, islice
from typing import Any

from mockserver import spec
from mockserver.listing import (
    Filters,
    Ordering,
    filter_and_order,
    lookup,
    parse_uuid,
    text_key,
)
from mockserver.orders.entities import (
    Category,
    Customer,
    Offering,
    Plan,
    Project,
    Resource,
    User,
    World,
)
from mockserver.orders.exceptions import ValidationError
from mockserver.orders.permissions import PermissionIndex
from mockserver.orders.statemachine import OFFERING_TYPES
from mockserver.world.generate import entity_uuid

Query = Sequence[tuple[str, str]]  # the decoded query string, repeated keys kept
PUBLIC_STATES = frozenset({"Active", "Paused"})
TERMINATED = "Terminated"
# Django model integers (ordering by `o=state` sorts by them, as for orders).
OFFERING_STATE_DB_INT = {"Draft": 1, "Active": 2, "Paused": 3, "Archived": 4, "Unavailable": 5}
RESOURCE_STATE_DB_INT = {"Creating": 1, "OK": 2, "Erred": 3, "Updating": 4, "Terminating": 5,
                         "Terminated": 6}


@dataclass(frozen=True)
class PluginComponent:
    type: str
    name: str
    measured_unit: str
    billing_type: str


@dataclass(frozen=True)
class Plugin:
    offering_type: str
    components: tuple[PluginComponent, ...] = ()
    available_limits: tuple[str, ...] = ()


# What each plugin registers (Waldur's plugin registry); any other type of the world's
# offerings gets an item without components or limits.
PLUGINS: dict[str, Plugin] = {
    "Marketplace.Slurm": Plugin(
        "Marketplace.Slurm",
        (PluginComponent("cpu", "CPU", "hours", "usage"),
         PluginComponent("gpu", "GPU", "hours", "usage"),
         PluginComponent("ram", "RAM", "GB", "usage")),
        ("cpu", "gpu", "ram")),
    "Marketplace.Basic": Plugin("Marketplace.Basic"),
    "Marketplace.Script": Plugin("Marketplace.Script"),
    "Support.OfferingTemplate": Plugin("Support.OfferingTemplate"),
    "Waldur.RemoteOffering": Plugin("Waldur.RemoteOffering"),
}


@dataclass(frozen=True)
class ServiceProvider:
    """Derived from a provider organization (one per customer that is a service provider or
    owns an offering); its uuid is stable for a seed and the customer's fixture key."""

    uuid: str
    customer: Customer
    created: datetime | None


@dataclass(frozen=True)
class Scopes:
    """The user's role scopes by kind (customer / project / offering / service_provider)."""

    customer: frozenset[str]
    project: frozenset[str]
    offering: frozenset[str]
    service_provider: frozenset[str]

    @classmethod
    def of(cls, perms: PermissionIndex, user: User) -> Scopes:
        by_kind: dict[str, set[str]] = {
            "customer": set(), "project": set(), "offering": set(), "service_provider": set()}
        for _role, kind, uuid in perms.roles(user.uuid):
            by_kind.setdefault(kind, set()).add(uuid)
        return cls(**{k: frozenset(v) for k, v in by_kind.items()})


def _uuid_of(value: Any) -> str | None:
    return parse_uuid(value) if isinstance(value, str) else None


def _created(obj: Any) -> tuple[Any, str]:
    return (obj.created or datetime.min, obj.uuid)


def _merged(seq: tuple[Any, ...], added: list[Any]) -> tuple[Any, ...]:
    """`seq` and `added` (both sorted by `_created`) as one sorted tuple: each added item
    placed by bisection, the runs between copied as slices (no key call per item of `seq`)."""
    parts: list[tuple[Any, ...]] = []
    start = 0
    for item in added:
        at = bisect.bisect_right(seq, _created(item), lo=start, key=_created)
        parts += (seq[start:at], (item,))
        start = at
    parts.append(seq[start:])
    return tuple(chain.from_iterable(parts))


def _nullable(value: Any) -> tuple[bool, Any]:
    """PostgreSQL: NULLs sort after everything ascending."""
    return (value is None, value if value is not None else "")


# `o=` per list: the keys are the contract's `o` values (a test compares them); strict, as
# django-filter's OrderingFilter (400 on another value).
OFFERING_ORDERING = Ordering(keys={
    "created": _created,
    "name": lambda o: text_key(o.name),
    "state": lambda o: OFFERING_STATE_DB_INT.get(o.state, 0),
    "type": lambda o: o.type,
}, default=("name",), strict=True, tiebreak=lambda o: o.uuid)
CATEGORY_ORDERING = Ordering(keys={"title": lambda c: text_key(c.title)}, default=("title",),
                             strict=True, tiebreak=lambda c: c.uuid)
SERVICE_PROVIDER_ORDERING = Ordering(
    keys={"customer_name": lambda sp: text_key(sp.customer.name)}, strict=True,
    tiebreak=_created)
# Resources come in `created` order already (Marketplace.visible_resources): no tiebreak sort.
RESOURCE_ORDERING = Ordering(keys={
    "backend_id": lambda r: r.backend_id,
    "created": _created,
    "customer_name": lambda r: text_key(r.project.customer.name),
    "end_date": lambda r: _nullable(r.end_date),
    "name": lambda r: text_key(r.name),
    "offering_name": lambda r: text_key(r.offering.name),
    "plan_name": lambda r: _nullable(r.plan.name if r.plan else None),
    "project_name": lambda r: text_key(r.project.name),
    "state": lambda r: RESOURCE_STATE_DB_INT.get(r.state, 0),
}, strict=True)
ORDERINGS = {
    "marketplace_categories_list": CATEGORY_ORDERING,
    "marketplace_public_offerings_list": OFFERING_ORDERING,
    "marketplace_provider_offerings_list": OFFERING_ORDERING,
    "marketplace_service_providers_list": SERVICE_PROVIDER_ORDERING,
    "marketplace_resources_list": RESOURCE_ORDERING,
    "marketplace_provider_resources_list": RESOURCE_ORDERING,
}


class Marketplace:
    """The marketplace view of one world. `resources` is the live uuid -> Resource table (the
    orders backend adds a resource with every created order)."""

    def __init__(self, world: World, perms: PermissionIndex,
                 resources: Mapping[str, Resource], lock: Any = None) -> None:
        self.world = world
        self.lock = lock if lock is not None else threading.RLock()  # the backend's
        self.perms = perms
        self.resources = resources
        self.categories = {c.uuid: c for c in world.categories}
        self.offerings = {o.uuid: o for o in world.offerings}
        self.plans = {p.uuid: p for o in world.offerings for p in o.plans}
        self.customers = {c.uuid: c for c in world.customers}
        self.projects = {p.uuid: p for p in world.projects}
        self.service_providers = self._build_service_providers()
        self._scopes: dict[str, Scopes] = {}  # grants do not change at run time
        self._members: dict[str, frozenset[str]] = {}
        self._by_created: tuple[int, tuple[Resource, ...]] | None = None
        self.provider_by_customer = {sp.customer.uuid: sp for sp in self.service_providers}

    def _build_service_providers(self) -> list[ServiceProvider]:
        owners = {o.customer.uuid for o in self.world.offerings}
        return [ServiceProvider(entity_uuid(self.world.seed, "service-provider", c.key), c,
                                c.created)
                for c in self.world.customers if c.is_service_provider or c.uuid in owners]

    # -- who is who ------------------------------------------------------------------------
    @staticmethod
    def privileged(user: User) -> bool:
        return user.is_staff or user.is_support

    def scopes(self, user: User) -> Scopes:
        scopes = self._scopes.get(user.uuid)
        if scopes is None:
            scopes = self._scopes[user.uuid] = Scopes.of(self.perms, user)
        return scopes

    def member_customers(self, user: User) -> frozenset[str]:
        """Organizations the user belongs to: a role on it or on one of its projects."""
        members = self._members.get(user.uuid)
        if members is None:
            s = self.scopes(user)
            members = self._members[user.uuid] = s.customer | frozenset(
                self.projects[p].customer.uuid for p in s.project if p in self.projects)
        return members

    # -- offerings -------------------------------------------------------------------------
    def public_visible(self, user: User, offering: Offering) -> bool:
        if self.privileged(user):
            return True
        if offering.state not in PUBLIC_STATES:
            return False
        if offering.shared:
            return True
        return (offering.customer.uuid in self.member_customers(user)
                or offering.uuid in self.scopes(user).offering)

    def provider_visible(self, user: User, offering: Offering) -> bool:
        if self.privileged(user):
            return True
        s = self.scopes(user)
        return (offering.customer.uuid in s.customer or offering.customer.uuid in s.service_provider
                or offering.uuid in s.offering)

    def _offerings(self, items: list[Offering], query: Query, operation_id: str
                   ) -> Sequence[Offering]:
        def orderable_by(customer_uuid: str | None) -> Callable[[Offering], bool]:
            return lambda o: customer_uuid is not None and (
                o.shared or o.customer.uuid == customer_uuid)

        filters = (Filters(query)
                   .choices("state", lambda o: o.state, spec.enum_values("OfferingState"))
                   .boolean("shared", lambda o: o.shared)
                   .uuids("customer_uuid", lambda o: o.customer.uuid)
                   .uuids("category_uuid", lambda o: o.category.uuid)
                   .text("name", lambda o: o.name)
                   .where(self._type_filter(query)))
        allowed = self._uuid_value(filters, "allowed_customer_uuid")
        if allowed is not None:
            filters.where(orderable_by(allowed))
        project = self._uuid_value(filters, "project_uuid")
        if project is not None:
            owner = self.projects.get(project)
            filters.where(orderable_by(owner.customer.uuid if owner else None))
        return filter_and_order(filters, ORDERINGS[operation_id], items, query)

    @staticmethod
    def _type_filter(query: Query) -> Callable[[Offering], bool]:
        """`type` (repeatable, any of; no validation, as LooseMultipleChoiceFilter)."""
        wanted = {v for k, v in query if k == "type" and v != ""}
        return (lambda o: o.type in wanted) if wanted else (lambda o: True)

    @staticmethod
    def _uuid_value(filters: Filters, name: str) -> str | None:
        """The last value of a uuid parameter (hex); a malformed one is recorded as the 400."""
        raw = [v for k, v in filters.query if k == name and v.strip() != ""]
        if not raw:
            return None
        hex_ = _uuid_of(raw[-1])
        if hex_ is None:
            filters.errors[name] = ["Enter a valid UUID."]
        return hex_

    def public_offerings(self, user: User, query: Query) -> Sequence[Offering]:
        items = [o for o in self.world.offerings if self.public_visible(user, o)]
        return self._offerings(items, query, "marketplace_public_offerings_list")

    def public_offering(self, user: User, uuid: str) -> Offering:
        return lookup(self.offerings, uuid, "Offering", lambda o: self.public_visible(user, o))

    def public_plan(self, user: User, uuid: str, plan_uuid: str) -> Plan:
        """`/api/marketplace-public-offerings/<uuid>/plans/<plan_uuid>/`: the plan must be one of
        that offering's."""
        offering = self.public_offering(user, uuid)
        return lookup({p.uuid: p for p in offering.plans}, plan_uuid, "Plan")

    def provider_offerings(self, user: User, query: Query) -> Sequence[Offering]:
        items = [o for o in self.world.offerings if self.provider_visible(user, o)]
        return self._offerings(items, query, "marketplace_provider_offerings_list")

    def provider_offering(self, user: User, uuid: str) -> Offering:
        return lookup(self.offerings, uuid, "Offering", lambda o: self.provider_visible(user, o))

    # -- plans (provider view) ---------------------------------------------------------------
    def provider_plans(self, user: User, query: Query) -> Sequence[Plan]:
        """In catalogue order (offerings, then their plans)."""
        items = [p for o in self.world.offerings if self.provider_visible(user, o)
                 for p in o.plans]
        return Filters(query).uuids("offering_uuid", lambda p: p.offering.uuid).apply(items)

    def provider_plan(self, user: User, uuid: str) -> Plan:
        return lookup(self.plans, uuid, "Plan", lambda p: p.offering is not None
                      and self.provider_visible(user, p.offering))

    def plan_resource_counts(self) -> dict[str, int]:
        """Plan uuid -> number of its resources not terminated (one pass; once per request)."""
        counts: dict[str, int] = {}
        for r in self._resources_by_created():
            if r.plan is not None and r.state != TERMINATED:
                counts[r.plan.uuid] = counts.get(r.plan.uuid, 0) + 1
        return counts

    # -- categories ------------------------------------------------------------------------
    def categories_list(self, user: User, query: Query) -> Sequence[Category]:
        def of_provider(customer_uuid: str) -> Callable[[Category], bool]:
            return lambda c: any(o.category is c and o.customer.uuid == customer_uuid
                                 for o in self.world.offerings)

        filters = (Filters(query)
                   .boolean("has_offerings",
                            lambda c: self.available_offerings_count(user, c) > 0)
                   .text("title", lambda c: c.title))
        provider = self._uuid_value(filters, "customer_uuid")
        if provider is not None:
            filters.where(of_provider(provider))
        return filter_and_order(filters, CATEGORY_ORDERING, self.world.categories, query)

    def category(self, user: User, uuid: str) -> Category:
        return lookup(self.categories, uuid, "Category")

    def offering_count(self, category: Category) -> int:
        """Shared offerings of the category in the catalogue (Active/Paused)."""
        return sum(1 for o in self.world.offerings
                   if o.category is category and o.shared and o.state in PUBLIC_STATES)

    def available_offerings_count(self, user: User, category: Category) -> int:
        """Offerings of the category the user sees in the catalogue (Active/Paused)."""
        return sum(1 for o in self.world.offerings
                   if o.category is category and o.state in PUBLIC_STATES
                   and self.public_visible(user, o))

    def global_categories(self, user: User, query: Query) -> dict[str, int]:
        """Category uuid -> number of the user's (consumer view) resources not terminated."""
        resources = (Filters(query)
                     .uuids("customer_uuid", lambda r: r.project.customer.uuid)
                     .uuids("project_uuid", lambda r: r.project.uuid)
                     .where(lambda r: r.state != TERMINATED)
                     .apply(self.visible_resources(user, "consumer")))
        counts: dict[str, int] = {}
        for r in resources:
            cat = r.offering.category.uuid
            counts[cat] = counts.get(cat, 0) + 1
        return dict(sorted(counts.items()))

    # -- plugins ---------------------------------------------------------------------------
    def plugins(self) -> list[Plugin]:
        """One item per known offering type, plus any other type the world's offerings have."""
        types = set(PLUGINS) | set(OFFERING_TYPES) | {o.type for o in self.world.offerings}
        return [PLUGINS.get(t, Plugin(t)) for t in sorted(types)]

    # -- service providers -----------------------------------------------------------------
    def service_providers_list(self, user: User, query: Query) -> Sequence[ServiceProvider]:
        filters = (Filters(query)
                   .uuids("customer_uuid", lambda sp: sp.customer.uuid)
                   .text("name", lambda sp: sp.customer.name)
                   .text("customer_keyword", lambda sp: sp.customer.name,
                         lambda sp: sp.customer.abbreviation))
        return filter_and_order(filters, SERVICE_PROVIDER_ORDERING, self.service_providers,
                                query)

    def service_provider(self, user: User, uuid: str) -> ServiceProvider:
        return lookup({sp.uuid: sp for sp in self.service_providers}, uuid, "ServiceProvider")

    def service_provider_offering_count(self, sp: ServiceProvider) -> int:
        return sum(1 for o in self.world.offerings if o.customer is sp.customer)

    # -- resources -------------------------------------------------------------------------
    def resource_visible(self, user: User, resource: Resource, view: str) -> bool:
        if self.privileged(user):
            return True
        s = self.scopes(user)
        if view == "provider":  # ResourceQuerySet.filter_for_service_provider
            provider = resource.offering.customer.uuid
            return (provider in s.customer or provider in s.service_provider
                    or resource.offering.uuid in s.offering)
        # ResourceQuerySet.filter_for_service_consumer: the project or its organization
        return resource.project.uuid in s.project or resource.project.customer.uuid in s.customer

    def visible_resources(self, user: User, view: str) -> Sequence[Resource]:
        """In `created` order (read-only: the shared sorted tuple for a privileged user)."""
        everything = self._resources_by_created()
        if self.privileged(user):
            return everything
        return [r for r in everything if self.resource_visible(user, r, view)]

    def _resources_by_created(self) -> tuple[Resource, ...]:
        """Resources are only ever added and their `created` never changes: the sorted tuple
        stays valid until the table grows (immutable, so it is handed out as is: copying 10k
        references cost ~20 µs a request). When it has grown, the new resources are the last
        ones of the table (a dict keeps insertion order) and are merged in: sorting the whole
        table again cost the first resource read after every create ~5 ms at 10k orders and
        ~130 ms at 100k; the merge ~0.1 ms and ~3-9 ms."""
        with self.lock:  # the orders backend adds resources under the same lock
            cached = self._by_created
            count = len(self.resources)
            if cached is None or cached[0] > count:
                cached = self._by_created = (count, tuple(sorted(self.resources.values(),
                                                                 key=_created)))
            elif cached[0] < count:
                added = sorted(islice(reversed(self.resources.values()), count - cached[0]),
                               key=_created)
                cached = self._by_created = (count, _merged(cached[1], added))
            return cached[1]

    def resources_list(self, user: User, query: Query, view: str = "consumer"
                       ) -> Sequence[Resource]:
        filters = (Filters(query)
                   .choices("state", lambda r: r.state, spec.enum_values("ResourceState"))
                   .uuids("offering_uuid", lambda r: r.offering.uuid, many=True)
                   .uuids("project_uuid", lambda r: r.project.uuid)
                   .uuids("customer_uuid", lambda r: r.project.customer.uuid)
                   .uuids("provider_uuid", lambda r: r.offering.customer.uuid)
                   .uuids("category_uuid", lambda r: r.offering.category.uuid)
                   .exact("offering_type", lambda r: r.offering.type)
                   .text("name", lambda r: r.name)
                   .exact("backend_id", lambda r: r.backend_id)
                   .text("query", lambda r: r.name, lambda r: r.backend_id, lambda r: r.uuid))
        return filter_and_order(filters, RESOURCE_ORDERING, self.visible_resources(user, view),
                                query)

    def resource(self, user: User, uuid: str, view: str = "consumer") -> Resource:
        return lookup(self.resources, uuid, "Resource",
                      lambda r: self.resource_visible(user, r, view))

    def suggest_name(self, user: User, body: Any) -> str:
        """`<project slug>-<offering slug>-<n>`, n = 1 + the project's resources of the offering.
        `project` / `offering` are uuids the user may use (else the DRF 400 texts)."""
        if not isinstance(body, dict):
            raise ValidationError({"non_field_errors": [
                f"Invalid data. Expected a dictionary, but got {type(body).__name__}."]})
        errors: dict[str, list[str]] = {}
        project = self._body_uuid(body, "project", errors, self.projects,
                                  lambda p: self._project_member(user, p))
        offering = self._body_uuid(body, "offering", errors, self.offerings,
                                   lambda o: self.public_visible(user, o))
        if errors:
            raise ValidationError(errors)
        assert project is not None and offering is not None
        n = 1 + sum(1 for r in self._resources_by_created()
                    if r.project is project and r.offering is offering)
        return f"{project.slug}-{offering.slug}-{n}"

    def _project_member(self, user: User, project: Project) -> bool:
        if self.privileged(user):
            return True
        s = self.scopes(user)
        return project.uuid in s.project or project.customer.uuid in s.customer

    @staticmethod
    def _body_uuid(body: dict[str, Any], name: str, errors: dict[str, list[str]],
                   table: Mapping[str, Any], visible: Callable[[Any], bool]) -> Any:
        """DRF UUIDField + a queryset lookup, with DRF's texts."""
        if name not in body:
            errors[name] = ["This field is required."]
            return None
        value = body[name]
        if value is None:
            errors[name] = ["This field may not be null."]
            return None
        hex_ = _uuid_of(value) if isinstance(value, str) else None
        if hex_ is None:
            errors[name] = ["Must be a valid UUID."]
            return None
        obj = table.get(hex_)
        if obj is None or not visible(obj):
            errors[name] = [f'Invalid pk "{value}" - object does not exist.']
            return None
        return obj


def for_backend(backend: Any) -> Marketplace:
    """The session backend's Marketplace, built once per world (its catalogue does not change
    at run time; resources are read live from the backend's table)."""
    rules = getattr(backend, "_marketplace", None)
    if rules is None or rules.world is not backend.world:
        rules = Marketplace(backend.world, backend.perms, backend.resources, backend.lock)
        backend._marketplace = rules
    return rules
