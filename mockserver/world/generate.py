"""Build the seeded world: fixture entries + Faker for whatever they leave out + N generated orders.

Every random choice is drawn from a generator seeded by (seed, entity kind, entity key) alone -
`random.Random(f"{seed}:{kind}:{key}")`, and Faker re-seeded the same way before each entity -
never from one shared sequence, so adding or removing an entity does not change the others.
Generated order i draws from (seed, "order", i). Uuids the fixture omits are
uuid5(NAMESPACE, f"{seed}:{kind}:{key}").
"""

from __future__ import annotations

import hashlib
import random
import re
import uuid as uuid_mod
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from mockserver.orders import statemachine as sm
from mockserver.orders.entities import (
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
from mockserver.orders.permissions import ROLE_PERMISSIONS
from mockserver.world.clock import DEFAULT_ANCHOR
from mockserver.world.fixtures import FixtureDoc, load_fixtures

if TYPE_CHECKING:  # pragma: no cover
    from faker import Faker

NAMESPACE = uuid_mod.UUID("6f1c1d3e-2b1a-4a8e-9d55-0c8f3a9b7e21")
_NAMESPACE_SHA1 = hashlib.sha1(NAMESPACE.bytes, usedforsecurity=False)  # copied per uuid
DAY = 86400.0
_V = TypeVar("_V")

# Order fields a fixture entry may set as they are.
FIXTURE_ORDER_FIELDS = ("backend_id", "callback_url", "request_comment", "start_date", "output",
                        "consumer_rejection_comment", "provider_rejection_comment",
                        "termination_comment", "error_message", "error_traceback")

# The Faker providers the world draws from (company, catch_phrase, word, sentence, words, name;
# company's patterns use person's last_name), in Faker's own order. Loading all ~25 of them cost
# ~20 ms of every cold start, these take <1 ms; a value only depends on its own provider and the
# seed (tests/test_world_memory.py compares with a full Faker("en_US")).
FAKER_PROVIDERS = ("faker.providers.company", "faker.providers.lorem", "faker.providers.person")
# Built on first use: a world loaded from the cache (world/cache.py) never imports Faker (~0.1 s).
_faker: Faker | None = None

# Dicts that several generated objects share (see `_Builder.make_order`). The domain never
# updates an order's or resource's `attributes`, `limits` or `options` in place - it assigns a
# new dict - so sharing is invisible; tests/test_world_memory.py keeps it that way.
SHARED_EMPTY: dict[str, Any] = {}


def entity_uuid(seed: int, kind: str, key: str) -> str:
    """uuid5(NAMESPACE, f"{seed}:{kind}:{key}").hex, without building a UUID object (two per
    generated order: a fifth of the world's build time went to `uuid.uuid5`)."""
    digest = _NAMESPACE_SHA1.copy()
    digest.update(f"{seed}:{kind}:{key}".encode())
    raw = bytearray(digest.digest()[:16])
    raw[6] = (raw[6] & 0x0F) | 0x50  # version 5
    raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 4122 variant
    return raw.hex()


def rng_for(seed: int, kind: str, key: str | int) -> random.Random:
    return random.Random(f"{seed}:{kind}:{key}")


def faker_for(seed: int, kind: str, key: str | int) -> Faker:
    global _faker
    if _faker is None:
        from faker import Faker

        _faker = Faker("en_US", providers=list(FAKER_PROVIDERS))
    _faker.seed_instance(f"{seed}:{kind}:{key}")
    return _faker


def slugify(text: str) -> str:
    """Lower-case words joined by "-" (max 50 chars). Returns `text` itself when it already is
    its own slug, so a generated order's slug and name share one string."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:50] or "item"
    return text if slug == text else slug


def _instant(anchor: datetime, rng: random.Random, min_days: float, max_days: float) -> datetime:
    """A microsecond-precise instant between max_days and min_days before the anchor."""
    seconds = rng.uniform(min_days * DAY, max_days * DAY)
    return anchor - timedelta(microseconds=int(seconds * 1_000_000))


def plan_cost(plan: Plan | None, limits: dict[str, int]) -> str | None:
    """Monthly cost: fixed component prices + limit * unit price (10 decimal places)."""
    if plan is None:
        return None
    total = Decimal(0)
    comps = {c.type: c for c in plan.offering.components} if plan.offering else {}
    for ctype, price in plan.prices.items():
        comp = comps.get(ctype)
        amount = limits.get(ctype, 0) if comp is not None and comp.billing_type == "limit" else 1
        if comp is not None and comp.billing_type == "usage":
            amount = 0
        total += Decimal(price) * amount
    return f"{total:.10f}"


def resource_state_for(order_type: str, order_state: str) -> str:
    """The marketplace resource state that goes with an order in a given state (§2.4)."""
    effect = sm.RESOURCE_EFFECTS.get((order_type, order_state))
    if effect is not None:
        return effect
    return "Creating" if order_type in ("Create", "Restore") else "OK"


# ---------------------------------------------------------------------------------------------
def build_world(fixtures: str | Path | FixtureDoc, *, seed: int = 1, orders: int = 50) -> World:
    doc = fixtures if isinstance(fixtures, FixtureDoc) else load_fixtures(fixtures)
    return _Builder(doc, seed).build(orders)


class _Builder:
    def __init__(self, doc: FixtureDoc, seed: int) -> None:
        self.doc = doc
        self.seed = seed
        self.anchor = doc.anchor or DEFAULT_ANCHOR
        self.world = World(seed=seed, anchor=self.anchor)
        self.by_key: dict[str, dict[str, Any]] = {}
        self._holders: dict[tuple, User | None] = {}
        self._shared: dict[Any, Any] = {}
        self._costs: dict[tuple[Plan, tuple[tuple[str, int], ...]], str | None] = {}

    def uuid(self, kind: str, entry: dict[str, Any], key: str) -> str:
        return entry.get("uuid") or entity_uuid(self.seed, kind, key)

    def build(self, n_orders: int) -> World:
        e = self.doc.entries
        for kind, fn in (
            ("customers", self.customer), ("categories", self.category),
            ("projects", self.project), ("offerings", self.offering),
            ("users", self.user), ("resources", self.resource), ("orders", self.order),
        ):
            self.by_key[kind] = {}
            for entry in e.get(kind, []):
                key = entry.get("username") or entry["key"]
                obj = fn(entry, key)
                self.by_key[kind][key] = obj
                getattr(self.world, kind).append(obj)
            self.world.keys[kind] = {k: o.uuid for k, o in self.by_key[kind].items()}
        self.generate_orders(n_orders)
        self.world.orders.sort(key=lambda o: (o.created, o.uuid))
        from mockserver.agent.resources import seed_offering_users

        seed_offering_users(self.world)
        return self.world

    # -- entities -------------------------------------------------------------------------------
    def customer(self, entry: dict[str, Any], key: str) -> Customer:
        fake, rng = faker_for(self.seed, "customer", key), rng_for(self.seed, "customer", key)
        name = entry.get("name") or fake.company()
        return Customer(
            uuid=self.uuid("customer", entry, key), key=key, name=name,
            slug=entry.get("slug") or slugify(name),
            abbreviation=entry.get("abbreviation", name[:8]),
            description=entry.get("description", fake.catch_phrase()),
            blocked=entry.get("blocked", False), archived=entry.get("archived", False),
            is_service_provider=entry.get("service_provider", False),
            created=_instant(self.anchor, rng, 400, 800),
        )

    def category(self, entry: dict[str, Any], key: str) -> Category:
        fake = faker_for(self.seed, "category", key)
        return Category(
            uuid=self.uuid("category", entry, key), key=key,
            title=entry.get("title") or fake.word().title(),
            icon=entry.get("icon"), description=entry.get("description", fake.sentence()),
        )

    def project(self, entry: dict[str, Any], key: str) -> Project:
        fake, rng = faker_for(self.seed, "project", key), rng_for(self.seed, "project", key)
        name = entry.get("name") or f"{fake.word().title()} {fake.word()} project"
        return Project(
            uuid=self.uuid("project", entry, key), key=key, name=name,
            slug=entry.get("slug") or slugify(name),
            customer=self.by_key["customers"][entry["customer"]],
            description=entry.get("description", fake.sentence()),
            start_date=entry.get("start_date"), end_date=entry.get("end_date"),
            created=_instant(self.anchor, rng, 200, 400),
        )

    def offering(self, entry: dict[str, Any], key: str) -> Offering:
        fake, rng = faker_for(self.seed, "offering", key), rng_for(self.seed, "offering", key)
        name = entry.get("name") or f"{fake.company()} {entry['type'].split('.')[-1]}"
        offering = Offering(
            uuid=self.uuid("offering", entry, key), key=key, name=name,
            slug=entry.get("slug") or slugify(name), type=entry["type"],
            customer=self.by_key["customers"][entry["customer"]],
            category=self.by_key["categories"][entry["category"]],
            description=entry.get("description", fake.sentence()),
            shared=entry.get("shared", True), billable=entry.get("billable", True),
            plugin_options=dict(entry.get("plugin_options") or {}),
            terms_of_service=entry.get("terms_of_service", ""),
            state=entry.get("state", "Active"),
            created=_instant(self.anchor, rng, 300, 500),
        )
        for i, c in enumerate(entry.get("components") or []):
            ckey = f"{key}:{c['type']}"
            offering.components.append(Component(
                uuid=c.get("uuid") or entity_uuid(self.seed, "component", ckey),
                type=c["type"], name=c.get("name") or c["type"].replace("_", " ").title(),
                billing_type=c["billing_type"], measured_unit=c.get("measured_unit", "units"),
                description=c.get("description", ""), min_value=c.get("min_value", 0),
                max_value=c.get("max_value", 0), default_limit=c.get("default_limit"),
            ))
            del i
        for p in entry.get("plans") or []:
            pkey = f"{key}:{p['key']}"
            pfake = faker_for(self.seed, "plan", pkey)
            offering.plans.append(Plan(
                uuid=p.get("uuid") or entity_uuid(self.seed, "plan", pkey), key=p["key"],
                name=p.get("name") or f"{pfake.word().title()} plan",
                description=p.get("description", ""), unit=p.get("unit", "month"),
                prices={k: f"{Decimal(str(v)):.10f}" for k, v in (p.get("prices") or {}).items()},
                offering=offering,
            ))
        return offering

    def user(self, entry: dict[str, Any], key: str) -> User:
        fake = faker_for(self.seed, "user", key)
        user = User(
            uuid=self.uuid("user", entry, key), username=key,
            full_name=entry.get("full_name", fake.name()),
            email=entry.get("email") or f"{key}@example.com", token=entry["token"],
            is_staff=entry.get("is_staff", False), is_support=entry.get("is_support", False),
            is_active=entry.get("is_active", True), civil_number=entry.get("civil_number"),
            password=entry.get("password", key),
        )
        for role in entry.get("roles") or []:
            for kind in ("customer", "project", "offering", "service_provider"):
                if kind in role:
                    target = {"customer": "customers", "project": "projects",
                              "offering": "offerings", "service_provider": "customers"}[kind]
                    scope = self.by_key[target][role[kind]]
                    self.world.grants.append(Grant(user.uuid, role["role"], kind, scope.uuid))
        return user

    def resource(self, entry: dict[str, Any], key: str) -> Resource:
        fake, rng = faker_for(self.seed, "resource", key), rng_for(self.seed, "resource", key)
        offering: Offering = self.by_key["offerings"][entry["offering"]]
        plan = next((p for p in offering.plans if p.key == entry.get("plan")), None)
        name = entry.get("name") or slugify(f"{fake.word()}-{fake.word()}")
        created = _instant(self.anchor, rng, 100, 200)
        return Resource(
            uuid=self.uuid("resource", entry, key), key=key, name=name, slug=slugify(name),
            offering=offering, project=self.by_key["projects"][entry["project"]], plan=plan,
            state=entry.get("state", "OK"), limits=dict(entry.get("limits") or {}),
            attributes=dict(entry.get("attributes") or {"name": name}),
            backend_id=entry.get("backend_id", ""), end_date=entry.get("end_date"),
            created=created, modified=created + timedelta(hours=rng.uniform(1, 48)),
        )

    # -- orders ---------------------------------------------------------------------------------
    def order(self, entry: dict[str, Any], key: str) -> Order:
        users = self.by_key["users"]
        offering: Offering = self.by_key["offerings"][entry["offering"]]
        project: Project = self.by_key["projects"][entry["project"]]
        plan = next((p for p in offering.plans if p.key == entry.get("plan")), None)
        resource = self.by_key["resources"].get(entry.get("resource", ""))
        return self.make_order(
            kind="fixture-order", key=key, uuid=entry.get("uuid"), offering=offering,
            project=project, plan=plan, resource=resource, creator=users[entry["created_by"]],
            order_type=entry.get("type", "Create"), state=entry["state"],
            attributes=entry.get("attributes"), limits=entry.get("limits"),
            created=entry.get("created"), extra=entry,
            consumer_reviewer=users.get(entry.get("consumer_reviewed_by", "")),
            provider_reviewer=users.get(entry.get("provider_reviewed_by", "")),
        )

    def generate_orders(self, n: int) -> None:
        projects = [p for p in self.world.projects]
        offerings = [o for o in self.world.offerings if o.state == "Active" and o.plans]
        if not projects or not offerings or n <= 0:
            return
        creators = self.creators_by_project()
        states = list(sm.STATE_DB_INT)
        types = ["Create"] * 6 + ["Update"] * 3 + ["Terminate"] * 2
        pool = self.word_pool()
        usable_by_project = {p.uuid: [o for o in offerings if o.shared or o.customer is p.customer]
                             for p in projects}
        limit_types = {o.uuid: [c.type for c in o.components if c.billing_type == "limit"]
                       for o in offerings}
        # rng.choice(seq) draws exactly what seq[rng.randrange(len(seq))] draws, a bit faster
        for i in range(n):
            rng = rng_for(self.seed, "order", i)
            project = rng.choice(projects)
            offering = rng.choice(usable_by_project[project.uuid])
            plan = rng.choice(offering.plans)
            creator = rng.choice(creators[project.uuid])
            name = f"{rng.choice(pool)}-{rng.choice(pool)}-{i}"
            limits = {ctype: rng.randrange(1, 100) for ctype in limit_types[offering.uuid]}
            self.world.orders.append(self.make_order(
                kind="order", key=str(i), uuid=None, offering=offering, project=project,
                plan=plan, resource=None, creator=creator, order_type=rng.choice(types),
                state=rng.choice(states), attributes={"name": name},
                limits=limits, created=None, extra={}, consumer_reviewer=None,
                provider_reviewer=None, rng=rng,
            ))

    def word_pool(self) -> list[str]:
        fake = faker_for(self.seed, "wordpool", "orders")
        return sorted({slugify(w) for w in fake.words(nb=300)})

    def creators_by_project(self) -> dict[str, list[User]]:
        """Users who may create orders in each project (ORDER.CREATE there or on its customer)."""
        holders: dict[tuple[str, str], list[User]] = {}
        users = {u.uuid: u for u in self.world.users}
        for g in self.world.grants:
            if "ORDER.CREATE" in ROLE_PERMISSIONS.get(g.role, ()):
                holders.setdefault((g.scope_kind, g.scope_uuid), []).append(users[g.user_uuid])
        staff = [u for u in self.world.users if u.is_staff]
        out = {}
        for p in self.world.projects:
            out[p.uuid] = (holders.get(("project", p.uuid), []) +
                           holders.get(("customer", p.customer.uuid), [])) or staff
        return out

    def shared(self, value: _V) -> _V:
        """One object per distinct immutable value (texts, dates) across the generated orders,
        instead of one equal copy per order."""
        return self._shared.setdefault(value, value)

    def cost(self, plan: Plan | None, limits: dict[str, int]) -> str | None:
        """plan_cost, computed once per (plan, limits) and shared by the orders that have it."""
        if plan is None:
            return None
        key = (plan, tuple(limits.items()))
        if key not in self._costs:
            self._costs[key] = self.shared(plan_cost(plan, limits))
        return self._costs[key]

    def first_holder(self, permission: str, scopes: tuple[tuple[str, str], ...]) -> User | None:
        """The first user (in fixture order) holding `permission` on one of `scopes`; else staff."""
        cache_key = (permission, scopes)
        if cache_key not in self._holders:
            users = {u.uuid: u for u in self.world.users}
            found = next((users[g.user_uuid] for g in self.world.grants
                          if permission in ROLE_PERMISSIONS.get(g.role, ())
                          and (g.scope_kind, g.scope_uuid) in scopes), None)
            self._holders[cache_key] = found or next(
                (u for u in self.world.users if u.is_staff), None)
        return self._holders[cache_key]

    def make_order(
        self, *, kind: str, key: str, uuid: str | None, offering: Offering, project: Project,
        plan: Plan | None, resource: Resource | None, creator: User, order_type: str, state: str,
        attributes: dict[str, Any] | None, limits: dict[str, int] | None,
        created: datetime | None, extra: dict[str, Any], consumer_reviewer: User | None,
        provider_reviewer: User | None, rng: random.Random | None = None,
    ) -> Order:
        rng = rng or rng_for(self.seed, kind, key)
        order_uuid = uuid or entity_uuid(self.seed, kind, key)
        created = created or _instant(self.anchor, rng, 2, 180)
        attributes = dict(attributes) if attributes is not None else {
            "name": f"{slugify(offering.slug)[:20]}-{key}"}
        name = attributes.get("name") if isinstance(attributes.get("name"), str) else key
        slug = slugify(name)
        limits = dict(limits) if limits else SHARED_EMPTY
        if resource is None:
            # The order's new resource starts with the order's attributes and limits: the same
            # dicts (never updated in place), not copies - a third of the world's memory.
            rstate = resource_state_for(order_type, state)
            resource = Resource(
                uuid=entity_uuid(self.seed, f"{kind}-resource", key), key=f"{kind}:{key}",
                name=name, slug=slug, offering=offering, project=project, plan=plan,
                state=rstate, limits=limits, attributes=attributes, options=SHARED_EMPTY,
                created=created, modified=created, backend_metadata=SHARED_EMPTY,
                current_usages=SHARED_EMPTY,
            )
            self.world.resources.append(resource)
        step = timedelta(minutes=rng.uniform(1, 120))
        reviewed = state not in (sm.PENDING_CONSUMER,) and not (
            state == sm.REJECTED and rng.random() < 0.5)
        rules = sm.type_rules(offering.type)
        provider_reviewed = rules.provider_review is True and state in (
            sm.EXECUTING, sm.DONE, sm.ERRED, sm.PENDING_START_DATE) or (
            rules.provider_review is True and state == sm.CANCELED and rng.random() < 0.5)
        order = Order(
            uuid=order_uuid, created=created, modified=created, type=order_type, state=state,
            project=project, offering=offering, resource=resource, created_by=creator,
            plan=plan, attributes=attributes, limits=limits, cost=self.cost(plan, limits),
            slug=slug,
        )
        t = created
        if reviewed or consumer_reviewer is not None:
            t = t + step
            order.consumer_reviewed_by = consumer_reviewer or self.first_holder(
                "ORDER.APPROVE", (("project", project.uuid), ("customer", project.customer.uuid)))
            order.consumer_reviewed_at = t
            order.auto_approved = order.consumer_reviewed_by is creator
        if provider_reviewed or provider_reviewer is not None:
            t = t + step
            order.provider_reviewed_by = provider_reviewer or self.first_holder(
                "ORDER.APPROVE", (("customer", offering.customer.uuid),))
            order.provider_reviewed_at = t
        if state in (sm.EXECUTING, sm.DONE, sm.ERRED) and rules.scope_type:
            order.scope_uuid = entity_uuid(self.seed, f"{kind}-scope", key)
            order.scope_type = rules.scope_type
        if state in sm.TERMINAL_STATES or state == sm.EXECUTING:
            t = t + step
        if state == sm.DONE:
            order.completed_at = t
        if state == sm.ERRED:
            order.error_message = extra.get("error_message") or faker_for(
                self.seed, f"{kind}-error", key).sentence() if kind != "order" else (
                self.shared(f"Backend call failed with code {rng.randrange(400, 600)}."))
            order.error_traceback = extra.get(
                "error_traceback", "Traceback (most recent call last):\n  ...\nRuntimeError")
            order.error_updated_at = t
        order.modified = t
        if state == sm.PENDING_START_DATE and "start_date" not in extra:
            order.start_date = self.shared(
                (self.anchor + timedelta(days=rng.randrange(1, 90))).date())
        for field_name in FIXTURE_ORDER_FIELDS if extra else ():
            if field_name in extra:
                setattr(order, field_name, extra[field_name])
        return order
