"""Connexion handlers of openapi/marketplace.yaml, one per operationId: request -> Marketplace
rules (models.py) -> serializer -> response. No rules here."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from starlette.responses import Response

from mockserver.auth import current_user
from mockserver.marketplace import serializers as ser
from mockserver.marketplace.models import Marketplace, for_backend
from mockserver.orders.responses import JSON, Req, handler, json_body, json_response
from mockserver.pagination import paginate
from mockserver.registry import current_backend


def _rules() -> Marketplace:
    return for_backend(current_backend())


def _listing(req: Req, items: Sequence[Any], render: Callable[[Any], Any]) -> Response:
    """One page (X-Result-Count, Link); HEAD: the headers only."""
    page = paginate(items, req.query, req.path_url, req.query_string)
    if req.scope["method"] == "HEAD":
        return Response(b"", headers=page.headers, media_type=JSON)
    return json_response([render(x) for x in page.items], headers=page.headers)


# -- categories -------------------------------------------------------------------------------
@handler
async def marketplace_categories_list() -> Response:
    req, user, rules = Req(), current_user(), _rules()
    items = rules.categories_list(user, req.multi())
    return _listing(req, items, lambda c: ser.render_category(c, user, rules, req.base_url,
                                                              req.fields))


marketplace_categories_count = marketplace_categories_list


@handler
async def marketplace_categories_retrieve(uuid: str) -> Response:
    req, user, rules = Req(), current_user(), _rules()
    category = rules.category(user, uuid)
    return json_response(ser.render_category(category, user, rules, req.base_url, req.fields))


@handler
async def marketplace_global_categories_retrieve() -> Response:
    req = Req()
    return json_response(_rules().global_categories(current_user(), req.multi()))


# -- public offerings and their plans ----------------------------------------------------------
@handler
async def marketplace_public_offerings_list() -> Response:
    req, user, rules = Req(), current_user(), _rules()
    items = rules.public_offerings(user, req.multi())
    return _listing(req, items, lambda o: ser.render_offering(o, user, req.base_url, req.fields))


marketplace_public_offerings_count = marketplace_public_offerings_list


@handler
async def marketplace_public_offerings_retrieve(uuid: str) -> Response:
    req, user = Req(), current_user()
    offering = _rules().public_offering(user, uuid)
    return json_response(ser.render_offering(offering, user, req.base_url, req.fields))


@handler
async def marketplace_public_offerings_plans_list(uuid: str) -> Response:
    req = Req()
    offering = _rules().public_offering(current_user(), uuid)
    return json_response([ser.render_public_offering_plan(p, req.base_url)
                          for p in offering.plans])


@handler
async def marketplace_public_offerings_plans_retrieve(uuid: str, plan_uuid: str) -> Response:
    req = Req()
    plan = _rules().public_plan(current_user(), uuid, plan_uuid)
    return json_response(ser.render_public_offering_plan(plan, req.base_url))


# -- provider side: plans, offerings, service providers -----------------------------------------
@handler
async def marketplace_plans_list() -> Response:
    req, user, rules = Req(), current_user(), _rules()
    items = rules.provider_plans(user, req.multi())
    return _listing(req, items, lambda p: ser.render_provider_plan(p, rules, req.base_url))


marketplace_plans_count = marketplace_plans_list


@handler
async def marketplace_plans_retrieve(uuid: str) -> Response:
    req, rules = Req(), _rules()
    plan = rules.provider_plan(current_user(), uuid)
    return json_response(ser.render_provider_plan(plan, rules, req.base_url))


@handler
async def marketplace_plugins_list() -> Response:
    return json_response([ser.render_plugin(p) for p in _rules().plugins()])


@handler
async def marketplace_provider_offerings_list() -> Response:
    req, user, rules = Req(), current_user(), _rules()
    items = rules.provider_offerings(user, req.multi())
    return _listing(req, items, lambda o: ser.render_provider_offering(o, rules, req.base_url,
                                                                       req.fields))


marketplace_provider_offerings_count = marketplace_provider_offerings_list


@handler
async def marketplace_provider_offerings_retrieve(uuid: str) -> Response:
    req, rules = Req(), _rules()
    offering = rules.provider_offering(current_user(), uuid)
    return json_response(ser.render_provider_offering(offering, rules, req.base_url, req.fields))


@handler
async def marketplace_service_providers_list() -> Response:
    req, user, rules = Req(), current_user(), _rules()
    items = rules.service_providers_list(user, req.multi())
    return _listing(req, items, lambda sp: ser.render_service_provider(sp, rules, req.base_url,
                                                                       req.fields))


marketplace_service_providers_count = marketplace_service_providers_list


@handler
async def marketplace_service_providers_retrieve(uuid: str) -> Response:
    req, rules = Req(), _rules()
    sp = rules.service_provider(current_user(), uuid)
    return json_response(ser.render_service_provider(sp, rules, req.base_url, req.fields))


@handler
async def marketplace_service_providers_keys_list(service_provider_uuid: str) -> Response:
    """The world has no SSH keys: the provider's keys are an empty list."""
    req = Req()
    _rules().service_provider(current_user(), service_provider_uuid)
    return _listing(req, [], lambda k: k)


# -- resources ----------------------------------------------------------------------------------
def _resources(view: str) -> Response:
    req, user = Req(), current_user()
    items = _rules().resources_list(user, req.multi(), view)
    return _listing(req, items, lambda r: ser.render_marketplace_resource(
        r, user, req.base_url, req.fields))


def _resource(uuid: str, view: str) -> Response:
    req, user = Req(), current_user()
    resource = _rules().resource(user, uuid, view)
    return json_response(ser.render_marketplace_resource(resource, user, req.base_url,
                                                         req.fields))


@handler
async def marketplace_resources_list() -> Response:
    return _resources("consumer")


marketplace_resources_count = marketplace_resources_list


@handler
async def marketplace_resources_retrieve(uuid: str) -> Response:
    return _resource(uuid, "consumer")


@handler
async def marketplace_resources_offering_retrieve(uuid: str) -> Response:
    req, user = Req(), current_user()
    resource = _rules().resource(user, uuid, "consumer")
    return json_response(ser.render_offering(resource.offering, user, req.base_url, req.fields))


@handler
async def marketplace_resources_suggest_name() -> Response:
    req = Req()
    name = _rules().suggest_name(current_user(), await json_body(req))
    return json_response({"name": name})


@handler
async def marketplace_provider_resources_list() -> Response:
    return _resources("provider")


marketplace_provider_resources_count = marketplace_provider_resources_list


@handler
async def marketplace_provider_resources_retrieve(uuid: str) -> Response:
    return _resource(uuid, "provider")
