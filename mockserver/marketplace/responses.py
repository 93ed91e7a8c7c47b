"""Connexion handlers of openapi/marketplace.yaml, one per operationId: request -> Marketplace
rules (models.py) -> serializer -> response, through the shared list machinery (listing.py).
No rules here."""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Mapping
from typing import Any

from starlette.responses import Response

from mockserver.handlers import Req, current_backend, current_user, handler, json_body
from mockserver.handlers import json_response as json
from mockserver.listing import list_response, memo, object_response, rendered
from mockserver.marketplace import serializers as ser
from mockserver.marketplace.models import Marketplace, for_backend
from mockserver.orders.entities import Category, Offering, Resource, User
from mockserver.orders.rendercache import Entry
from mockserver.rendering import Links

STATIC = 0  # the stamp of what never changes once a world is built (listing.memo)


def _rules() -> Marketplace:
    return for_backend(current_backend())


# Rendered objects are remembered per world (listing.rendered): encoded and validated once per
# stamp, as the orders' render cache does.
def _offering(o: Offering, user: User, links: Links) -> Entry:
    """The catalogue never changes at run time."""
    return rendered(current_backend(), ("PublicOfferingDetails", o.uuid, links.base), STATIC,
                    lambda: ser.offering(o, user, links))


def _plan_counts(rules: Marketplace) -> Mapping[str, int]:
    """Resources per plan, recounted when a resource is added or an order changes (resource
    states follow the orders)."""
    backend = current_backend()
    return memo(backend, "plan_resource_counts", (len(backend.resources), backend.index.version),
                rules.plan_resource_counts)


def _provider_offering(o: Offering, counts: Mapping[str, int], links: Links) -> Entry:
    """Changes only with its plans' resource counts."""
    return rendered(current_backend(), ("ProviderOfferingDetails", o.uuid, links.base),
                    tuple(counts.get(p.uuid, 0) for p in o.plans),
                    lambda: ser.provider_offering(o, counts, links))


# Every field of a resource: a value added to the entity later (by any area) is in the stamp too.
RESOURCE_FIELDS = tuple(f.name for f in dataclasses.fields(Resource))


# The container fields (a dict or list by default) are copied into the stamp; the others are
# compared as they are. Two C calls and a short comprehension: ~4x cheaper than a Python loop
# over every field.
_CONTAINER_FIELDS = tuple(f.name for f in dataclasses.fields(Resource)
                          if f.default_factory in (dict, list))
_PLAIN_VALUES = operator.attrgetter(*(n for n in RESOURCE_FIELDS if n not in _CONTAINER_FIELDS))
_CONTAINER_VALUES = operator.attrgetter(*_CONTAINER_FIELDS)


def resource_stamp(r: Resource) -> tuple[Any, ...]:
    """The resource's current values (compared with ==; containers copied, so that a change in
    place is seen too): its rendering is remembered until one of them changes."""
    containers = _CONTAINER_VALUES(r)
    try:
        copies = tuple(map(dict.copy, containers))  # all dicts, as declared: in C
    except TypeError:  # one is not a dict: the same snapshot, the slow way
        copies = tuple([dict(v) if isinstance(v, dict) else list(v) if isinstance(v, list)
                        else v for v in containers])
    return (_PLAIN_VALUES(r), copies)


def _resource(r: Resource, user: User, links: Links, view: str) -> Entry:
    privileged = user.is_staff or user.is_support  # error_traceback or not
    return rendered(current_backend(), ("Resource", r.uuid, links.base, view, privileged),
                    resource_stamp(r), lambda: ser.resource(r, user, links, view))


# -- categories -------------------------------------------------------------------------------
@handler
async def marketplace_categories_list() -> Response:
    req, user, rules = Req(), current_user(), _rules()
    links = Links(req.base_url)
    return list_response(req, rules.categories_list(user, req.query),
                         lambda c: _category(c, user, rules, links))


def _category(c: Category, user: User, rules: Marketplace, links: Links) -> Entry:
    """Its offering counts are the viewer's: the catalogue and the permissions never change at
    run time, so once per category, base URL and viewer."""
    return rendered(current_backend(), ("MarketplaceCategory", c.uuid, links.base, user.uuid),
                    STATIC, lambda: ser.category(c, user, rules, links))


marketplace_categories_count = marketplace_categories_list


@handler
async def marketplace_categories_retrieve(uuid: str) -> Response:
    req, user, rules = Req(), current_user(), _rules()
    return object_response(req, _category(rules.category(user, uuid), user, rules,
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
                         lambda o: _offering(o, user, links))


marketplace_public_offerings_count = marketplace_public_offerings_list


@handler
async def marketplace_public_offerings_retrieve(uuid: str) -> Response:
    req, user = Req(), current_user()
    offering = _rules().public_offering(user, uuid)
    return object_response(req, _offering(offering, user, Links(req.base_url)))


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
    counts = _plan_counts(rules)
    return list_response(req, rules.provider_plans(current_user(), req.query),
                         lambda p: ser.provider_plan(p, counts, links))


marketplace_plans_count = marketplace_plans_list


@handler
async def marketplace_plans_retrieve(uuid: str) -> Response:
    req, rules = Req(), _rules()
    plan = rules.provider_plan(current_user(), uuid)
    return json(ser.provider_plan(plan, _plan_counts(rules), Links(req.base_url)))


@handler
async def marketplace_provider_offerings_list() -> Response:
    req, rules = Req(), _rules()
    links = Links(req.base_url)
    counts = _plan_counts(rules)
    return list_response(req, rules.provider_offerings(current_user(), req.query),
                         lambda o: _provider_offering(o, counts, links))


marketplace_provider_offerings_count = marketplace_provider_offerings_list


@handler
async def marketplace_provider_offerings_retrieve(uuid: str) -> Response:
    req, rules = Req(), _rules()
    offering = rules.provider_offering(current_user(), uuid)
    return object_response(req, _provider_offering(offering, _plan_counts(rules),
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
                         lambda r: _resource(r, user, links, view))


def _one_resource(uuid: str, view: str) -> Response:
    req, user = Req(), current_user()
    resource = _rules().resource(user, uuid, view)
    return object_response(req, _resource(resource, user, Links(req.base_url), view))


@handler
async def marketplace_resources_list() -> Response:
    return _resources("consumer")


marketplace_resources_count = marketplace_resources_list


@handler
async def marketplace_resources_retrieve(uuid: str) -> Response:
    return _one_resource(uuid, "consumer")


@handler
async def marketplace_resources_offering_retrieve(uuid: str) -> Response:
    req, user = Req(), current_user()
    resource = _rules().resource(user, uuid, "consumer")
    return object_response(req, _offering(resource.offering, user, Links(req.base_url)))


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
    return _one_resource(uuid, "provider")
