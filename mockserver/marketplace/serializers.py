"""Marketplace objects -> wire dicts. The marketplace's own schemas (category, service provider,
plugin, provider plan and offering) are a dict of values each, ordered by `rendering.render`;
the offering, plan and resource representations are the orders contract's, rendered by the
orders serializers (the same answer as an order's `/offering/` and `/resource/`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
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
from mockserver.rendering import Links, render

__all__ = ["category", "offering", "plugin", "provider_offering", "provider_plan", "public_plan",
           "resource", "service_provider"]


def category(c: Category, user: User, rules: Marketplace, links: Links) -> dict[str, Any]:
    return render("MarketplaceCategory", {
        "url": links.url("marketplace_categories_retrieve", uuid=c.uuid),
        "uuid": c.uuid,
        "title": c.title,
        "description": c.description,
        "icon": c.icon,
        "default_vm_category": False,
        "default_volume_category": False,
        "offering_count": rules.offering_count(c),
        "available_offerings_count": rules.available_offerings_count(user, c),
        "sections": [],
        "columns": [],
        "components": [],
        "articles": [],
        "group": None,
    })


def offering(o: Offering, user: User, links: Links) -> dict[str, Any]:
    """PublicOfferingDetails (the catalogue's and the order's `offering` URL)."""
    return render_offering(o, user, links.base)


def public_plan(plan: Plan, links: Links) -> dict[str, Any]:
    """BasePublicPlan at `/api/marketplace-public-offerings/<uuid>/plans/<plan_uuid>/`."""
    return render_public_plan(plan, Urls(links.base))


def _provider_plan_values(plan: Plan, counts: Mapping[str, int], links: Links
                          ) -> dict[str, Callable[[], Any]]:
    """The provider views' plan: its own URL (`/api/marketplace-plans/<uuid>/`), the provider
    offering's URL, and how many resources use it."""
    assert plan.offering is not None
    offering_uuid = plan.offering.uuid
    return {
        "url": lambda: links.url("marketplace_plans_retrieve", uuid=plan.uuid),
        "offering": lambda: links.url("marketplace_provider_offerings_retrieve",
                                      uuid=offering_uuid),
        "resources_count": lambda: counts.get(plan.uuid, 0),
    }


def provider_plan(plan: Plan, counts: Mapping[str, int], links: Links) -> dict[str, Any]:
    """ProviderPlanDetails; `counts`: Marketplace.plan_resource_counts()."""
    return render_public_plan(plan, Urls(links.base), "ProviderPlanDetails",
                              _provider_plan_values(plan, counts, links))


def provider_offering(o: Offering, counts: Mapping[str, int], links: Links) -> dict[str, Any]:
    """ProviderOfferingDetails: the catalogue's values with the provider URLs."""
    values = offering_values(o, Urls(links.base))
    values["url"] = lambda: links.url("marketplace_provider_offerings_retrieve", uuid=o.uuid)
    values["plans"] = lambda: [
        render_public_plan(p, Urls(links.base), "BaseProviderPlan",
                           _provider_plan_values(p, counts, links))
        for p in o.plans]
    return _render("ProviderOfferingDetails", values)


def plugin(p: Plugin) -> dict[str, Any]:
    return render("PluginOfferingType", {
        "offering_type": p.offering_type,
        "components": [render("PluginComponent", {
            "type": c.type, "name": c.name, "measured_unit": c.measured_unit,
            "billing_type": c.billing_type}) for c in p.components],
        "available_limits": list(p.available_limits),
    })


def service_provider(sp: ServiceProvider, rules: Marketplace, links: Links) -> dict[str, Any]:
    cust = sp.customer
    return render("ServiceProvider", {
        "url": links.url("marketplace_service_providers_retrieve", uuid=sp.uuid),
        "uuid": sp.uuid,
        "created": dt(sp.created),
        "description": cust.description,
        "enable_notifications": True,
        "customer": links.url("customers_retrieve", uuid=cust.uuid),
        "customer_name": cust.name,
        "customer_uuid": cust.uuid,
        "customer_image": "",
        "customer_abbreviation": cust.abbreviation,
        "customer_slug": cust.slug,
        "customer_native_name": "",
        "customer_country": "",
        "image": None,
        "organization_groups": [],
        "offering_count": rules.service_provider_offering_count(sp),
        "allowed_domains": [],
        "account_options": {},
    })


def resource(r: Resource, user: User, links: Links, view: str = "consumer") -> dict[str, Any]:
    """Resource (error_traceback for staff/support). The provider view's `url` is the provider
    resource's own URL, so that it answers for whoever got it (the consumer URL would not)."""
    body = render_resource(r, user, links.base)
    if view == "provider" and "url" in body:
        body["url"] = links.url("marketplace_provider_resources_retrieve", uuid=r.uuid)
    return body
