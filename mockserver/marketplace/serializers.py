"""Marketplace objects -> wire dicts, keys in the order of their contract schemas
(openapi/marketplace.yaml; the offering, plan and resource representations are the orders
contract's, shared with the order's `/offering/` and `/resource/` answers)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from mockserver.marketplace.models import Marketplace, Plugin, ServiceProvider
from mockserver.orders.entities import Category, Offering, Plan, Resource, User
from mockserver.orders.serializers import (
    Urls,
    _render,
    dt,
    offering_values,
    render_offering,
    render_public_plan,
    render_resource,
)

__all__ = ["render_category", "render_offering", "render_plugin", "render_provider_offering",
           "render_provider_plan", "render_public_plan", "render_resource",
           "render_service_provider"]


def provider_plan_url(urls: Urls, plan: Plan) -> str:
    return f"{urls.base}/api/marketplace-plans/{plan.uuid}/"


def service_provider_url(urls: Urls, sp: ServiceProvider) -> str:
    return f"{urls.base}/api/marketplace-service-providers/{sp.uuid}/"


def render_category(category: Category, user: User, rules: Marketplace, base_url: str,
                    fields: Iterable[str] | None = None) -> dict[str, Any]:
    urls = Urls(base_url)
    values: dict[str, Callable[[], Any]] = {
        "url": lambda: urls.category(category.uuid),
        "uuid": lambda: category.uuid,
        "title": lambda: category.title,
        "description": lambda: category.description,
        "icon": lambda: category.icon,
        "default_vm_category": lambda: False,
        "default_volume_category": lambda: False,
        "offering_count": lambda: rules.offering_count(category),
        "available_offerings_count": lambda: rules.available_offerings_count(user, category),
        "sections": lambda: [],
        "columns": lambda: [],
        "components": lambda: [],
        "articles": lambda: [],
        "group": lambda: None,
    }
    return _render("MarketplaceCategory", values, fields=fields)


def render_public_offering_plan(plan: Plan, base_url: str) -> dict[str, Any]:
    """`/api/marketplace-public-offerings/<uuid>/plans/<plan_uuid>/` (BasePublicPlan)."""
    return render_public_plan(plan, Urls(base_url))


def render_provider_plan(plan: Plan, rules: Marketplace, base_url: str) -> dict[str, Any]:
    """`/api/marketplace-plans/<uuid>/` (ProviderPlanDetails): its own URL and the provider
    offering's."""
    urls = Urls(base_url)
    assert plan.offering is not None
    offering = plan.offering
    return render_public_plan(plan, urls, "ProviderPlanDetails", {
        "url": lambda: provider_plan_url(urls, plan),
        "offering": lambda: urls.provider_offering(offering.uuid),
        "resources_count": lambda: rules.plan_resources_count(plan),
    })


def render_provider_offering(offering: Offering, rules: Marketplace, base_url: str,
                             fields: Iterable[str] | None = None) -> dict[str, Any]:
    """ProviderOfferingDetails: the public values, with the provider URLs (offering, plans)."""
    urls = Urls(base_url)
    values = offering_values(offering, urls)
    values["url"] = lambda: urls.provider_offering(offering.uuid)
    values["plans"] = lambda: [
        render_public_plan(p, urls, "BaseProviderPlan", {
            "url": lambda p=p: provider_plan_url(urls, p),
            "resources_count": lambda p=p: rules.plan_resources_count(p)})
        for p in offering.plans]
    values["order_count"] = lambda: 0
    return _render("ProviderOfferingDetails", values, fields=fields)


def render_plugin(plugin: Plugin) -> dict[str, Any]:
    components = [_render("PluginComponent", {
        "type": lambda c=c: c.type, "name": lambda c=c: c.name,
        "measured_unit": lambda c=c: c.measured_unit, "billing_type": lambda c=c: c.billing_type,
    }) for c in plugin.components]
    return _render("PluginOfferingType", {
        "offering_type": lambda: plugin.offering_type,
        "components": lambda: components,
        "available_limits": lambda: list(plugin.available_limits),
    })


def render_service_provider(sp: ServiceProvider, rules: Marketplace, base_url: str,
                            fields: Iterable[str] | None = None) -> dict[str, Any]:
    urls = Urls(base_url)
    cust = sp.customer
    values: dict[str, Callable[[], Any]] = {
        "url": lambda: service_provider_url(urls, sp),
        "uuid": lambda: sp.uuid,
        "created": lambda: dt(sp.created),
        "description": lambda: cust.description,
        "enable_notifications": lambda: True,
        "customer": lambda: urls.customer(cust.uuid),
        "customer_name": lambda: cust.name,
        "customer_uuid": lambda: cust.uuid,
        "customer_image": lambda: "",
        "customer_abbreviation": lambda: cust.abbreviation,
        "customer_slug": lambda: cust.slug,
        "customer_native_name": lambda: "",
        "customer_country": lambda: "",
        "image": lambda: None,
        "organization_groups": lambda: [],
        "offering_count": lambda: rules.service_provider_offering_count(sp),
        "allowed_domains": lambda: [],
        "account_options": lambda: {},
    }
    return _render("ServiceProvider", values, fields=fields)


def render_marketplace_resource(resource: Resource, viewer: User, base_url: str,
                                fields: Iterable[str] | None = None) -> dict[str, Any]:
    """The Resource representation (consumer and provider views render alike)."""
    return render_resource(resource, viewer, base_url, fields)
