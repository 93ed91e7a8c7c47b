"""Domain objects -> wire dicts (reference §7, §8, §11).

Key lists come from the spec (`OrderDetails`, `PublicOfferingDetails`, `Resource`,
`DashboardMyOrder`); values from the VALUE tables below. A property the tables do not know
gets the neutral value of its schema type (null if nullable, "" / 0 / false / [] / {}).

The detail representation (GET) follows §11 examples 2 and 3: no url / project / created_by /
created_by_username (nor the `*_reviewed_by_username` keys, absent there too);
`*_reviewed_by` and `*_reviewed_by_full_name` keys are absent while that side has not reviewed
(`*_reviewed_at` stays, null); error_traceback only for staff/support.
The create representation (201) is §11 example 1's key list, in that order, plus
`consumer_reviewed_by_full_name` / `_username` after `consumer_reviewed_by` when the consumer
review was recorded at once (seen on a real server; DRF skips them while it is null).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from mockserver import spec
from mockserver.orders import statemachine as sm
from mockserver.orders.entities import Offering, Order, Plan, Resource, User
from mockserver.world.clock import format_date, format_instant

DETAIL_OMITTED = frozenset({"url", "project", "created_by", "created_by_username",
                            "consumer_reviewed_by_username", "provider_reviewed_by_username"})
REVIEW_KEYS = {
    "consumer": ("consumer_reviewed_by", "consumer_reviewed_by_full_name"),
    "provider": ("provider_reviewed_by", "provider_reviewed_by_full_name"),
}
# §11 example 1 (OrderCreateSerializer), in the server's order. error_traceback is added after
# error_message for staff/support, as the shared base serializer does.
CREATE_FIELDS: tuple[str, ...] = (
    "offering", "offering_name", "offering_uuid", "offering_description", "offering_image",
    "offering_thumbnail", "offering_type", "offering_terms_of_service", "offering_shared",
    "offering_billable", "offering_plugin_options", "provider_name", "provider_uuid",
    "category_title", "category_uuid", "category_icon", "plan", "plan_unit", "plan_name",
    "plan_uuid", "plan_description", "attributes", "limits", "uuid", "created", "modified",
    "type", "resource_uuid", "resource_type", "resource_name", "cost", "state", "output",
    "marketplace_resource_uuid", "error_message", "error_traceback", "callback_url", "url",
    "created_by", "created_by_username", "created_by_full_name", "consumer_reviewed_by",
    "consumer_reviewed_by_full_name", "consumer_reviewed_by_username",
    "consumer_reviewed_at", "project", "project_uuid", "project_name", "project_description",
    "customer_name", "customer_uuid",
)
CREATE_REVIEW_NAME_KEYS = frozenset({"consumer_reviewed_by_full_name",
                                     "consumer_reviewed_by_username"})


def dt(value: Any) -> str | None:
    return format_instant(value) if value is not None else None


def d(value: Any) -> str | None:
    return format_date(value) if value is not None else None


class Urls:
    """Absolute URLs with trailing slash, from the request's base URL (scheme://host)."""

    def __init__(self, base_url: str) -> None:
        self.base = base_url.rstrip("/")

    def order(self, uuid: str) -> str:
        return self.base + spec.path_of("marketplace_orders_retrieve").format(uuid=uuid)

    def offering(self, uuid: str) -> str:
        return f"{self.base}/api/marketplace-public-offerings/{uuid}/"

    def provider_offering(self, uuid: str) -> str:
        return f"{self.base}/api/marketplace-provider-offerings/{uuid}/"

    def plan(self, plan: Plan) -> str:
        assert plan.offering is not None
        return f"{self.offering(plan.offering.uuid)}plans/{plan.uuid}/"

    def project(self, uuid: str) -> str:
        return f"{self.base}/api/projects/{uuid}/"

    def customer(self, uuid: str) -> str:
        return f"{self.base}/api/customers/{uuid}/"

    def user(self, uuid: str) -> str:
        return f"{self.base}/api/users/{uuid}/"

    def category(self, uuid: str) -> str:
        return f"{self.base}/api/marketplace-categories/{uuid}/"

    def resource(self, uuid: str) -> str:
        return f"{self.base}/api/marketplace-resources/{uuid}/"

    def attachment(self, order_uuid: str, filename: str) -> str:
        return f"{self.base}/media/marketplace_order_attachments/{order_uuid}/{filename}"


