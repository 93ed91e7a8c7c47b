"""Connexion handlers of openapi/marketplace.yaml, one per operationId: request -> Marketplace
rules (models.py) -> serializer -> response, through the shared list machinery (listing.py).
No rules here."""

from __future__ import annotations

from starlette.responses import Response

from mockserver.handlers import Req, current_backend, current_user, handler, json_body
from mockserver.handlers import json_response as json
from mockserver.listing import list_response, object_response
from mockserver.marketplace import serializers as ser
from mockserver.marketplace.models import Marketplace, for_backend
from mockserver.rendering import Links


def _rules() -> Marketplace:
    return for_backend(current_backend())


# -- categories -------------------------------------------------------------------------------
@handler
async def marketplace_categories_list() -> Response:
    req, user, rules = Req(), current_user(), _rules()
    links = Links(req.base_url)
    return list_response(req, rules.categories_list(user, req.query),
                         lambda c: ser.category(c, user, rules, links))


marketplace_categories_count = marketplace_categories_list


@handler
async def marketplace_categories_retrieve(uuid: str) -> Response:
    req, user, rules = Req(), current_user(), _rules()
    return object_response(req, ser.category(rules.category(user, uuid), user, rules,
                                             Links(req.base_url)))


@handler
async def marketplace_global_categories_retrieve() -> Response:
    req = Req()
    return json(_rules().global_categories(current_user(), req.query))


# -- public offerings and their plans ----------------------------------------------------------
@handler
async def marketplace_public_offerings_list() -> Response:
    req, user = Req(), current_user()
    links = Links(req.base_url)
    return list_response(req, _rules().public_offerings(user, req.query),
                         lambda o: ser.offering(o, user, links))


marketplace_public_offerings_count = marketplace_public_offerings_list


@handler
async def marketplace_public_offerings_retrieve(uuid: str) -> Response:
    req, user = Req(), current_user()
    offering = _rules().public_offering(user, uuid)
    return object_response(req, ser.offering(offering, user, Links(req.base_url)))


@handler
async def marketplace_public_offerings_plans_list(uuid: str) -> Response:
    req = Req()
    offering = _rules().public_offering(current_user(), uuid)
    links = Links(req.base_url)
    return json([ser.public_plan(p, links) for p in offering.plans])


@handler
async def marketplace_public_offerings_plans_retrieve(uuid: str, plan_uuid: str) -> Response:
    req = Req()
    plan = _rules().public_plan(current_user(), uuid, plan_uuid)
    return json(ser.public_plan(plan, Links(req.base_url)))


@handler
async def marketplace_plugins_list() -> Response:
    return json([ser.plugin(p) for p in _rules().plugins()])


# -- provider side: plans, offerings, service providers -----------------------------------------
@handler
async def marketplace_plans_list() -> Response:
    req, rules = Req(), _rules()
    links = Links(req.base_url)
    counts = rules.plan_resource_counts()
    return list_response(req, rules.provider_plans(current_user(), req.query),
                         lambda p: ser.provider_plan(p, counts, links))


marketplace_plans_count = marketplace_plans_list


@handler
async def marketplace_plans_retrieve(uuid: str) -> Response:
    req, rules = Req(), _rules()
    plan = rules.provider_plan(current_user(), uuid)
    return json(ser.provider_plan(plan, rules.plan_resource_counts(), Links(req.base_url)))


@handler
async def marketplace_provider_offerings_list() -> Response:
    req, rules = Req(), _rules()
    links = Links(req.base_url)
    counts = rules.plan_resource_counts()
    return list_response(req, rules.provider_offerings(current_user(), req.query),
                         lambda o: ser.provider_offering(o, counts, links))


marketplace_provider_offerings_count = marketplace_provider_offerings_list


@handler
async def marketplace_provider_offerings_retrieve(uuid: str) -> Response:
    req, rules = Req(), _rules()
    offering = rules.provider_offering(current_user(), uuid)
    return object_response(req, ser.provider_offering(offering, rules.plan_resource_counts(),
                                                      Links(req.base_url)))


@handler
async def marketplace_service_providers_list() -> Response:
    req, rules = Req(), _rules()
    links = Links(req.base_url)
    return list_response(req, rules.service_providers_list(current_user(), req.query),
                         lambda sp: ser.service_provider(sp, rules, links))


marketplace_service_providers_count = marketplace_service_providers_list


@handler
async def marketplace_service_providers_retrieve(uuid: str) -> Response:
    req, rules = Req(), _rules()
    sp = rules.service_provider(current_user(), uuid)
    return object_response(req, ser.service_provider(sp, rules, Links(req.base_url)))


@handler
async def marketplace_service_providers_keys_list(service_provider_uuid: str) -> Response:
    """The world has no SSH keys: the provider's keys are an empty list."""
    req = Req()
    _rules().service_provider(current_user(), service_provider_uuid)
    return list_response(req, [], lambda key: key)


# -- resources ----------------------------------------------------------------------------------
def _resources(view: str) -> Response:
    req, user = Req(), current_user()
    links = Links(req.base_url)
    return list_response(req, _rules().resources_list(user, req.query, view),
                         lambda r: ser.resource(r, user, links, view))


def _resource(uuid: str, view: str) -> Response:
    req, user = Req(), current_user()
    resource = _rules().resource(user, uuid, view)
    return object_response(req, ser.resource(resource, user, Links(req.base_url), view))


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
    return object_response(req, ser.offering(resource.offering, user, Links(req.base_url)))


@handler
async def marketplace_resources_suggest_name() -> Response:
    req = Req()
    name = _rules().suggest_name(current_user(), await json_body(req))
    return json({"name": name})


@handler
async def marketplace_provider_resources_list() -> Response:
    return _resources("provider")


marketplace_provider_resources_count = marketplace_provider_resources_list


@handler
async def marketplace_provider_resources_retrieve(uuid: str) -> Response:
    return _resource(uuid, "provider")
