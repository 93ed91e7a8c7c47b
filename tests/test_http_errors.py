"""Formats (§8), create errors, bad input (never a 500, never HTML, state untouched), routing
errors (404 / 405 / 301), attachments."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.conftest import BASE, ORDERS, Api

HEX = re.compile(r"^[0-9a-f]{32}$")
DT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$")


def dashed(hex_: str) -> str:
    return f"{hex_[:8]}-{hex_[8:12]}-{hex_[12:16]}-{hex_[16:20]}-{hex_[20:]}"


# -- formats ---------------------------------------------------------------------------------


def test_wire_formats(api: Api) -> None:
    o = api.order("ord-done-slurm")
    for key in ("uuid", "offering_uuid", "provider_uuid", "category_uuid", "customer_uuid",
                "project_uuid", "marketplace_resource_uuid", "plan_uuid"):
        assert HEX.match(o[key]), (key, o[key])
    for key in ("created", "modified", "consumer_reviewed_at", "provider_reviewed_at"):
        assert DT.match(o[key]), (key, o[key])
    assert re.match(r"^\d+\.\d{10}$", o["cost"])
    assert o["offering"] == f"{BASE}/api/marketplace-public-offerings/{o['offering_uuid']}/"
    assert o["plan"] == f"{o['offering']}plans/{o['plan_uuid']}/"
    assert o["backend_id"] == "slurm-acc-001"
    assert o["resource_uuid"] is None and o["resource_type"] is None or o["resource_type"]


def test_absolute_urls_follow_the_host(api: Api) -> None:
    r = api.get(api.order_url("ord-pc-slurm"), "staff",
                headers={"Host": "waldur.example.org:8443"})
    assert r.json()["offering"].startswith("http://waldur.example.org:8443/api/")
    r = api.get(ORDERS + "?page_size=2", "staff", headers={"Host": "h.example"})
    assert r.headers["link"].startswith('<http://h.example/api/marketplace-orders/?page_size=2>')


def test_dashed_uuid_in_path(api: Api) -> None:
    hex_ = api.uuid("orders", "ord-pc-slurm")
    r = api.get(f"{ORDERS}{dashed(hex_)}/", "staff")
    assert r.status_code == 200 and r.json()["uuid"] == hex_
    r = api.post(f"{ORDERS}{dashed(hex_)}/approve_by_consumer/", "cons_owner")
    assert r.status_code == 200


@pytest.mark.parametrize("bad", ["not-a-uuid", "1234", "g" * 32, "%20"])
def test_malformed_uuid_is_404(api: Api, bad: str) -> None:
    """Looked up like any uuid (seen on a real server; tests/test_http_real_server_facts.py)."""
    r = api.get(f"{ORDERS}{bad}/", "staff")
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/json"
    assert r.json() == {"detail": "No Order matches the given query."}
    r = api.post(f"{ORDERS}{bad}/approve_by_consumer/", "staff")
    assert r.status_code == 404


def test_control_character_in_the_path_matches_no_route(api: Api) -> None:
    r = api.get(f"{ORDERS}a%0Ab/", "staff")
    assert (r.status_code, r.json()) == (404, {"detail": "Not found."})


def test_unknown_uuid_is_404(api: Api) -> None:
    r = api.get(f"{ORDERS}{'0' * 32}/", "staff")
    assert r.status_code == 404
    assert r.json() == {"detail": "No Order matches the given query."}


# -- routing errors ----------------------------------------------------------------------------


def test_unknown_route_404_json(api: Api) -> None:
    for path in ("/api/nope/", "/", "/api/marketplace-orders/x/y/z/"):
        r = api.get(path, "staff")
        assert r.status_code == 404
        assert r.json() == {"detail": "Not found."}


@pytest.mark.parametrize(("method", "path", "allow"), [
    # DRF lists OPTIONS on every route (APIView.options; tests/test_http_options.py)
    ("PUT", ORDERS, "GET, POST, HEAD, OPTIONS"),
    ("DELETE", ORDERS, "GET, POST, HEAD, OPTIONS"),
    ("GET", ORDERS + "{u}/approve_by_consumer/", "POST, OPTIONS"),
    ("POST", ORDERS + "{u}/", "GET, PUT, PATCH, DELETE, OPTIONS"),
    ("TRACE", ORDERS, "GET, POST, HEAD, OPTIONS"),
    # a static path wins over {uuid}/ (DRF registers the list action first)
    ("DELETE", ORDERS + "dashboard-my-orders/", "GET, HEAD, OPTIONS"),
    ("PATCH", ORDERS + "dashboard-my-orders/", "GET, HEAD, OPTIONS"),
])
def test_405_with_allow(api: Api, method: str, path: str, allow: str) -> None:
    r = api.request(method, path.format(u=api.uuid("orders", "ord-pc-slurm")), "staff")
    assert r.status_code == 405
    assert r.json() == {"detail": f'Method "{method}" not allowed.'}
    assert r.headers["allow"] == allow


def test_405_on_static_path_needs_auth_first(api: Api) -> None:
    r = api.request("DELETE", ORDERS + "dashboard-my-orders/")
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Token"


def test_missing_trailing_slash_301(api: Api) -> None:
    hex_ = api.uuid("orders", "ord-pc-slurm")
    r = api.get(f"{ORDERS}{hex_}?field=state", "staff", follow_redirects=False)
    assert r.status_code == 301
    assert r.headers["location"] == f"{ORDERS}{hex_}/?field=state"
    r = api.post(ORDERS.rstrip("/"), "staff", json={}, follow_redirects=False)
    assert r.status_code == 301 and r.headers["location"] == ORDERS


# -- create errors ------------------------------------------------------------------------------


def base_body(api: Api, offering: str = "basic") -> dict[str, Any]:
    off = api.url("offerings", offering)
    plan = api.backend.offerings[api.uuid("offerings", offering)].plans[0].uuid
    return {"project": api.url("projects", "consumer-main"), "offering": off,
            "plan": f"{off}plans/{plan}/", "attributes": {"name": "x"}}


@pytest.mark.parametrize(("change", "errors"), [
    ({"project": None}, {"project": ["This field may not be null."]}),
    ({"offering": 5}, {"offering": ["Incorrect type. Expected URL string, received int."]}),
    ({"offering": "a1b2c3d4e5f67890abcdef1234567890"},
     {"offering": ["Invalid hyperlink - No URL match."]}),
    ({"offering": f"{BASE}/api/marketplace-public-offerings/{'0' * 32}/"},
     {"offering": ["Invalid hyperlink - Object does not exist."]}),
    ({"project": f"{BASE}/api/customers/{'0' * 32}/"},
     {"project": ["Invalid hyperlink - Incorrect URL match."]}),
    ({"limits": {"gpu": 1}}, {"limits": ["Invalid types: gpu"]}),
    ({"attributes": None}, {"non_field_errors": ["No data provided"]}),
])
def test_create_field_errors(api: Api, change: dict[str, Any], errors: dict[str, Any]) -> None:
    before = api.head(ORDERS, "staff").headers["x-result-count"]
    body = {**base_body(api), **change}
    r = api.post(ORDERS, "cons_owner", json=body)
    assert r.status_code == 400, r.text
    assert r.json() == errors
    assert api.head(ORDERS, "staff").headers["x-result-count"] == before


def test_create_required_fields(api: Api) -> None:
    r = api.post(ORDERS, "cons_owner", json={})
    assert r.status_code == 400
    assert r.json() == {"project": ["This field is required."],
                        "offering": ["This field is required."]}


def test_create_terms_of_service(api: Api) -> None:
    body = base_body(api, "basic-tos")
    r = api.post(ORDERS, "cons_owner", json=body)
    assert r.status_code == 400
    assert r.json() == {"non_field_errors": [
        "Terms of service for offering 'Licensed Basic offering' have not been accepted."]}
    r = api.post(ORDERS, "cons_owner", json={**body, "accepting_terms_of_service": True})
    assert r.status_code == 201
    assert "accepting_terms_of_service" not in r.json()


# -- bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("content", "ctype", "status", "body"), [
    (b"{bad", "application/json", 400,
     {"detail": "JSON parse error - Expecting property name enclosed in double quotes: "
                "line 1 column 2 (char 1)"}),
    (b"\xff\xfe{}", "application/json", 400,
     {"detail": "JSON parse error - 'utf-8' codec can't decode byte 0xff in position 0: "
                "invalid start byte"}),
    (b'{"backend_id": NaN}', "application/json", 400,
     {"detail": "JSON parse error - Out of range float values are not JSON compliant: 'NaN'"}),
    (b"backend_id=x", "text/plain", 415,
     {"detail": 'Unsupported media type "text/plain" in request.'}),
    (b"[1, 2]", "application/json", 400,
     {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}),
    # JSON null is a body (once answered by nobody: the handler waited for a second read)
    (b"null", "application/json", 400, {"backend_id": ["This field is required."]}),
    (b"", "application/json", 400, {"backend_id": ["This field is required."]}),
])
def test_bad_bodies(api: Api, content: bytes, ctype: str, status: int, body: Any) -> None:
    r = api.action("ord-exec-slurm", "set_backend_id", "prov_owner", content=content,
                   headers={"Content-Type": ctype})
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/json"
    assert r.json() == body
    assert api.order("ord-exec-slurm")["backend_id"] == ""


def test_bad_body_on_create(api: Api) -> None:
    r = api.post(ORDERS, "cons_owner", content=b'{"project": ', headers={
        "Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["detail"].startswith("JSON parse error - ")


def test_huge_body_rejected(api: Api) -> None:
    limit = api.app.settings.max_body_bytes
    payload = b'{"backend_id": "' + b"x" * (limit + 10) + b'"}'
    r = api.action("ord-exec-slurm", "set_backend_id", "prov_owner", content=payload,
                   headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    assert r.json() == {"detail": "Request body is too large."}
    assert api.order("ord-exec-slurm")["backend_id"] == ""


# -- attachments ----------------------------------------------------------------------------------


def test_attachment_round_trip(api: Api) -> None:
    url = api.order_url("ord-pc-basic", "update_attachment")
    pdf = b"%PDF-1.4\n" + bytes(range(256)) * 10
    r = api.post(url, "proj_admin", files={"attachment": ("po-42.pdf", pdf, "application/pdf")})
    assert r.status_code == 200, r.text
    link = r.json()["attachment"]
    assert link.startswith(f"{BASE}/media/") and link.endswith("/po-42.pdf")
    assert api.order("ord-pc-basic")["attachment"] == link
    got = api.get(link.removeprefix(BASE))
    assert got.status_code == 200 and got.content == pdf
    assert got.headers["content-type"] == "application/pdf"
    # JSON {} keeps the file (DRF saves the instance unchanged)
    r = api.post(url, "proj_admin", json={})
    assert r.status_code == 200 and r.json() == {"attachment": link}
    r = api.post(api.order_url("ord-pc-basic", "delete_attachment"), "proj_admin")
    assert r.status_code == 204 and r.content == b""
    assert api.order("ord-pc-basic")["attachment"] is None
    assert api.get(link.removeprefix(BASE)).status_code == 404


def test_attachment_size_cap(api: Api) -> None:
    cap = api.app.settings.max_attachment_bytes
    url = api.order_url("ord-pc-basic", "update_attachment")
    r = api.post(url, "proj_admin",
                 files={"attachment": ("big.bin", b"x" * (cap + 1), "application/octet-stream")})
    assert r.status_code == 400
    assert list(r.json()) == ["attachment"]
    assert api.order("ord-pc-basic")["attachment"] is None


def test_attachment_state_and_permission(api: Api) -> None:
    files = {"attachment": ("a.pdf", b"%PDF", "application/pdf")}
    r = api.post(api.order_url("ord-done-basic", "update_attachment"), "staff", files=files)
    assert r.status_code == 409
    r = api.post(api.order_url("ord-pc-basic", "update_attachment"), "plain_user", files=files)
    assert r.status_code == 404
    r = api.post(api.order_url("ord-pc-basic", "update_attachment"), "prov_owner", files=files)
    assert r.status_code == 403


def test_update_and_partial_update(api: Api) -> None:
    url = api.order_url("ord-pc-basic")
    r = api.request("PATCH", url, "staff", json={"attributes": {"name": "renamed"}})
    assert r.status_code == 200
    assert r.json() == {"limits": {"quota": 1}, "attributes": {"name": "renamed"},
                        "start_date": None}
    r = api.request("PUT", url, "staff", json={"limits": {"quota": 4}, "attributes": {},
                                                "start_date": "2027-03-01"})
    assert r.status_code == 200
    assert r.json()["start_date"] == "2027-03-01"
    assert api.order("ord-pc-basic")["limits"] == {"quota": 4}
    r = api.request("PATCH", url, "staff", json={"start_date": "soon"})
    assert r.status_code == 400
    r = api.request("PATCH", api.order_url("ord-done-basic"), "staff", json={})
    assert r.status_code == 409


def test_offering_and_resource_details(api: Api) -> None:
    off = api.get(api.order_url("ord-pc-slurm", "offering"), "proj_member")
    assert off.status_code == 200
    assert off.json()["uuid"] == api.uuid("offerings", "slurm")
    assert off.json()["type"] == "Marketplace.Slurm"
    res = api.get(api.order_url("ord-done-slurm", "resource"), "prov_owner")
    assert res.status_code == 200 and res.json()["state"] == "OK"
    assert api.get(api.order_url("ord-pc-slurm", "offering"), "plain_user").status_code == 404


def test_huge_integer_in_attributes_is_echoed(api: Api) -> None:
    body = {**base_body(api), "attributes": {"name": "big", "n": 2**80}}
    r = api.post(ORDERS, "cons_owner", json=body)
    assert r.status_code == 201, r.text
    assert b'"n":1208925819614629174706176' in r.content


def test_multipart_message_with_file(api: Api) -> None:
    r = api.action("ord-pp-support", "set_consumer_info", "cons_owner",
                   data={"consumer_message": "see PO"},
                   files={"consumer_message_attachment": ("po.pdf", b"%PDF-po", "application/pdf")})
    assert r.status_code == 200, r.text
    order = api.order("ord-pp-support")
    assert order["consumer_message"] == "see PO"
    link = order["consumer_message_attachment"]
    assert link.endswith("/po.pdf")
    assert api.get(link.removeprefix(BASE)).content == b"%PDF-po"


def test_content_types_outside_the_spec_are_415(api: Api) -> None:
    r = api.action("ord-exec-slurm", "set_backend_id", "prov_owner", data={"backend_id": "x"})
    assert r.status_code == 415
    assert r.json() == {"detail": 'Unsupported media type "application/x-www-form-urlencoded" '
                                  'in request.'}


def test_attachment_filename_is_sanitised(api: Api) -> None:
    url = api.order_url("ord-pc-basic", "update_attachment")
    r = api.post(url, "proj_admin",
                 files={"attachment": ("../../etc/my po é.pdf", b"%PDF", "application/pdf")})
    assert r.status_code == 200
    link = r.json()["attachment"]
    assert link.endswith(f"/{api.uuid('orders', 'ord-pc-basic')}/my_po_.pdf")
    assert api.get(link.removeprefix(BASE)).content == b"%PDF"


def test_malformed_multipart_is_400(api: Api) -> None:
    r = api.action("ord-pc-basic", "update_attachment", "proj_admin", content=b"garbage",
                   headers={"Content-Type": "multipart/form-data"})
    assert r.status_code == 400
    assert r.json()["detail"].startswith("Multipart form parse error - ")
    assert api.order("ord-pc-basic")["attachment"] is None


# -- contract findings (docs/contract-tests.md, "Findings") ---------------------------------------


def test_blank_callback_url_is_kept(api: Api) -> None:
    """F3: Order.callback_url is URLField(null=True, blank=True): "" is stored and echoed."""
    r = api.post(ORDERS, "cons_owner", json={**base_body(api), "callback_url": ""})
    assert r.status_code == 201, r.text
    assert r.json()["callback_url"] == ""
    assert api.order(r.json()["uuid"])["callback_url"] == ""
    r = api.post(ORDERS, "cons_owner", json={**base_body(api), "callback_url": None})
    assert r.status_code == 201 and r.json()["callback_url"] is None


@pytest.mark.parametrize(("change", "errors"), [
    ({"callback_url": "not a url"}, {"callback_url": ["Enter a valid URL."]}),
    ({"callback_url": 5}, {"callback_url": ["Enter a valid URL."]}),  # DRF coerces numbers
    ({"callback_url": True}, {"callback_url": ["Not a valid string."]}),
    ({"callback_url": "https://example.com/" + "a" * 190},
     {"callback_url": ["Ensure this field has no more than 200 characters."]}),
    ({"request_comment": "x" * 256},
     {"request_comment": ["Ensure this field has no more than 255 characters."]}),
    ({"request_comment": []}, {"request_comment": ["Not a valid string."]}),
    ({"limits": None}, {"limits": ["This field may not be null."]}),
    ({"type": None}, {"type": ["This field may not be null."]}),
    ({"accepting_terms_of_service": None},
     {"accepting_terms_of_service": ["This field may not be null."]}),
])
def test_create_optional_field_types(api: Api, change: dict[str, Any],
                                     errors: dict[str, Any]) -> None:
    before = api.head(ORDERS, "staff").headers["x-result-count"]
    r = api.post(ORDERS, "cons_owner", json={**base_body(api), **change})
    assert r.status_code == 400, r.text
    assert r.json() == errors
    assert api.head(ORDERS, "staff").headers["x-result-count"] == before


@pytest.mark.parametrize(("key", "action", "user", "body", "errors"), [
    # F7: DRF CharFields refuse null; a number is coerced to text, other types are refused
    ("ord-exec-slurm", "set_state_erred", "prov_owner",
     {"error_message": None, "error_traceback": 5},
     {"error_message": ["This field may not be null."]}),
    ("ord-exec-slurm", "set_state_erred", "prov_owner",
     {"error_message": ["x"], "error_traceback": {}},
     {"error_message": ["Not a valid string."], "error_traceback": ["Not a valid string."]}),
    ("ord-pp-basic", "reject_by_provider", "prov_owner",
     {"provider_rejection_comment": None},
     {"provider_rejection_comment": ["This field may not be null."]}),
    ("ord-pc-basic", "reject_by_consumer", "cons_owner",
     {"consumer_rejection_comment": None, "error_message": True},
     {"error_message": ["Not a valid string."],
      "consumer_rejection_comment": ["This field may not be null."]}),
    ("ord-pp-basic", "approve_by_provider", "prov_owner", {"attributes": None},
     {"attributes": ["This field may not be null."]}),
    ("ord-pp-basic", "set_backend_id", "prov_owner", {"backend_id": None},
     {"backend_id": ["This field may not be null."]}),
])
def test_action_body_types(api: Api, key: str, action: str, user: str, body: dict[str, Any],
                           errors: dict[str, Any]) -> None:
    before = api.order(key)
    r = api.action(key, action, user, json=body)
    assert r.status_code == 400, r.text
    assert r.json() == errors
    assert api.order(key) == before  # a failed request changes nothing


def test_set_state_erred_coerces_numbers(api: Api) -> None:
    r = api.action("ord-exec-slurm", "set_state_erred", "prov_owner",
                   json={"error_message": 5, "error_traceback": 1.5})
    assert r.status_code == 200, r.text
    order = api.order("ord-exec-slurm")
    assert (order["state"], order["error_message"], order["error_traceback"]) == \
        ("erred", "5", "1.5")


@pytest.mark.parametrize("body", [{"limits": None}, {"attributes": None}])
def test_update_refuses_null(api: Api, body: dict[str, Any]) -> None:
    before = api.order("ord-pc-basic")
    r = api.request("PATCH", api.order_url("ord-pc-basic"), "staff", json=body)
    assert r.status_code == 400
    assert r.json() == {next(iter(body)): ["This field may not be null."]}
    assert api.order("ord-pc-basic") == before


def test_huge_integer_in_attributes_never_breaks_a_listing(api: Api) -> None:
    """F8: a 2**80 attribute is stored; list pages and the state export still answer."""
    body = {**base_body(api), "attributes": {"name": "big", "n": 2**80}}
    uuid = api.post(ORDERS, "cons_owner", json=body).json()["uuid"]
    r = api.get(ORDERS, "staff", params={"page_size": 300, "o": "-created"})
    assert r.status_code == 200
    assert any(o["uuid"] == uuid and o["attributes"]["n"] == 2**80 for o in r.json())
    state = api.get("/__mock__/state")
    assert state.status_code == 200 and b"1208925819614629174706176" in state.content


@pytest.mark.parametrize("query", [
    # F4/F11 and page_size: what django-filter and DRF ignore or replace (spec describes it)
    {"category_uuid": ""}, {"project_uuid": ""}, {"created": ""}, {"modified_before": ""},
    {"was_auto_approved": "null"}, {"can_approve_as_provider": "maybe"},
    {"page_size": "null"}, {"field": ["no_such_field", "uuid"]},
])
def test_ignored_filter_values_answer_200(api: Api, query: dict[str, Any]) -> None:
    r = api.get(ORDERS, "staff", params=query)
    assert r.status_code == 200, r.text
    if "field" in query:
        assert all(set(o) == {"uuid"} for o in r.json())


def test_order_without_plan_has_null_plan_everywhere(api: Api) -> None:
    """F10: Resource.plan is null like OrderDetails.plan (response validation is on)."""
    body = {k: v for k, v in base_body(api).items() if k != "plan"}
    uuid = api.post(ORDERS, "cons_owner", json=body).json()["uuid"]
    assert api.order(uuid)["plan"] is None
    r = api.get(api.order_url(uuid, "resource"), "staff")
    assert r.status_code == 200 and r.json()["plan"] is None


def test_offering_blank_links_conform(api: Api) -> None:
    """F5: blank URLFields (privacy_policy_link, access_url) are "" on the real server."""
    r = api.get(api.order_url("ord-pc-slurm", "offering"), "staff")
    assert r.status_code == 200  # response validation is on: "" must conform
    assert r.json()["privacy_policy_link"] == "" and r.json()["access_url"] == ""


# -- message actions: all field errors of the body at once (DRF serializer.is_valid) ------------

NOT_A_FILE = "The submitted data was not a file. Check the encoding type on the form."


def test_provider_info_reports_every_field_error(api: Api) -> None:
    before = api.order("ord-pp-support")
    r = api.action("ord-pp-support", "set_provider_info", "prov_owner", json={
        "provider_message": ["x"], "provider_message_url": "not a url",
        "provider_message_attachment": 3})
    assert r.status_code == 400
    assert r.json() == {"provider_message": ["Not a valid string."],
                        "provider_message_url": ["Enter a valid URL."],
                        "provider_message_attachment": [NOT_A_FILE]}
    assert api.order("ord-pp-support") == before


def test_consumer_info_reports_every_field_error(api: Api) -> None:
    before = api.order("ord-pp-support")
    r = api.action("ord-pp-support", "set_consumer_info", "cons_owner", json={
        "consumer_message": None, "consumer_message_attachment": {"a": 1}})
    assert r.status_code == 400
    assert r.json() == {"consumer_message": ["This field may not be null."],
                        "consumer_message_attachment": [NOT_A_FILE]}
    assert api.order("ord-pp-support") == before


def test_multipart_info_errors_keep_the_valid_fields_unapplied(api: Api) -> None:
    before = api.order("ord-pp-support")
    r = api.action("ord-pp-support", "set_provider_info", "prov_owner",
                   data={"provider_message": "fine", "provider_message_url": "ftp:nohost"},
                   files={"provider_message_attachment": ("e.pdf", b"", "application/pdf")})
    assert r.status_code == 400
    assert r.json() == {"provider_message_url": ["Enter a valid URL."],
                        "provider_message_attachment": ["The submitted file is empty."]}
    assert api.order("ord-pp-support") == before


@pytest.mark.parametrize("fast_path", [True, False])
@pytest.mark.parametrize("ctype", ["Application/JSON", "APPLICATION/json; charset=UTF-8"])
def test_media_type_is_case_insensitive(fast_path: bool, ctype: str) -> None:
    """A JSON body sent as `Application/JSON` is parsed as JSON (it once hung: no body validator
    matched and the handler waited for a body that had been read)."""
    import asyncio

    import httpx

    from mockserver.app import create_app
    from mockserver.settings import Settings

    app = create_app(Settings(fast_path=fast_path))
    backend = app.registry.get(None)
    token = backend.user_by_username("prov_owner").token
    uuid = backend.world.keys["orders"]["ord-exec-slurm"]

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
            return await asyncio.wait_for(client.post(
                f"{ORDERS}{uuid}/set_backend_id/", content=b'{"backend_id": "x-1"}',
                headers={"Authorization": f"Token {token}", "Content-Type": ctype}), 10)

    r = asyncio.run(send())
    assert r.status_code == 200, r.text
    assert backend.get_order(backend.user_by_username("staff"), uuid).backend_id == "x-1"
