"""Connexion handlers of openapi/structure.yaml, one per operationId: request -> rules
(`models`) -> wire dicts (`serializers`) -> the shared list machinery (`mockserver.listing`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.responses import Response

from mockserver import spec
from mockserver.handlers import (
    Req,
    current_backend,
    current_user,
    dump_json,
    handler,
    json_body,
    json_response,
)
from mockserver.listing import (
    Filters,
    Ordering,
    list_response,
    lookup,
    object_response,
    rendered,
    text_key,
)
from mockserver.orders.fields import FieldErrors, body_dict, char_field
from mockserver.orders.rendercache import Entry
from mockserver.rendering import Links
from mockserver.structure import models, serializers

JSON = "application/json"
STATIC = 0  # the stamp of what never changes once a world is built (mockserver.memo)
Handler = Callable[..., Awaitable[Response]]

CUSTOMER_ORDERING = Ordering(
    keys={"name": lambda c: text_key(c.name), "abbreviation": lambda c: text_key(c.abbreviation),
          "created": lambda c: c.created, "native_name": lambda c: "",
          "registration_code": lambda c: "", "agreement_number": lambda c: "",
          "backend_id": lambda c: ""},
    default=("name",), strict=False, tiebreak=lambda c: c.uuid)
PROJECT_ORDERING = Ordering(
    keys={"name": lambda p: text_key(p.name), "created": lambda p: p.created,
          "customer_name": lambda p: text_key(p.customer.name),
          "customer_abbreviation": lambda p: text_key(p.customer.abbreviation),
          "start_date": lambda p: (p.start_date is None, p.start_date or 0),
          "end_date": lambda p: (p.end_date is None, p.end_date or 0)},
    default=("created",), strict=True, tiebreak=lambda p: p.uuid)
USER_ORDERING = Ordering(keys={"username": lambda u: u.username}, default=("username",),
                         tiebreak=lambda u: u.uuid)


# ---------------------------------------------------------------------------------------------
# Login


@handler
async def api_auth_password() -> Response:
    body = body_dict(await json_body(Req()))
    errors = FieldErrors()
    username = errors.check(char_field, body, "username", required=True)
    password = errors.check(char_field, body, "password", required=True, trim=False)
    errors.raise_if_any()
    assert username is not None and password is not None
    user = models.login(current_backend(), username, password)
    return json_response({"token": user.token})


# ---------------------------------------------------------------------------------------------
# Users


@handler
async def users_me_retrieve() -> Response:
    req = Req()
    user, backend = current_user(), current_backend()
    links = Links(req.base_url)
    return object_response(req, rendered(
        backend, ("User", user.uuid, "me", links.base), STATIC,
        lambda: serializers.user(backend, user, user, links, me=True)))


@handler
async def users_list() -> Response:
    req = Req()
    backend, user = current_backend(), current_user()
    items = (Filters(req.query)
             .exact("username", lambda u: u.username)
             .text("query", lambda u: u.full_name, lambda u: u.username, lambda u: u.email)
             .apply(models.visible_users(backend, user)))
    links = Links(req.base_url)
    return list_response(req, USER_ORDERING.apply(items, req.query),
                         lambda u: _user(backend, user, u, links))


users_count = users_list


@handler
async def users_retrieve(uuid: str) -> Response:
    req = Req()
    backend, user = current_backend(), current_user()
    other = lookup(backend.users, uuid, "User", lambda u: models.can_see_user(backend, user, u))
    return object_response(req, _user(backend, user, other, Links(req.base_url)))


def _user(backend: Any, viewer: Any, obj: Any, links: Links) -> Entry:
    return rendered(backend, ("User", obj.uuid, viewer is obj, links.base), STATIC,
                    lambda: serializers.user(backend, viewer, obj, links))


# ---------------------------------------------------------------------------------------------
# Organizations


@handler
async def customers_list() -> Response:
    req = Req()
    backend = current_backend()
    items = (Filters(req.query)
             .text("name", lambda c: c.name)
             .text("query", lambda c: c.name, lambda c: c.abbreviation, lambda c: c.uuid)
             .apply(models.visible_customers(backend, current_user())))
    links = Links(req.base_url)
    return list_response(req, CUSTOMER_ORDERING.apply(items, req.query),
                         lambda c: _customer(backend, c, links))


customers_count = customers_list


@handler
async def customers_retrieve(uuid: str) -> Response:
    req = Req()
    backend, user = current_backend(), current_user()
    obj = lookup(backend.customers, uuid, "Customer",
                 lambda c: models.can_see_customer(backend, user, c))
    return object_response(req, _customer(backend, obj, Links(req.base_url)))


def _customer(backend: Any, obj: Any, links: Links) -> Entry:
    return rendered(backend, ("Customer", obj.uuid, links.base), STATIC,
                    lambda: serializers.customer(backend, obj, links))


# ---------------------------------------------------------------------------------------------
# Projects


@handler
async def projects_list() -> Response:
    req = Req()
    backend = current_backend()
    items = (Filters(req.query)
             .uuids("customer", lambda p: p.customer.uuid, many=True)
             .uuids("customer_uuid", lambda p: p.customer.uuid)
             .text("name", lambda p: p.name)
             .text("query", lambda p: p.name, lambda p: p.uuid)
             .apply(models.visible_projects(backend, current_user())))
    links = Links(req.base_url)
    return list_response(req, PROJECT_ORDERING.apply(items, req.query),
                         lambda p: _project(backend, p, links))


projects_count = projects_list


@handler
async def projects_retrieve(uuid: str) -> Response:
    req = Req()
    backend, user = current_backend(), current_user()
    obj = lookup(backend.projects, uuid, "Project",
                 lambda p: models.can_see_project(backend, user, p))
    return object_response(req, _project(backend, obj, Links(req.base_url)))


def _project(backend: Any, obj: Any, links: Links) -> Entry:
    return rendered(backend, ("Project", obj.uuid, links.base), models.resources_stamp(backend),
                    lambda: serializers.project(backend, obj, links))


# ---------------------------------------------------------------------------------------------
# Boot: roles (anonymous), fixed answers, empty answers


@handler
async def roles_list() -> Response:
    req = Req()
    backend = current_backend()
    links = Links(req.base_url)
    return list_response(req, models.roles(), lambda r: _role(backend, r, links))


roles_count = roles_list


@handler
async def roles_retrieve(uuid: str) -> Response:
    req = Req()
    backend = current_backend()
    found = lookup({r.uuid: r for r in models.roles()}, uuid, "Role")
    return object_response(req, _role(backend, found, Links(req.base_url)))


def _role(backend: Any, obj: Any, links: Links) -> Entry:
    return rendered(backend, ("RoleDetails", obj.uuid), STATIC,
                    lambda: serializers.role(backend, obj, links))


def _example_answer(operation_id: str) -> Handler:
    """A fixed answer: the operation's example in the contract (configuration, version...)."""
    body = dump_json(spec.response_example(operation_id))

    async def answer() -> Response:
        return Response(body, media_type=JSON)

    answer.__name__ = answer.__qualname__ = operation_id
    return handler(answer)


configuration_retrieve = _example_answer("configuration_retrieve")
version_retrieve = _example_answer("version_retrieve")
health_check = _example_answer("health_check")


@handler
async def empty_list() -> Response:
    """The real server's answer when it has nothing: `[]`, `X-Result-Count: 0`, one page."""
    return list_response(Req(), [], dict)


# Lists the world does not model (docs/daily-use.md lists them): always empty.
identity_providers_list = identity_providers_count = empty_list


@handler
async def customer_credits_list() -> Response:
    """Always empty (the world models no credits), but its filter is checked as the server's."""
    req = Req()
    Filters(req.query).uuids("customer_uuid", lambda c: c).apply([])
    return list_response(req, [], dict)


customer_credits_count = customer_credits_list
marketplace_project_update_requests_list = marketplace_project_update_requests_count = empty_list
marketplace_checklists_list = marketplace_checklists_count = empty_list
marketplace_offering_permissions_list = marketplace_offering_permissions_count = empty_list
marketplace_robot_accounts_list = marketplace_robot_accounts_count = empty_list
