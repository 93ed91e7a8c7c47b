"""Token authentication over HTTP (reference §3): exact 401 bodies + WWW-Authenticate."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import ORDERS, Api

STAFF = "02020271f1c2fdc62efe0b48ca5ae06ec6857e0f"


def assert_401(r, text: str) -> None:
    assert r.status_code == 401, r.text
    assert r.json() == {"detail": text}
    assert r.headers["www-authenticate"] == "Token"
    assert r.headers["content-type"] == "application/json"


@pytest.mark.parametrize(
    ("authorization", "text"),
    [
        (None, "Authentication credentials were not provided."),
        ("", "Authentication credentials were not provided."),
        ("Bearer abc", "Authentication credentials were not provided."),
        ("Token", "Invalid token. No credentials provided."),
        ("Token abc def", "Invalid token. Token string should not contain spaces."),
        ("Token 0000000000000000000000000000000000000000", "Invalid token."),
        ("Token a9baa093d934044890f4500092ba9d7dcbff5e9b", "User inactive or deleted."),
    ],
)
def test_401_bodies(api: Api, authorization: str | None, text: str) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    assert_401(api.get(ORDERS, headers=headers), text)


@pytest.mark.parametrize("keyword", ["Token", "token", "TOKEN", "tOkEn"])
def test_keyword_is_case_insensitive(api: Api, keyword: str) -> None:
    r = api.get(ORDERS, headers={"Authorization": f"{keyword} {STAFF}"})
    assert r.status_code == 200
    assert int(r.headers["x-result-count"]) > 0


def test_query_token_fallback(api: Api) -> None:
    r = api.get(f"{ORDERS}?x-auth-token={STAFF}")
    assert r.status_code == 200
    # the parameter is kept in the pagination links, like any other query parameter
    assert f"x-auth-token={STAFF}" in r.headers["link"]


def test_query_token_unknown_is_invalid(api: Api) -> None:
    assert_401(api.get(f"{ORDERS}?x-auth-token=nope"), "Invalid token.")


def test_header_wins_over_query_token(api: Api) -> None:
    r = api.get(f"{ORDERS}?x-auth-token={STAFF}", headers={"Authorization": "Token nope"})
    assert_401(r, "Invalid token.")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "{o}"),
        ("DELETE", "{o}"),
        ("POST", "{o}approve_by_consumer/"),
        ("POST", "{o}set_backend_id/"),
        ("POST", "{o}unlink/"),
        ("GET", "{o}offering/"),
        ("HEAD", ORDERS),
        ("POST", ORDERS),
        ("GET", ORDERS + "dashboard-my-orders/"),
    ],
)
def test_every_operation_needs_auth(api: Api, method: str, path: str) -> None:
    o = api.order_url("ord-pc-slurm")
    r = api.request(method, path.format(o=o))
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Token"
    if method != "HEAD":
        assert r.json() == {"detail": "Authentication credentials were not provided."}
    # nothing changed
    assert api.order("ord-pc-slurm")["state"] == "pending-consumer"


def test_401_before_404_for_unknown_order(api: Api) -> None:
    assert_401(api.get(ORDERS + "0" * 32 + "/"), "Authentication credentials were not provided.")


def test_401_before_405(api: Api) -> None:
    assert_401(api.request("PUT", ORDERS), "Authentication credentials were not provided.")
    r = api.request("PUT", ORDERS, user="staff")
    assert r.status_code == 405


def test_sessions_are_isolated(api: Api) -> None:
    url = api.order_url("ord-pc-slurm", "approve_by_consumer")
    r = api.post(url, "cons_owner", headers={"X-Mock-Session": "ci-job-1"})
    assert r.status_code == 200
    assert api.order("ord-pc-slurm")["state"] == "pending-consumer"  # default session
    other = api.get(api.order_url("ord-pc-slurm"), "staff", headers={"X-Mock-Session": "ci-job-1"})
    assert other.json()["state"] == "pending-provider"
    fresh = api.get(api.order_url("ord-pc-slurm"), "staff", headers={"X-Mock-Session": "job-2"})
    assert fresh.json()["state"] == "pending-consumer"


def test_non_utf8_key(live) -> None:
    # over a real socket: starlette's TestClient would re-encode the header as UTF-8
    r = httpx.get(live.url + ORDERS, headers={"Authorization": b"Token \xff\xfe"})
    assert_401(r, "Invalid token header. Token string should not contain invalid characters.")