# ---------------------------------------------------------------------------------------------
# Schema-driven neutral values.
def _resolve(sch: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in sch:
        return spec.schema(spec.ref_name(sch["$ref"]))
    for combo in ("allOf", "anyOf", "oneOf"):
        if combo in sch and sch[combo]:
            inner = _resolve(sch[combo][0])
            return {**inner, "nullable": sch.get("nullable", inner.get("nullable"))}
    return sch


def neutral(prop_schema: dict[str, Any]) -> Any:
    sch = _resolve(prop_schema)
    if sch.get("nullable") or prop_schema.get("nullable"):
        return None
    if "enum" in sch:
        return sch["enum"][0]
    return {"string": "", "integer": 0, "number": 0, "boolean": False, "array": [],
            "object": {}}.get(sch.get("type", "object"), None)


def select_fields(keys: Sequence[str], fields: Iterable[str] | None) -> Sequence[str]:
    """The sparse fieldset (`?field=a&field=b`) over a serializer's keys, in serializer order:
    names the serializer does not have are dropped; if none remain, all keys."""
    if not fields:
        return keys
    wanted = set(fields)
    return [k for k in keys if k in wanted] or keys


def _render(schema_name: str, values: dict[str, Callable[[], Any]],
            keys: Sequence[str] | None = None,
            fields: Iterable[str] | None = None) -> dict[str, Any]:
    """`keys` (default: the schema's properties) rendered from `values`, restricted to the
    sparse fieldset `fields`."""
    props = spec.property_schemas(schema_name)
    if keys is None:
        keys = spec.schema_properties(schema_name)
    if fields:  # the serializer's keys are those that get rendered
        keys = select_fields([k for k in keys if k in values
                              or not _unparseable_blank(props.get(k, {}))], fields)
    out: dict[str, Any] = {}
    for key in keys:
        fn = values.get(key)
        if fn is None and _unparseable_blank(props.get(key, {})):
            continue  # "" would crash clients that parse the format (UUID(""), isoparse(""))
        out[key] = fn() if fn is not None else neutral(props.get(key, {}))
    return out


def _unparseable_blank(prop_schema: dict[str, Any]) -> bool:
    sch = _resolve(prop_schema)
    nullable = sch.get("nullable") or prop_schema.get("nullable")
    return (not nullable and sch.get("type") == "string"
            and sch.get("format") in ("uuid", "date-time", "date"))


# ---------------------------------------------------------------------------------------------
def is_privileged(viewer: User | None) -> bool:
    return viewer is not None and (viewer.is_staff or viewer.is_support)


class _View:
    """What the fields of an order (and the offering/plan part of a resource) read, gathered
    once per rendering; the field tables below are functions of it. (Building the ~110
    closures of those tables for every rendering was ~40 % of rendering an order.)"""

    __slots__ = ("o", "off", "plan", "proj", "cust", "prov", "cat", "creator", "creview",
                 "preview", "create", "urls")


def _offering_view(off: Offering, plan: Plan | None, urls: Urls) -> _View:
    v = _View()
    v.off, v.plan, v.urls, v.prov, v.cat = off, plan, urls, off.customer, off.category
    return v


def _order_view(order: Order, urls: Urls, representation: str) -> _View:
    v = _offering_view(order.offering, order.plan, urls)
    v.o, v.proj = order, order.project
    v.cust = v.proj.customer
    v.creator, v.creview = order.created_by, order.consumer_reviewed_by
    v.preview = order.provider_reviewed_by
    v.create = representation == "create"
    return v


# The offering / provider / category / plan fields that orders and resources share (Waldur's
# BaseOrderSerializer and ResourceSerializer both flatten them the same way).
OFFERING_PLAN_FIELDS: dict[str, Callable[[_View], Any]] = {
    "offering": lambda v: v.urls.offering(v.off.uuid),
    "offering_name": lambda v: v.off.name,
    "offering_uuid": lambda v: v.off.uuid,
    "offering_description": lambda v: v.off.description,
    "offering_image": lambda v: None,
    "offering_thumbnail": lambda v: None,
    "offering_type": lambda v: v.off.type,
    "offering_terms_of_service": lambda v: v.off.terms_of_service,
    "offering_shared": lambda v: v.off.shared,
    "offering_billable": lambda v: v.off.billable,
    "offering_plugin_options": lambda v: dict(v.off.plugin_options),
    "provider_name": lambda v: v.prov.name,
    "provider_uuid": lambda v: v.prov.uuid,
    "provider_slug": lambda v: v.prov.slug,
    "provider_description": lambda v: v.prov.description,
    "category_title": lambda v: v.cat.title,
    "category_uuid": lambda v: v.cat.uuid,
    "category_icon": lambda v: v.cat.icon,
    "plan": lambda v: v.urls.plan(v.plan) if v.plan else None,
    "plan_unit": lambda v: v.plan.unit if v.plan else None,
    "plan_name": lambda v: v.plan.name if v.plan else None,
    "plan_uuid": lambda v: v.plan.uuid if v.plan else None,
    "plan_description": lambda v: v.plan.description if v.plan else None,
}

ORDER_FIELDS: dict[str, Callable[[_View], Any]] = {
    **OFFERING_PLAN_FIELDS,
    "attributes": lambda v: dict(v.o.attributes),
    "limits": lambda v: dict(v.o.limits),
    "uuid": lambda v: v.o.uuid,
    "created": lambda v: dt(v.o.created),
    "modified": lambda v: dt(v.o.modified),
    "resource_uuid": lambda v: v.o.scope_uuid,
    "resource_type": lambda v: v.o.scope_type,
    "resource_name": lambda v: v.o.resource_name,
    "resource_end_date": lambda v: d(v.o.resource.end_date),
    "cost": lambda v: v.o.cost,
    "state": lambda v: v.o.state,
    "output": lambda v: v.o.output,
    "output_updated_at": lambda v: dt(v.o.output_updated_at),
    "marketplace_resource_uuid": lambda v: v.o.resource.uuid,
    "error_message": lambda v: v.o.error_message,
    "error_traceback": lambda v: v.o.error_traceback,
    "error_updated_at": lambda v: dt(v.o.error_updated_at),
    "callback_url": lambda v: v.o.callback_url,
    "completed_at": lambda v: dt(v.o.completed_at),
    "request_comment": lambda v: v.o.request_comment,
    "attachment": lambda v: attachment_url(v.o, v.urls.base),
    "type": lambda v: v.o.type,
    "start_date": lambda v: d(v.o.start_date),
    "slug": lambda v: v.o.slug,
    "url": lambda v: v.urls.order(v.o.uuid),
    "project": lambda v: v.urls.project(v.proj.uuid),
    "created_by": lambda v: v.urls.user(v.creator.uuid),
    "consumer_reviewed_by": lambda v: (
        (v.urls.user(v.creview.uuid) if v.create else v.creview.username) if v.creview else None),
    "consumer_reviewed_by_full_name": lambda v: v.creview.full_name if v.creview else None,
    "consumer_reviewed_by_username": lambda v: v.creview.username if v.creview else None,
    "consumer_reviewed_at": lambda v: dt(v.o.consumer_reviewed_at),
    "provider_reviewed_by": lambda v: v.preview.username if v.preview else None,
    "provider_reviewed_by_full_name": lambda v: v.preview.full_name if v.preview else None,
    "provider_reviewed_by_username": lambda v: v.preview.username if v.preview else None,
    "provider_reviewed_at": lambda v: dt(v.o.provider_reviewed_at),
    "created_by_username": lambda v: v.creator.username,
    "created_by_full_name": lambda v: v.creator.full_name,
    "created_by_civil_number": lambda v: v.creator.civil_number,
    "created_by_email": lambda v: v.creator.email,
    "customer_name": lambda v: v.cust.name,
    "customer_uuid": lambda v: v.cust.uuid,
    "customer_slug": lambda v: v.cust.slug,
    "project_name": lambda v: v.proj.name,
    "project_uuid": lambda v: v.proj.uuid,
    "project_description": lambda v: v.proj.description,
    "project_slug": lambda v: v.proj.slug,
    "old_plan_name": lambda v: v.o.old_plan.name if v.o.old_plan else None,
    "new_plan_name": lambda v: v.plan.name if v.plan else None,
    "old_plan_uuid": lambda v: v.o.old_plan.uuid if v.o.old_plan else None,
    "new_plan_uuid": lambda v: v.plan.uuid if v.plan else None,
    "old_cost_estimate": lambda v: _old_cost(v.o),
    "new_cost_estimate": lambda v: v.o.cost,
    "can_terminate": lambda v: sm.can_terminate(v.off.type, v.o.state),
    "fixed_price": lambda v: _fixed_price(v.plan),
    "activation_price": lambda v: 0,
    "termination_comment": lambda v: v.o.termination_comment,
    "backend_id": lambda v: v.o.backend_id,
    "provider_message": lambda v: v.o.provider_message,
    "provider_message_url": lambda v: v.o.provider_message_url,
    "provider_message_attachment": lambda v: (
        v.urls.attachment(v.o.uuid, v.o.provider_message_attachment.filename)
        if v.o.provider_message_attachment else None),
    "provider_message_updated_at": lambda v: dt(v.o.provider_message_updated_at),
    "consumer_message": lambda v: v.o.consumer_message,
    "consumer_message_attachment": lambda v: (
        v.urls.attachment(v.o.uuid, v.o.consumer_message_attachment.filename)
        if v.o.consumer_message_attachment else None),
    "consumer_message_updated_at": lambda v: dt(v.o.consumer_message_updated_at),
    "consumer_rejection_comment": lambda v: v.o.consumer_rejection_comment,
    "provider_rejection_comment": lambda v: v.o.provider_rejection_comment,
    "auto_approved": lambda v: v.o.auto_approved,
    "issue": lambda v: None,
}


def _bind(fields: dict[str, Callable[[_View], Any]], view: _View
          ) -> dict[str, Callable[[], Any]]:
    return {k: functools.partial(f, view) for k, f in fields.items()}


def offering_plan_values(off: Offering, plan: Plan | None,
                         urls: Urls) -> dict[str, Callable[[], Any]]:
    """`OFFERING_PLAN_FIELDS` as `_render` values."""
    return _bind(OFFERING_PLAN_FIELDS, _offering_view(off, plan, urls))


def order_values(order: Order, viewer: User | None, urls: Urls,
                 representation: str) -> dict[str, Callable[[], Any]]:
    """`ORDER_FIELDS` as `_render` values."""
    return _bind(ORDER_FIELDS, _order_view(order, urls, representation))


def _old_cost(order: Order) -> float:
    res = order.resource
    if order.type == "Create" or res.plan is None:
        return 0.0
    from mockserver.world.generate import plan_cost

    return float(plan_cost(res.plan, res.limits) or 0)


def _fixed_price(plan: Plan | None) -> float:
    if plan is None or plan.offering is None:
        return 0
    fixed = {c.type for c in plan.offering.components if c.billing_type == "fixed"}
    total = sum(float(p) for t, p in plan.prices.items() if t in fixed)
    return total if total else 0


def order_keys(order: Order, viewer: User | None, representation: str) -> list[str]:
    return list(_order_keys(representation, order.consumer_reviewed_by is None,
                            order.provider_reviewed_by is None, is_privileged(viewer)))


@functools.cache
def _order_keys(representation: str, no_consumer_review: bool, no_provider_review: bool,
                privileged: bool) -> tuple[str, ...]:
    if representation == "create":
        keys = list(CREATE_FIELDS)
        if no_consumer_review:
            # dotted sources of a null relation are skipped by DRF (example 1 has neither);
            # a consumer review recorded at once shows them (seen on a real server)
            keys = [k for k in keys if k not in CREATE_REVIEW_NAME_KEYS]
    else:
        keys = [k for k in spec.schema_properties("OrderDetails") if k not in DETAIL_OMITTED]
        if no_consumer_review:
            keys = [k for k in keys if k not in REVIEW_KEYS["consumer"]]
        if no_provider_review:
            keys = [k for k in keys if k not in REVIEW_KEYS["provider"]]
    if not privileged:
        keys = [k for k in keys if k != "error_traceback"]
    return tuple(keys)


@functools.cache
def _order_getters(representation: str, no_consumer_review: bool, no_provider_review: bool,
                   privileged: bool) -> tuple[tuple[str, Callable[[_View], Any]], ...]:
    """`_render("OrderDetails", order_values(...), keys)` as (key, getter) pairs, worked out
    once per key set: a key without a field gets its schema's neutral value (a new one per
    rendering, as `_render`), or is left out where a blank would not parse."""
    props = spec.property_schemas("OrderDetails")
    out: list[tuple[str, Callable[[_View], Any]]] = []
    for key in _order_keys(representation, no_consumer_review, no_provider_review, privileged):
        getter = ORDER_FIELDS.get(key)
        if getter is None:
            prop = props.get(key, {})
            if _unparseable_blank(prop):
                continue
            getter = functools.partial(_neutral_of, prop)
        out.append((key, getter))
    return tuple(out)


def _neutral_of(prop: dict[str, Any], _view: _View) -> Any:
    return neutral(prop)


def render_order(order: Order, viewer: User | None, base_url: str,
                 representation: str = "detail",
                 fields: Iterable[str] | None = None) -> dict[str, Any]:
    """The order as the real server renders it for `viewer` ("detail" or "create").
    `fields`: the sparse fieldset (unknown names dropped; none left -> all)."""
    kind = (representation, order.consumer_reviewed_by is None,
            order.provider_reviewed_by is None, is_privileged(viewer))
    if not fields:
        view = _order_view(order, Urls(base_url), representation)
        return {k: getter(view) for k, getter in _order_getters(*kind)}
    values = order_values(order, viewer, Urls(base_url), representation)
    return _render("OrderDetails", values, list(_order_keys(*kind)), fields)


def render_order_update(order: Order) -> dict[str, Any]:
    """PUT/PATCH answer (OrderUpdate)."""
    return {"limits": dict(order.limits), "attributes": dict(order.attributes),
            "start_date": d(order.start_date)}


def attachment_url(order: Order, base_url: str) -> str | None:
    if order.attachment is None:
        return None
    return Urls(base_url).attachment(order.uuid, order.attachment.filename)


def render_dashboard_order(order: Order) -> dict[str, Any]:
    values: dict[str, Callable[[], Any]] = {
        "uuid": lambda: order.uuid,
        "offering_uuid": lambda: order.offering.uuid,
        "offering_name": lambda: order.offering.name,
        "resource_uuid": lambda: order.resource.uuid,
        "resource_name": lambda: order.resource_name,
        "project_uuid": lambda: order.project.uuid,
        "project_name": lambda: order.project.name,
        "customer_uuid": lambda: order.customer.uuid,
        "customer_name": lambda: order.customer.name,
        "state": lambda: order.state,
        "type": lambda: order.type.lower(),
        "created": lambda: dt(order.created),
    }
    return _render("DashboardMyOrder", values)


# ---------------------------------------------------------------------------------------------
def _component(c: Any) -> dict[str, Any]:
    values: dict[str, Callable[[], Any]] = {
        "uuid": lambda: c.uuid, "billing_type": lambda: c.billing_type,
        "type": lambda: c.type, "name": lambda: c.name, "description": lambda: c.description,
        "measured_unit": lambda: c.measured_unit, "unit_factor": lambda: 1,
        "limit_period": lambda: None, "limit_amount": lambda: None, "article_code": lambda: "",
        "max_value": lambda: c.max_value or None, "min_value": lambda: c.min_value,
        "max_available_limit": lambda: None, "is_boolean": lambda: False,
        "default_limit": lambda: c.default_limit, "factor": lambda: None,
        "is_builtin": lambda: False, "is_prepaid": lambda: False,
        "overage_component": lambda: None, "min_prepaid_duration": lambda: None,
        "max_prepaid_duration": lambda: None,
    }
    return _render("OfferingComponent", values)


def _plan_component(c: Any, price: str) -> dict[str, Any]:
    values: dict[str, Callable[[], Any]] = {
        "type": lambda: c.type, "name": lambda: c.name, "measured_unit": lambda: c.measured_unit,
        "billing_type": lambda: c.billing_type, "is_prepaid": lambda: False, "amount": lambda: 0,
        "price": lambda: price, "future_price": lambda: None,
    }
    return _render("NestedPlanComponent", values)


def render_public_plan(plan: Plan, urls: Urls, schema_name: str = "BasePublicPlan",
                       extra: dict[str, Callable[[], Any]] | None = None) -> dict[str, Any]:
    """A plan as the offering serializers nest it (BasePublicPlan); `extra` overrides values
    (the provider views' plan URL, resources_count)."""
    offering = plan.offering
    assert offering is not None
    comps = {c.type: c for c in offering.components}
    prices = dict(plan.prices)
    total = sum(float(p) for p in prices.values())
    values: dict[str, Callable[[], Any]] = {
        "url": lambda: urls.plan(plan), "uuid": lambda: plan.uuid, "name": lambda: plan.name,
        "description": lambda: plan.description, "article_code": lambda: "",
        "max_amount": lambda: None, "archived": lambda: False, "is_active": lambda: True,
        "unit_price": lambda: f"{total:.7f}", "unit": lambda: plan.unit,
        "init_price": lambda: 0, "switch_price": lambda: 0, "backend_id": lambda: "",
        "organization_groups": lambda: [],
        "prices": lambda: prices,
        "future_prices": lambda: {},
        "quotas": lambda: {t: 0 for t in comps},
        "resources_count": lambda: 0, "plan_type": lambda: "fixed",
        "minimal_price": lambda: total,
        "components": lambda: [_plan_component(comps[t], p) for t, p in plan.prices.items()
                               if t in comps],
        "offering": lambda: urls.offering(offering.uuid),
        **(extra or {}),
    }
    return _render(schema_name, values)


def render_offering(offering: Offering, viewer: User | None, base_url: str,
                    fields: Iterable[str] | None = None) -> dict[str, Any]:
    """GET /{uuid}/offering/ (PublicOfferingDetails); `fields`: the sparse fieldset."""
    return _render("PublicOfferingDetails", offering_values(offering, Urls(base_url)),
                   fields=fields)


def offering_values(offering: Offering, urls: Urls) -> dict[str, Callable[[], Any]]:
    """An offering's values in the public catalogue's representation (the provider view
    overrides a few)."""
    cust = offering.customer
    values: dict[str, Callable[[], Any]] = {
        "url": lambda: urls.offering(offering.uuid),
        "uuid": lambda: offering.uuid,
        "created": lambda: dt(offering.created),
        "name": lambda: offering.name,
        "slug": lambda: offering.slug,
        "description": lambda: offering.description,
        "full_description": lambda: offering.description,
        "terms_of_service": lambda: offering.terms_of_service,
        "customer": lambda: urls.customer(cust.uuid),
        "customer_uuid": lambda: cust.uuid,
        "customer_name": lambda: cust.name,
        "category": lambda: urls.category(offering.category.uuid),
        "category_uuid": lambda: offering.category.uuid,
        "category_title": lambda: offering.category.title,
        "attributes": lambda: {},
        "options": lambda: {"order": [], "options": {}},
        "resource_options": lambda: {"order": [], "options": {}},
        "components": lambda: [_component(c) for c in offering.components],
        "plugin_options": lambda: dict(offering.plugin_options),
        "state": lambda: offering.state,
        "plans": lambda: [render_public_plan(p, urls) for p in offering.plans],
        "type": lambda: offering.type,
        "shared": lambda: offering.shared,
        "billable": lambda: offering.billable,
        "order_count": lambda: 0,
        "thumbnail": lambda: None,
        "image": lambda: None,
        "is_accessible": lambda: True,
    }
    return values


def render_resource(resource: Resource, viewer: User | None, base_url: str,
                    fields: Iterable[str] | None = None) -> dict[str, Any]:
    """GET /{uuid}/resource/ (marketplace Resource; error_traceback for staff/support only);
    `fields`: the sparse fieldset."""
    urls = Urls(base_url)
    off, proj, plan = resource.offering, resource.project, resource.plan
    values: dict[str, Callable[[], Any]] = {
        **offering_plan_values(off, plan, urls),
        "attributes": lambda: dict(resource.attributes),
        "limits": lambda: dict(resource.limits),
        "uuid": lambda: resource.uuid,
        "created": lambda: dt(resource.created),
        "modified": lambda: dt(resource.modified),
        "url": lambda: urls.resource(resource.uuid),
        "description": lambda: "",
        "state": lambda: resource.state,
        "backend_id": lambda: resource.backend_id,
        "project": lambda: urls.project(proj.uuid),
        "project_uuid": lambda: proj.uuid,
        "project_name": lambda: proj.name,
        "project_description": lambda: proj.description,
        "project_start_date": lambda: d(proj.start_date),
        "project_end_date": lambda: d(proj.end_date),
        "customer_uuid": lambda: proj.customer.uuid,
        "customer_name": lambda: proj.customer.name,
        "offering_slug": lambda: off.slug,
        "name": lambda: resource.name,
        "slug": lambda: resource.slug,
        "end_date": lambda: d(resource.end_date),
        "error_message": lambda: resource.error_message,
        "error_traceback": lambda: resource.error_traceback,
        "options": lambda: dict(resource.options),
        "project_slug": lambda: proj.slug,
        "customer_slug": lambda: proj.customer.slug,
        "offering_state": lambda: off.state,
        "offering_components": lambda: [_component(c) for c in off.components],
        "current_usages": lambda: dict(resource.current_usages),
        "backend_metadata": lambda: dict(resource.backend_metadata),
        "limit_usage": lambda: {},
        "last_sync": lambda: dt(resource.last_sync or resource.modified or resource.created),
        "paused": lambda: False,
        "downscaled": lambda: False,
        "restrict_member_access": lambda: False,
        "is_usage_based": lambda: any(c.billing_type == "usage" for c in off.components),
        "is_limit_based": lambda: any(c.billing_type == "limit" for c in off.components),
        "can_terminate": lambda: resource.state in ("OK", "Erred"),
        "available_actions": lambda: [],
        "endpoints": lambda: [],
    }
    keys = spec.schema_properties("Resource")
    if not is_privileged(viewer):
        keys = tuple(k for k in keys if k != "error_traceback")
    return _render("Resource", values, keys, fields)
