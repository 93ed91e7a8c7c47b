"""Plain OPTIONS on order URLs: DRF's SimpleMetadata answer (a CORS preflight is another thing:
tests/test_control_cors.py)."""

from __future__ import annotations

from typing import Any

import pytest

from mockserver import metadata, spec

ORDERS = "/api/marketplace-orders/"
RENDERS = ["application/json", "text/html"]
PARSES = ["application/json", "application/x-www-form-urlencoded", "multipart/form-data"]


def options(api: Any, path: str, user: str | None = "staff") -> Any:
    return api.request("OPTIONS", path, user)


def test_collection_answers_order_list_with_the_create_fields(api: Any) -> None:
    r = options(api, ORDERS, "plain_user")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert r.headers["allow"] == "GET, POST, HEAD, OPTIONS"
    body = r.json()
    assert {k: body[k] for k in ("name", "description", "renders", "parses")} == {
        "name": "Order List", "description": "", "renders": RENDERS, "parses": PARSES}
    post = body["actions"]["POST"]
    assert list(body["actions"]) == ["POST"]
    # every writable field of the spec's create body, in its order, required as it says
    assert list(post) == list(spec.request_properties("marketplace_orders_create",
                                                      "application/json"))
    # hyperlinked relations are DRF's `field`; a URLField is `url`
    assert post["project"] == {"type": "field", "required": True, "read_only": False,
                               "label": "Project"}
    assert post["offering"]["type"] == post["plan"]["type"] == "field"
    assert post["plan"]["required"] is False
    assert post["limits"]["type"] == "nested object"
    assert post["limits"]["child"]["type"] == "integer"
    assert post["attributes"]["type"] == "field"
    assert post["request_comment"]["max_length"] == 255
    assert post["callback_url"]["type"] == "url" and post["callback_url"]["max_length"] == 200
    assert post["type"]["type"] == "choice"
    assert [c["value"] for c in post["type"]["choices"]] == list(spec.enum_values("RequestTypes"))
    assert post["accepting_terms_of_service"]["type"] == "boolean"
    assert post["start_date"]["type"] == "date"


def test_detail_lists_put_only_when_the_order_is_visible(api: Any) -> None:
    url = api.order_url("ord-pc-slurm")
    seen = options(api, url, "cons_owner")
    assert seen.status_code == 200
    body = seen.json()
    assert body["name"] == "Order Instance" and body["description"] == ""
    assert list(body["actions"]) == ["PUT"]
    assert set(body["actions"]["PUT"]) == set(spec.request_properties(
        "marketplace_orders_update", "application/json"))
    assert seen.headers["allow"] == "GET, PUT, PATCH, DELETE, OPTIONS"
    for user, path in (("plain_user", url), ("staff", f"{ORDERS}{'0' * 32}/"),
                       ("staff", f"{ORDERS}not-a-uuid/")):
        r = options(api, path, user)
        assert r.status_code == 200, (user, path)
        assert "actions" not in r.json()
        assert r.json()["name"] == "Order Instance"


def test_action_routes_name_the_action_for_any_order(api: Any) -> None:
    for path, name in ((api.order_url("ord-pc-slurm", "approve_by_consumer"),
                        "Approve by consumer"),
                       (f"{ORDERS}{'0' * 32}/set_state_erred/", "Set state erred"),
                       (f"{ORDERS}dashboard-my-orders/", "Dashboard my orders")):
        r = options(api, path, "plain_user")
        assert r.status_code == 200, path
        assert r.json()["name"] == name
    body = options(api, f"{ORDERS}{'0' * 32}/set_state_erred/").json()
    assert set(body["actions"]["POST"]) == {"error_message", "error_traceback"}
    assert options(api, f"{ORDERS}dashboard-my-orders/").headers["allow"] == "GET, HEAD, OPTIONS"
    assert "actions" not in options(api, f"{ORDERS}dashboard-my-orders/").json()


@pytest.mark.parametrize("path", [ORDERS, ORDERS + "{u}/", ORDERS + "{u}/cancel/"])
def test_without_a_token_it_is_401(api: Any, path: str) -> None:
    r = options(api, path.format(u=api.uuid("orders", "ord-pc-slurm")), None)
    assert r.status_code == 401
    assert r.json() == {"detail": "Authentication credentials were not provided."}
    assert r.headers["www-authenticate"] == "Token"
    r = api.request("OPTIONS", ORDERS, headers={"Authorization": "Token nope"})
    assert (r.status_code, r.json()) == (401, {"detail": "Invalid token."})


def test_query_token_and_unknown_paths(api: Any) -> None:
    token = api.token("staff")
    assert api.request("OPTIONS", f"{ORDERS}?x-auth-token={token}").status_code == 200
    r = options(api, "/api/nope/")
    assert r.status_code == 404 and r.json() == {"detail": "Not found."}


def test_every_spec_route_answers(api: Any) -> None:
    """Generic over the spec's paths: a route added to the contract is served at once."""
    hex_ = api.uuid("orders", "ord-pc-slurm")
    for path, item in spec.load_spec()["paths"].items():
        r = options(api, path.replace("{uuid}", hex_))
        assert r.status_code == 200, path
        declared = [m.upper() for m in item if m.upper() in metadata.METHOD_ORDER]
        assert set(r.headers["allow"].split(", ")) == {*declared, "OPTIONS"}, path


def test_405_allow_lists_options(api: Any) -> None:
    r = api.request("DELETE", ORDERS, "staff")
    assert r.status_code == 405 and r.headers["allow"] == "GET, POST, HEAD, OPTIONS"


def test_view_names_follow_drf() -> None:
    assert metadata.view_name("/api/customers/") == "Customer List"
    assert metadata.view_name("/api/customers/{uuid}/") == "Customer Instance"
    assert metadata.view_name("/api/marketplace-categories/") == "Category List"
    assert metadata.view_name("/api/customers/{uuid}/users/") == "Users"


def test_a_cors_preflight_is_still_answered_by_cors(api: Any) -> None:
    origin = "http://localhost:5173"
    pre = api.request("OPTIONS", ORDERS, headers={
        "Origin": origin, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization"})
    assert pre.status_code == 200  # no token needed, no metadata body
    assert pre.headers["access-control-allow-origin"] == "*"
    assert "POST" in pre.headers["access-control-allow-methods"]
    assert pre.text == "OK"
    plain = api.request("OPTIONS", ORDERS, "staff", headers={"Origin": origin})
    assert plain.json()["name"] == "Order List"
    assert plain.headers["access-control-allow-origin"] == "*"
