"""CORS and the Swagger UI page, at the HTTP level (tests/test_browser.py does it in a browser)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from mockserver.pytest_plugin import WaldurMock, start_stub
from mockserver.settings import Settings

ORDERS = "/api/marketplace-orders/"
APP = "http://localhost:5173"


def preflight(url: str, origin: str = APP, method: str = "POST") -> httpx.Response:
    return httpx.options(url, headers={
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization,content-type,x-mock-session",
    })


def test_preflight_allows_authorization_from_any_origin(waldur_mock: WaldurMock) -> None:
    uuid = "0123456789abcdef0123456789abcdef"
    r = preflight(f"{waldur_mock.url}{ORDERS}{uuid}/approve_by_consumer/")
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "*"
    allowed = r.headers["access-control-allow-headers"].lower().split(",")
    assert {"authorization", "content-type", "x-mock-session"} <= set(allowed)
    assert "POST" in r.headers["access-control-allow-methods"]
    assert waldur_mock.requests() == []  # preflights never reach the API


def test_pagination_headers_are_exposed(waldur_mock: WaldurMock) -> None:
    r = httpx.get(waldur_mock.url + ORDERS, params={"page_size": 2},
                  headers={**waldur_mock.auth("staff"), "Origin": APP})
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "*"
    exposed = {h.strip().lower() for h in r.headers["access-control-expose-headers"].split(",")}
    assert {"link", "x-result-count"} <= exposed
    assert 'rel="next"' in r.headers["link"]


def test_errors_redirects_and_faults_carry_cors_headers(waldur_mock: WaldurMock) -> None:
    r = httpx.get(waldur_mock.url + ORDERS, headers={"Origin": APP})
    assert r.status_code == 401 and r.headers["access-control-allow-origin"] == "*"
    r = httpx.get(waldur_mock.url + ORDERS.rstrip("/"), headers={"Origin": APP})
    assert r.status_code == 301 and r.headers["access-control-allow-origin"] == "*"
    waldur_mock.add_fault(status=503)
    r = httpx.get(waldur_mock.url + ORDERS, headers={"Origin": APP})
    assert r.status_code == 503 and r.headers["access-control-allow-origin"] == "*"


@pytest.fixture(scope="module")
def one_origin() -> Iterator[WaldurMock]:
    server, mock = start_stub(Settings(cors_origins=(APP,)))
    try:
        yield mock
    finally:
        mock.close()
        server.stop()


def test_cors_origin_restricts_the_allowed_origins(one_origin: WaldurMock) -> None:
    r = preflight(one_origin.url + ORDERS)
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == APP
    r = preflight(one_origin.url + ORDERS, origin="http://evil.example")
    assert r.status_code == 400
    assert "access-control-allow-origin" not in r.headers
    r = httpx.get(one_origin.url + ORDERS, headers={**one_origin.auth("staff"),
                                                    "Origin": "http://evil.example"})
    assert "access-control-allow-origin" not in r.headers


def test_swagger_ui_page_points_at_the_stub(waldur_mock: WaldurMock) -> None:
    page = httpx.get(waldur_mock.url + "/api/docs/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert waldur_mock.tokens["staff"] in page.text  # the fixture tokens to pre-authorise with
    assert "preauthorizeApiKey" in page.text
    served = httpx.get(waldur_mock.url + "/api/docs/openapi.json").json()
    assert served["servers"][0]["url"] == waldur_mock.url
    assert ORDERS in served["paths"]
    asset = httpx.get(waldur_mock.url + "/api/docs/swagger-ui-bundle.js")
    assert asset.status_code == 200 and "javascript" in asset.headers["content-type"]
    r = httpx.get(waldur_mock.url + "/api/docs", follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (301, "/api/docs/")
    assert httpx.get(waldur_mock.url + "/api/docs/../../etc/passwd").status_code == 404
    assert httpx.get(waldur_mock.url + "/api/docs/nope.js").json() == {"detail": "Not found."}


HOMEPORT_HEADERS = "authorization,content-type,accept-language,x-impersonated-user-uuid"


@pytest.mark.parametrize(("path", "method"), [
    ("/api/users/me/", "GET"), ("/api-auth/password/", "POST"), ("/api/customers/", "GET"),
    ("/api/projects/", "HEAD"),
])
def test_homeports_preflight_is_allowed_on_the_structure_area(
        waldur_mock: WaldurMock, path: str, method: str) -> None:
    r = httpx.options(waldur_mock.url + path, headers={
        "Origin": APP, "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": HOMEPORT_HEADERS})
    assert r.status_code == 200
    allowed = {h.strip() for h in r.headers["access-control-allow-headers"].lower().split(",")}
    assert set(HOMEPORT_HEADERS.split(",")) <= allowed
    assert method in r.headers["access-control-allow-methods"]


def test_structure_lists_expose_the_pagination_headers(waldur_mock: WaldurMock) -> None:
    r = httpx.get(waldur_mock.url + "/api/customers/", params={"page_size": 1},
                  headers={**waldur_mock.auth("staff"), "Origin": APP})
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == "*"
    exposed = {h.strip().lower() for h in r.headers["access-control-expose-headers"].split(",")}
    assert {"link", "x-result-count"} <= exposed
    r = httpx.post(waldur_mock.url + "/api-auth/password/", headers={"Origin": APP},
                   json={"username": "staff", "password": "bad"})
    assert r.status_code == 401 and r.headers["access-control-allow-origin"] == "*"
