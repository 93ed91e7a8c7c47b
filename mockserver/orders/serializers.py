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


def offering_plan_values(off: Offering, plan: Plan | None,
                         urls: Urls) -> dict[str, Callable[[], Any]]:
    """The offering / provider / category / plan fields that orders and resources share
    (Waldur's BaseOrderSerializer and ResourceSerializer both flatten them the same way)."""
    prov, cat = off.customer, off.category
    return {
        "offering": lambda: urls.offering(off.uuid),
        "offering_name": lambda: off.name,
        "offering_uuid": lambda: off.uuid,
        "offering_description": lambda: off.description,
        "offering_image": lambda: None,
        "offering_thumbnail": lambda: None,
        "offering_type": lambda: off.type,
        "offering_terms_of_service": lambda: off.terms_of_service,
        "offering_shared": lambda: off.shared,
        "offering_billable": lambda: off.billable,
        "offering_plugin_options": lambda: dict(off.plugin_options),
        "provider_name": lambda: prov.name,
        "provider_uuid": lambda: prov.uuid,
        "provider_slug": lambda: prov.slug,
        "provider_description": lambda: prov.description,
        "category_title": lambda: cat.title,
        "category_uuid": lambda: cat.uuid,
        "category_icon": lambda: cat.icon,
        "plan": lambda: urls.plan(plan) if plan else None,
        "plan_unit": lambda: plan.unit if plan else None,
        "plan_name": lambda: plan.name if plan else None,
        "plan_uuid": lambda: plan.uuid if plan else None,
        "plan_description": lambda: plan.description if plan else None,
    }


def order_values(order: Order, viewer: User | None, urls: Urls,
                 representation: str) -> dict[str, Callable[[], Any]]:
    o, off, plan, proj = order, order.offering, order.plan, order.project
    cust = proj.customer
    creator, creview, preview = o.created_by, o.consumer_reviewed_by, o.provider_reviewed_by
    create = representation == "create"
    return {
        **offering_plan_values(off, plan, urls),
        "attributes": lambda: dict(o.attributes),
        "limits": lambda: dict(o.limits),
        "uuid": lambda: o.uuid,
        "created": lambda: dt(o.created),
        "modified": lambda: dt(o.modified),
        "resource_uuid": lambda: o.scope_uuid,
        "resource_type": lambda: o.scope_type,
        "resource_name": lambda: o.resource_name,
        "resource_end_date": lambda: d(o.resource.end_date),
        "cost": lambda: o.cost,
        "state": lambda: o.state,
        "output": lambda: o.output,
        "output_updated_at": lambda: dt(o.output_updated_at),
        "marketplace_resource_uuid": lambda: o.resource.uuid,
        "error_message": lambda: o.error_message,
        "error_traceback": lambda: o.error_traceback,
        "error_updated_at": lambda: dt(o.error_updated_at),
        "callback_url": lambda: o.callback_url,
        "completed_at": lambda: dt(o.completed_at),
        "request_comment": lambda: o.request_comment,
        "attachment": lambda: attachment_url(o, urls.base),
        "type": lambda: o.type,
        "start_date": lambda: d(o.start_date),
        "slug": lambda: o.slug,
        "url": lambda: urls.order(o.uuid),
        "project": lambda: urls.project(proj.uuid),
        "created_by": lambda: urls.user(creator.uuid),
        "consumer_reviewed_by": lambda: (
            (urls.user(creview.uuid) if create else creview.username) if creview else None),
        "consumer_reviewed_by_full_name": lambda: creview.full_name if creview else None,
        "consumer_reviewed_by_username": lambda: creview.username if creview else None,
        "consumer_reviewed_at": lambda: dt(o.consumer_reviewed_at),
        "provider_reviewed_by": lambda: preview.username if preview else None,
        "provider_reviewed_by_full_name": lambda: preview.full_name if preview else None,
        "provider_reviewed_by_username": lambda: preview.username if preview else None,
        "provider_reviewed_at": lambda: dt(o.provider_reviewed_at),
        "created_by_username": lambda: creator.username,
        "created_by_full_name": lambda: creator.full_name,
        "created_by_civil_number": lambda: creator.civil_number,
        "created_by_email": lambda: creator.email,
        "customer_name": lambda: cust.name,
        "customer_uuid": lambda: cust.uuid,
        "customer_slug": lambda: cust.slug,
        "project_name": lambda: proj.name,
        "project_uuid": lambda: proj.uuid,
        "project_description": lambda: proj.description,
        "project_slug": lambda: proj.slug,
        "old_plan_name": lambda: o.old_plan.name if o.old_plan else None,
        "new_plan_name": lambda: plan.name if plan else None,
        "old_plan_uuid": lambda: o.old_plan.uuid if o.old_plan else None,
        "new_plan_uuid": lambda: plan.uuid if plan else None,
        "old_cost_estimate": lambda: _old_cost(o),
        "new_cost_estimate": lambda: o.cost,
        "can_terminate": lambda: sm.can_terminate(off.type, o.state),
        "fixed_price": lambda: _fixed_price(plan),
        "activation_price": lambda: 0,
        "termination_comment": lambda: o.termination_comment,
        "backend_id": lambda: o.backend_id,
        "provider_message": lambda: o.provider_message,
        "provider_message_url": lambda: o.provider_message_url,
        "provider_message_attachment": lambda: (
            urls.attachment(o.uuid, o.provider_message_attachment.filename)
            if o.provider_message_attachment else None),
        "provider_message_updated_at": lambda: dt(o.provider_message_updated_at),
        "consumer_message": lambda: o.consumer_message,
        "consumer_message_attachment": lambda: (
            urls.attachment(o.uuid, o.consumer_message_attachment.filename)
            if o.consumer_message_attachment else None),
        "consumer_message_updated_at": lambda: dt(o.consumer_message_updated_at),
        "consumer_rejection_comment": lambda: o.consumer_rejection_comment,
        "provider_rejection_comment": lambda: o.provider_rejection_comment,
        "auto_approved": lambda: o.auto_approved,
        "issue": lambda: None,
    }


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
    if representation == "create":
        keys = list(CREATE_FIELDS)
        if order.consumer_reviewed_by is None:
            # dotted sources of a null relation are skipped by DRF (example 1 has neither);
            # a consumer review recorded at once shows them (seen on a real server)
            keys = [k for k in keys if k not in CREATE_REVIEW_NAME_KEYS]
    else:
        keys = [k for k in spec.schema_properties("OrderDetails") if k not in DETAIL_OMITTED]
        if order.consumer_reviewed_by is None:
            keys = [k for k in keys if k not in REVIEW_KEYS["consumer"]]
        if order.provider_reviewed_by is None:
            keys = [k for k in keys if k not in REVIEW_KEYS["provider"]]
    if not is_privileged(viewer):
        keys = [k for k in keys if k != "error_traceback"]
    return keys


def render_order(order: Order, viewer: User | None, base_url: str,
                 representation: str = "detail",
                 fields: Iterable[str] | None = None) -> dict[str, Any]:
    """The order as the real server renders it for `viewer` ("detail" or "create").
    `fields`: the sparse fieldset (unknown names dropped; none left -> all)."""
    keys = order_keys(order, viewer, representation)
    values = order_values(order, viewer, Urls(base_url), representation)
    return _render("OrderDetails", values, keys, fields)


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
        "current_usages": lambda: {},
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
