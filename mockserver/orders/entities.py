"""The domain's dataclasses. Related objects are held by reference (an order points at its
Project, Offering, Plan, Resource and Users), so rendering never needs a lookup; the JSON codec
(`world/snapshot` in models.export_state) turns references into uuids and back."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any


@dataclass(eq=False, slots=True)
class User:
    uuid: str
    username: str
    full_name: str
    email: str
    token: str
    is_staff: bool = False
    is_support: bool = False
    is_active: bool = True
    civil_number: str | None = None
    password: str = ""  # for POST /api-auth/password/ (fixtures: defaults to the username)


@dataclass(eq=False, slots=True)
class Customer:
    uuid: str
    key: str
    name: str
    slug: str
    abbreviation: str = ""
    description: str = ""
    blocked: bool = False
    archived: bool = False
    is_service_provider: bool = False
    created: datetime | None = None


@dataclass(eq=False, slots=True)
class Category:
    uuid: str
    key: str
    title: str
    icon: str | None = None
    description: str = ""


@dataclass(eq=False, slots=True)
class Project:
    uuid: str
    key: str
    name: str
    slug: str
    customer: Customer
    description: str = ""
    start_date: date | None = None
    end_date: date | None = None
    created: datetime | None = None


@dataclass(eq=False, slots=True)
class Component:
    uuid: str
    type: str
    name: str
    billing_type: str
    measured_unit: str = ""
    description: str = ""
    min_value: int = 0
    max_value: int = 0
    default_limit: int | None = None


@dataclass(eq=False, slots=True)
class Plan:
    uuid: str
    key: str
    name: str
    description: str = ""
    unit: str = "month"
    prices: dict[str, str] = field(default_factory=dict)  # component type -> decimal string
    offering: Offering | None = None


@dataclass(eq=False, slots=True)
class Offering:
    uuid: str
    key: str
    name: str
    slug: str
    type: str
    customer: Customer
    category: Category
    description: str = ""
    shared: bool = True
    billable: bool = True
    plugin_options: dict[str, Any] = field(default_factory=dict)
    terms_of_service: str = ""
    state: str = "Active"
    components: list[Component] = field(default_factory=list)
    plans: list[Plan] = field(default_factory=list)
    created: datetime | None = None

    def plan_by_uuid(self, uuid: str) -> Plan | None:
        return next((p for p in self.plans if p.uuid == uuid), None)


@dataclass(eq=False, slots=True)
class Resource:
    """`limits`, `attributes`, `options` (and the Order's `attributes`, `limits`) are replaced,
    never updated in place: a generated order and its resource share them (world/generate.py)."""

    uuid: str
    key: str
    name: str
    slug: str
    offering: Offering
    project: Project
    plan: Plan | None = None
    state: str = "OK"
    limits: dict[str, int] = field(default_factory=dict)
    attributes: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    backend_id: str = ""
    end_date: date | None = None
    error_message: str = ""
    error_traceback: str = ""
    created: datetime | None = None
    modified: datetime | None = None


@dataclass(frozen=True)
class Grant:
    user_uuid: str
    role: str
    scope_kind: str  # customer / project / offering / service_provider
    scope_uuid: str


@dataclass(eq=False, slots=True)
class Attachment:
    filename: str
    content_type: str
    content: bytes


@dataclass(eq=False, slots=True)
class Order:
    uuid: str
    created: datetime
    modified: datetime
    type: str
    state: str
    project: Project
    offering: Offering
    resource: Resource
    created_by: User
    plan: Plan | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    limits: dict[str, int] = field(default_factory=dict)
    cost: str | None = None
    slug: str = ""
    consumer_reviewed_by: User | None = None
    consumer_reviewed_at: datetime | None = None
    provider_reviewed_by: User | None = None
    provider_reviewed_at: datetime | None = None
    output: str = ""
    output_updated_at: datetime | None = None
    error_message: str = ""
    error_traceback: str = ""
    error_updated_at: datetime | None = None
    callback_url: str | None = None
    completed_at: datetime | None = None
    request_comment: str | None = None
    attachment: Attachment | None = None
    start_date: date | None = None
    backend_id: str = ""
    scope_uuid: str | None = None  # plugin resource (`resource_uuid` on the wire)
    scope_type: str | None = None  # `resource_type` on the wire
    termination_comment: str | None = None
    old_plan: Plan | None = None
    provider_message: str = ""
    provider_message_url: str = ""
    provider_message_attachment: Attachment | None = None
    provider_message_updated_at: datetime | None = None
    consumer_message: str = ""
    consumer_message_attachment: Attachment | None = None
    consumer_message_updated_at: datetime | None = None
    consumer_rejection_comment: str = ""
    provider_rejection_comment: str = ""
    auto_approved: bool = False
    rev: int = 0  # bumped on every change (render caches key on it)

    @property
    def customer(self) -> Customer:
        return self.project.customer

    @property
    def provider(self) -> Customer:
        return self.offering.customer

    @property
    def resource_name(self) -> str:
        name = self.attributes.get("name") if isinstance(self.attributes, dict) else None
        return name if isinstance(name, str) else self.resource.name


@dataclass
class World:
    """Everything the backend serves, before any request. Orders are in creation order."""

    seed: int
    anchor: datetime
    users: list[User] = field(default_factory=list)
    customers: list[Customer] = field(default_factory=list)
    categories: list[Category] = field(default_factory=list)
    projects: list[Project] = field(default_factory=list)
    offerings: list[Offering] = field(default_factory=list)
    resources: list[Resource] = field(default_factory=list)
    grants: list[Grant] = field(default_factory=list)
    orders: list[Order] = field(default_factory=list)
    keys: dict[str, dict[str, str]] = field(default_factory=dict)  # kind -> fixture key -> uuid
