"""The list endpoint (reference §4, §5): pagination headers, HEAD, filters, ordering, fields."""

from __future__ import annotations

import pytest

from tests.conftest import ORDERS, Api

B = "http://testserver" + ORDERS


def total(api: Api, query: str = "", user: str = "staff") -> int:
    r = api.head(ORDERS + query, user)
    assert r.status_code == 200, r.text
    return int(r.headers["x-result-count"])


def test_default_page(api: Api) -> None:
    n = total(api)
    assert n > 30
    r = api.get(ORDERS, "staff")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    body = r.json()
    assert isinstance(body, list) and len(body) == 10
    last = -(-n // 10)
    assert r.headers["x-result-count"] == str(n)
    assert r.headers["link"] == (
        f'<{B}>; rel="first", <{B}?page=2>; rel="next", <{B}?page={last}>; rel="last"'
    )


def test_middle_page_links_sorted_and_kept(api: Api) -> None:
    n = total(api, "?state=executing&state=done")
    size = 2
    assert n > 3 * size
    last = -(-n // size)
    r = api.get(ORDERS + "?state=executing&page_size=2&state=done&page=3", "staff")
    assert r.status_code == 200
    assert len(r.json()) == 2
    q = "page_size=2&state=executing&state=done"
    assert r.headers["link"] == (
        f'<{B}?{q}>; rel="first", '
        f'<{B}?page=2&{q}>; rel="prev", '
        f'<{B}?page=4&{q}>; rel="next", '
        f'<{B}?page={last}&{q}>; rel="last"'
    )


def test_page_two_prev_has_no_page(api: Api) -> None:
    r = api.get(ORDERS + "?page=2&page_size=5", "staff")
    links = r.headers["link"].split(", ")
    assert links[1] == f'<{B}?page_size=5>; rel="prev"'


def test_last_page_and_page_last(api: Api) -> None:
    n = total(api)
    last = -(-n // 10)
    r = api.get(ORDERS + "?page=last", "staff")
    assert r.status_code == 200
    assert len(r.json()) == n - (last - 1) * 10
    assert 'rel="next"' not in r.headers["link"]
    assert r.headers["link"].endswith(f'<{B}?page={last}>; rel="last"')
    same = api.get(ORDERS + f"?page={last}", "staff")
    assert same.json() == r.json()


def test_single_page_and_empty(api: Api) -> None:
    r = api.get(ORDERS, "plain_user")
    assert r.json() == []
    assert r.headers["x-result-count"] == "0"
    assert r.headers["link"] == f'<{B}>; rel="first", <{B}>; rel="last"'
    r = api.get(ORDERS + "?page_size=300", "staff")
    assert len(r.json()) == total(api)
    assert r.headers["link"] == f'<{B}?page_size=300>; rel="first", <{B}?page_size=300>; rel="last"'


@pytest.mark.parametrize(("size", "expected"), [("0", 10), ("-3", 10), ("abc", 10), ("", 10),
                                                ("7", 7), ("1000", 300)])
def test_page_size(api: Api, size: str, expected: int) -> None:
    r = api.get(ORDERS + f"?page_size={size}", "staff")
    assert r.status_code == 200
    assert len(r.json()) == min(expected, total(api))


@pytest.mark.parametrize("page", ["0", "-1", "abc", "", "1.0", "999"])
def test_invalid_page(api: Api, page: str) -> None:
    for method in ("GET", "HEAD"):
        r = api.request(method, ORDERS + f"?page={page}", "staff")
        assert r.status_code == 404
    assert api.get(ORDERS + f"?page={page}", "staff").json() == {"detail": "Invalid page."}


def test_head_same_headers_no_body(api: Api) -> None:
    q = "?page=2&page_size=3&state=pending-consumer"
    g = api.get(ORDERS + q, "staff")
    h = api.head(ORDERS + q, "staff")
    assert h.status_code == 200 and h.content == b""
    assert h.headers["x-result-count"] == g.headers["x-result-count"]
    assert h.headers["link"] == g.headers["link"]


def test_default_ordering_created_ascending(api: Api) -> None:
    body = api.get(ORDERS + "?page_size=300", "staff").json()
    created = [o["created"] for o in body]
    assert created == sorted(created)


@pytest.mark.parametrize("key", ["created", "consumer_reviewed_at", "cost", "state"])
def test_ordering(api: Api, key: str) -> None:
    asc = api.get(ORDERS + f"?page_size=300&o={key}", "staff").json()
    desc = api.get(ORDERS + f"?page_size=300&o=-{key}", "staff").json()
    assert len(asc) == len(desc) == total(api)
    if key == "created":
        assert [o["uuid"] for o in desc] == [o["uuid"] for o in reversed(asc)]
    if key == "state":  # by the DB integer, not alphabetically
        rank = {"pending-consumer": 1, "executing": 2, "done": 3, "erred": 4, "canceled": 5,
                "rejected": 6, "pending-provider": 7, "pending-project": 8,
                "pending-start-date": 9}
        values = [rank[o["state"]] for o in asc]
        assert values == sorted(values)
    if key == "cost":
        values = [float(o["cost"]) for o in asc if o["cost"] is not None]
        assert values == sorted(values)


def test_ordering_last_key_wins_and_bad_value(api: Api) -> None:
    a = api.get(ORDERS + "?page_size=300&o=cost&o=-created", "staff").json()
    b = api.get(ORDERS + "?page_size=300&o=-created", "staff").json()
    assert a == b
    r = api.get(ORDERS + "?o=bogus", "staff")
    assert r.status_code == 400
    assert r.json() == {"o": ["Select a valid choice. bogus is not one of the available choices."]}


def test_state_filter(api: Api) -> None:
    body = api.get(ORDERS + "?state=pending-provider&state=executing&page_size=300", "staff").json()
    assert body and {o["state"] for o in body} <= {"pending-provider", "executing"}
    assert {o["state"] for o in body} == {"pending-provider", "executing"}
    r = api.get(ORDERS + "?state=bogus", "staff")
    assert r.status_code == 400
    assert r.json() == {"state": [
        "Select a valid choice. bogus is not one of the available choices."]}
    # comma-joined values are not split
    assert api.get(ORDERS + "?state=done,erred", "staff").status_code == 400


def test_type_filter(api: Api) -> None:
    body = api.get(ORDERS + "?type=Update&type=Terminate&page_size=300", "staff").json()
    assert body and {o["type"] for o in body} <= {"Update", "Terminate"}
    assert api.get(ORDERS + "?type=create", "staff").status_code == 400


@pytest.mark.parametrize(("param", "kind", "key", "field"), [
    ("project_uuid", "projects", "consumer-future", "project_uuid"),
    ("offering_uuid", "offerings", "basic", "offering_uuid"),
    ("customer_uuid", "customers", "blocked", "customer_uuid"),
    ("provider_uuid", "customers", "provider", "provider_uuid"),
])
def test_uuid_filters_hex_and_dashed(api: Api, param: str, kind: str, key: str,
                                     field: str) -> None:
    hex_ = api.uuid(kind, key)
    dashed = f"{hex_[:8]}-{hex_[8:12]}-{hex_[12:16]}-{hex_[16:20]}-{hex_[20:]}"
    a = api.get(ORDERS + f"?{param}={hex_}&page_size=300", "staff").json()
    b = api.get(ORDERS + f"?{param}={dashed}&page_size=300", "staff").json()
    assert a and a == b
    assert {o[field] for o in a} == {hex_}
    r = api.get(ORDERS + f"?{param}=nope", "staff")
    assert r.status_code == 400
    assert r.json() == {param: ["Enter a valid UUID."]}


def test_filters_never_reveal(api: Api) -> None:
    basic = api.uuid("offerings", "basic")
    assert api.get(ORDERS + f"?offering_uuid={basic}", "off_manager").json() == []


def test_offering_type_and_resource_filters(api: Api) -> None:
    body = api.get(ORDERS + "?offering_type=Marketplace.Basic&page_size=300", "staff").json()
    assert body and {o["offering_type"] for o in body} == {"Marketplace.Basic"}
    res = api.order("ord-done-slurm")["marketplace_resource_uuid"]
    body = api.get(ORDERS + f"?resource_uuid={res}", "staff").json()
    assert body and {o["marketplace_resource_uuid"] for o in body} == {res}


def test_created_and_modified_filters(api: Api) -> None:
    body = api.get(ORDERS + "?page_size=300", "staff").json()
    middle = sorted(o["created"] for o in body)[len(body) // 2]
    after = api.get(ORDERS + f"?created={middle}&page_size=300", "staff").json()
    assert after and all(o["created"] >= middle for o in after) and len(after) < len(body)
    r = api.get(ORDERS + "?created=yesterday", "staff")
    assert r.status_code == 400
    assert r.json() == {"created": ["Enter a valid date/time."]}
    assert api.get(ORDERS + "?modified=2999-01-01T00:00:00Z", "staff").json() == []


def test_can_approve_filters(api: Api) -> None:
    body = api.get(ORDERS + "?can_approve_as_consumer=true&page_size=300", "cons_owner").json()
    assert body and {o["state"] for o in body} == {"pending-consumer"}
    body = api.get(ORDERS + "?can_approve_as_provider=true&page_size=300", "prov_owner").json()
    assert body and {o["state"] for o in body} == {"pending-provider"}
    assert api.get(ORDERS + "?can_approve_as_provider=true", "proj_manager").json() == []


def test_query_filter(api: Api) -> None:
    uuid = api.uuid("orders", "ord-pc-basic")
    body = api.get(ORDERS + f"?query={uuid}", "staff").json()
    assert [o["uuid"] for o in body] == [uuid]
    body = api.get(ORDERS + "?query=future&page_size=300", "staff").json()
    assert body and all("future" in (o["project_name"] + o["resource_name"]).lower()
                        for o in body)


def test_unknown_query_params_ignored(api: Api) -> None:
    a = api.get(ORDERS + "?page_size=300", "staff").json()
    b = api.get(ORDERS + "?page_size=300&foo=bar&limit=3", "staff").json()
    assert a == b


def test_sparse_fields(api: Api) -> None:
    r = api.get(ORDERS + "?field=uuid&field=state&field=bogus", "staff")
    assert r.status_code == 200
    assert all(list(o) == ["uuid", "state"] for o in r.json())
    full = api.get(ORDERS + "?field=bogus", "staff").json()
    assert "offering_name" in full[0]
    one = api.get(api.order_url("ord-pc-slurm") + "?field=state&field=project_name", "staff")
    assert one.json() == {"state": "pending-consumer", "project_name": "Consumer Project"}


def test_dashboard_my_orders(api: Api) -> None:
    r = api.get(ORDERS + "dashboard-my-orders/?page_size=300", "proj_manager")
    assert r.status_code == 200
    body = r.json()
    assert body and int(r.headers["x-result-count"]) == len(body)
    assert all(o["state"] not in ("done", "erred", "canceled", "rejected") for o in body)
    assert all(o["type"] in ("create", "update", "terminate", "restore") for o in body)
    created = [o["created"] for o in body]
    assert created == sorted(created, reverse=True)
    h = api.head(ORDERS + "dashboard-my-orders/", "proj_manager")
    assert h.status_code == 200 and h.headers["x-result-count"] == str(len(body))


def _all(api: Api, query: str = "") -> list[dict]:
    r = api.get(ORDERS + "?page_size=300" + query, "staff")
    assert r.status_code == 200, r.text
    return r.json()


def test_more_filters(api: Api) -> None:
    everything = _all(api)
    hpc = api.backend.offerings[api.uuid("offerings", "slurm")].category.uuid
    got = _all(api, f"&category_uuid={hpc}")
    assert got == [o for o in everything if o["category_uuid"] == hpc] and got
    slurm = api.uuid("offerings", "slurm")
    got = _all(api, f"&offering=http://testserver/api/marketplace-provider-offerings/{slurm}/")
    assert got == [o for o in everything if o["offering_uuid"] == slurm] and got
    # a URL of the wrong kind matches nothing (no error)
    assert _all(api, f"&offering=http://testserver/api/marketplace-public-offerings/{slurm}/") == []
    res = api.order("ord-done-basic")["marketplace_resource_uuid"]
    got = _all(api, f"&resource=http://testserver/api/marketplace-resources/{res}/")
    assert got == [o for o in everything if o["marketplace_resource_uuid"] == res] and got
    middle = sorted(o["created"] for o in everything)[len(everything) // 2]
    got = _all(api, f"&created_before={middle}")
    assert got and all(o["created"] < middle for o in got)
    auto = _all(api, "&was_auto_approved=true")
    assert auto == [o for o in everything if o["auto_approved"]]


def test_sparse_fields_on_create(api: Api) -> None:
    off = api.url("offerings", "basic")
    plan = api.backend.offerings[api.uuid("offerings", "basic")].plans[0].uuid
    r = api.post(ORDERS + "?field=uuid&field=state", "cons_owner", json={
        "project": api.url("projects", "consumer-main"), "offering": off,
        "plan": f"{off}plans/{plan}/", "attributes": {"name": "sparse"}})
    assert r.status_code == 201
    assert list(r.json()) == ["uuid", "state"]
    assert r.headers["location"] == f"http://testserver{ORDERS}{r.json()['uuid']}/"
