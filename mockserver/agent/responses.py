"""Connexion handlers of openapi/site-agent.yaml, one per operationId: request -> rules in
mockserver/agent/models.py -> wire dicts of mockserver/agent/serializers.py."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from starlette.responses import Response

from mockserver import metadata
from mockserver.agent import models
from mockserver.agent import serializers as ser
from mockserver.auth import current_user
from mockserver.listing import list_response, object_response
from mockserver.orders.responses import (
    Req,
    empty_response,
    handler,
    json_body,
    json_response,
)
from mockserver.registry import current_backend


def _page(req: Req, items: Sequence[Any], render: Callable[[Any], Any]) -> Response:
    return list_response(req, items, render)


# OPTIONS lists PUT on an identity only when the caller sees it (DRF's get_object)
metadata.OBJECT_LOOKUPS["/api/marketplace-site-agent-identities/"] = models.get_identity


# -- agent identities, services, processors ----------------------------------------------------


@handler
async def marketplace_site_agent_identities_list() -> Response:
    req, backend = Req(), current_backend()
    items = models.list_identities(backend, current_user(), req.multi())
    base, fields = req.base_url, req.fields
    return _page(req, items, lambda i: ser.render_identity(backend, i, base, fields))


@handler
async def marketplace_site_agent_identities_create() -> Response:
    req, backend = Req(), current_backend()
    identity = models.create_identity(backend, current_user(), await json_body(req))
    body = ser.render_identity(backend, identity, req.base_url)
    return json_response(body, 201, {"Location": body["url"]})


@handler
async def marketplace_site_agent_identities_retrieve(uuid: str) -> Response:
    req, backend = Req(), current_backend()
    identity = models.get_identity(backend, current_user(), uuid)
    return json_response(ser.render_identity(backend, identity, req.base_url, req.fields))


@handler
async def marketplace_site_agent_identities_update(uuid: str) -> Response:
    req, backend = Req(), current_backend()
    identity = models.update_identity(backend, current_user(), uuid, await json_body(req))
    return json_response(ser.render_identity(backend, identity, req.base_url))


@handler
async def marketplace_site_agent_identities_register_service(uuid: str) -> Response:
    req, backend = Req(), current_backend()
    service, created = models.register_service(backend, current_user(), uuid,
                                                await json_body(req))
    return json_response(ser.render_service(backend, service, req.base_url),
                         201 if created else 200)


@handler
async def marketplace_site_agent_services_register_processor(uuid: str) -> Response:
    req, backend = Req(), current_backend()
    processor, created = models.register_processor(backend, current_user(), uuid,
                                                   await json_body(req))
    return json_response(ser.render_processor(backend, processor, req.base_url),
                         201 if created else 200)


@handler
async def marketplace_site_agent_services_retrieve(uuid: str) -> Response:
    req, backend = Req(), current_backend()
    service = models.get_service(backend, current_user(), uuid)
    return object_response(req, ser.render_service(backend, service, req.base_url))


@handler
async def marketplace_site_agent_processors_retrieve(uuid: str) -> Response:
    req, backend = Req(), current_backend()
    processor = models.get_processor(backend, current_user(), uuid)
    return object_response(req, ser.render_processor(backend, processor, req.base_url))


# -- provider-resource actions -------------------------------------------------------------


def _with_body(rule: Callable[..., dict[str, Any]]) -> Callable[..., Any]:
    @handler
    async def run(uuid: str, **_kwargs: Any) -> Response:
        body = await json_body(Req())
        return json_response(rule(current_backend(), current_user(), uuid, body))

    return run


def _without_body(rule: Callable[..., dict[str, Any]]) -> Callable[..., Any]:
    @handler
    async def run(uuid: str, **_kwargs: Any) -> Response:
        return json_response(rule(current_backend(), current_user(), uuid))

    return run


marketplace_provider_resources_set_backend_id = _with_body(models.set_backend_id)
marketplace_provider_resources_set_limits = _with_body(models.set_limits)
marketplace_provider_resources_set_backend_metadata = _with_body(models.set_backend_metadata)
marketplace_provider_resources_set_as_erred = _with_body(models.set_as_erred)
marketplace_provider_resources_set_membership_sync_statuses = _with_body(
    models.set_membership_sync_statuses)
marketplace_provider_resources_refresh_last_sync = _without_body(models.refresh_last_sync)
marketplace_provider_resources_set_as_ok = _without_body(models.set_as_ok)


@handler
async def marketplace_provider_resources_team_list(uuid: str) -> Response:
    req = Req()
    members = models.team(current_backend(), current_user(), uuid)
    return json_response([ser.render_team_member(m, role, ou, req.base_url)
                          for m, role, ou in members])


# -- provider offerings: the agent's extra reads ---------------------------------------------


@handler
async def marketplace_provider_offerings_user_attribute_config_retrieve(uuid: str) -> Response:
    offering = models.provider_offering(current_backend(), current_user(), uuid)
    return json_response(ser.render_attribute_config(offering))


@handler
async def marketplace_provider_offerings_list_project_service_accounts_list(uuid: str
                                                                            ) -> Response:
    models.provider_offering(current_backend(), current_user(), uuid)
    return _page(Req(), [], lambda x: x)


@handler
async def marketplace_provider_offerings_list_course_accounts_list(uuid: str) -> Response:
    models.provider_offering(current_backend(), current_user(), uuid)
    return _page(Req(), [], lambda x: x)


# -- offering users ------------------------------------------------------------------------


@handler
async def marketplace_offering_users_list() -> Response:
    req, backend = Req(), current_backend()
    items = models.list_offering_users(backend, current_user(), req.multi())
    base, fields = req.base_url, req.fields
    return _page(req, items, lambda ou: ser.render_offering_user(backend, ou, base, fields))


@handler
async def marketplace_offering_users_retrieve(uuid: str) -> Response:
    req, backend = Req(), current_backend()
    ou = models.get_offering_user(backend, current_user(), uuid)
    return object_response(req, ser.render_offering_user(backend, ou, req.base_url))


# -- component usages ------------------------------------------------------------------------


@handler
async def marketplace_component_usages_list() -> Response:
    req, backend = Req(), current_backend()
    items = models.list_usages(backend, current_user(), req.multi())
    fields = req.fields
    return _page(req, items, lambda u: ser.render_usage(backend, u, fields))


@handler
async def marketplace_component_usages_retrieve(uuid: str) -> Response:
    req, backend = Req(), current_backend()
    usage = models.get_usage(backend, current_user(), uuid)
    return json_response(ser.render_usage(backend, usage, req.fields))


@handler
async def marketplace_component_usages_set_usage() -> Response:
    req = Req()
    models.set_usage(current_backend(), current_user(), await json_body(req))
    return empty_response(201)


@handler
async def marketplace_component_usages_set_user_usages(uuid: str) -> Response:
    req = Req()
    models.set_user_usages(current_backend(), current_user(), uuid, await json_body(req))
    return empty_response(201)


@handler
async def marketplace_component_user_usages_list() -> Response:
    req, backend = Req(), current_backend()
    items = models.list_user_usages(backend, current_user(), req.multi())
    base, fields = req.base_url, req.fields
    return _page(req, items,
                 lambda pair: ser.render_user_usage(backend, pair[0], pair[1], base, fields))


@handler
async def component_user_usage_limits_list() -> Response:
    current_user()
    return _page(Req(), [], lambda x: x)
