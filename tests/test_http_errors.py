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


@pytest.mark.parametrize("bad", ["not-a-uuid", "1234", "g" * 32, "%20", "a%0Ab"])
def test_malformed_uuid_is_404(api: Api, bad: str) -> None:
    r = api.get(f"{ORDERS}{bad}/", "staff")
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/json"
    assert r.json() == {"detail": "Not found."}
    r = api.post(f"{ORDERS}{bad}/approve_by_consumer/", "staff")
    assert r.status_code == 404


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
    ("PUT", ORDERS, "GET, POST, HEAD"),
    ("DELETE", ORDERS, "GET, POST, HEAD"),
    ("GET", ORDERS + "{u}/approve_by_consumer/", "POST"),
    ("POST", ORDERS + "{u}/", "GET, PUT, PATCH, DELETE"),
    ("OPTIONS", ORDERS, "GET, POST, HEAD"),
    # a static path wins over {uuid}/ (DRF registers the list action first)
    ("DELETE", ORDERS + "dashboard-my-orders/", "GET, HEAD"),
    ("PATCH", ORDERS + "dashboard-my-orders/", "GET, HEAD"),
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
