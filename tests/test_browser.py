"""The stub in a real headless browser (Chromium from the distribution, driven over the Chrome
DevTools Protocol with the `websockets` package; no Selenium, no browser download).

* A page served from another origin (a second tiny server on another port) lists orders with a
  token, reads the pagination headers (CORS Access-Control-Expose-Headers) and approves an order
  (a preflighted POST with Authorization).
* The same page against a stub whose --cors-origin names another origin fails in the browser.
* Swagger UI at /api/docs/ is pre-authorised with a fixture token and "Try it out" reaches the stub.

Without Chromium the tests are skipped; enable them with
    apt-get install -y chromium        (Debian/Ubuntu; or set CHROMIUM=/path/to/chrome)
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from mockserver.pytest_plugin import ServerThread, WaldurMock, start_stub
from mockserver.settings import Settings

CHROMIUM = os.environ.get("CHROMIUM") or next(
    (p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None
)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Chromium not found: install it to run the browser tests "
    "(Debian/Ubuntu: `apt-get install -y chromium`), or set CHROMIUM=/path/to/chrome",
)

ORDERS = "/api/marketplace-orders/"

APP_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>orders app</title></head><body>
<script>
async function run() {
  const q = new URLSearchParams(location.search);
  const stub = q.get("stub");
  const headers = {"Authorization": "Token " + q.get("token")};
  const out = {};
  try {
    const list = await fetch(stub + "/api/marketplace-orders/?state=pending-consumer&page_size=2",
                             {headers});
    out.list_status = list.status;
    out.count = list.headers.get("X-Result-Count");
    out.link = list.headers.get("Link");
    const orders = await list.json();
    out.uuid = orders[0].uuid;
    const approve = await fetch(
      stub + "/api/marketplace-orders/" + out.uuid + "/approve_by_consumer/",
      {method: "POST", headers: {...headers, "Content-Type": "application/json"}, body: "{}"});
    out.approve_status = approve.status;
    const detail = await fetch(stub + "/api/marketplace-orders/" + out.uuid + "/", {headers});
    out.state = (await detail.json()).state;
  } catch (e) {
    out.error = String(e);
  }
  window.__result = out;
}
run();
</script></body></html>
"""

# HomePort's calls (reference homeport.md) from another origin: boot anonymously, log in by
# password, read users/me, then the orders list as HomePort filters it.
HOMEPORT_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>homeport-like app</title></head><body>
<script>
async function run() {
  const q = new URLSearchParams(location.search);
  const stub = q.get("stub");
  const json = {"Content-Type": "application/json", "Accept-Language": "en"};
  const out = {};
  try {
    const conf = await fetch(stub + "/api/configuration/", {headers: {"Accept-Language": "en"}});
    out.auth_methods = (await conf.json()).WALDUR_CORE.AUTHENTICATION_METHODS;
    const roles = await fetch(stub + "/api/roles/");
    out.roles = (await roles.json()).length;
    const bad = await fetch(stub + "/api-auth/password/", {method: "POST", headers: json,
      body: JSON.stringify({username: q.get("user"), password: "wrong"})});
    out.bad_login = [bad.status, (await bad.json()).detail];
    const login = await fetch(stub + "/api-auth/password/", {method: "POST", headers: json,
      body: JSON.stringify({username: q.get("user"), password: q.get("password")})});
    out.login_status = login.status;
    const token = (await login.json()).token;
    const auth = {...json, "Authorization": "Token " + token,
                  "X-Impersonated-User-UUID": ""};
    const me = await (await fetch(stub + "/api/users/me/", {headers: auth})).json();
    out.me = [me.username, me.token === token, me.permissions.map(p => p.role_name)];
    const badge = await fetch(stub + "/api/marketplace-orders/?can_approve_as_consumer=True",
                              {method: "HEAD", headers: auth});
    out.badge = badge.headers.get("X-Result-Count");
    const list = await fetch(stub + "/api/marketplace-orders/?page=1&page_size=10" +
      "&state=pending-consumer&field=uuid&field=state&field=project_name&o=-created",
      {headers: auth});
    out.list_status = list.status;
    out.count = list.headers.get("X-Result-Count");
    out.link = list.headers.get("Link");
    out.rows = (await list.json()).map(o => Object.keys(o).sort().join(","));
    const customers = await fetch(stub + "/api/customers/?field=name&field=uuid&o=name",
                                  {headers: auth});
    out.customers = (await customers.json()).map(c => c.name);
  } catch (e) {
    out.error = String(e);
  }
  window.__result = out;
}
run();
</script></body></html>
"""


# ---------------------------------------------------------------------------------------------
# A minimal Chrome DevTools Protocol client


class Browser:
    def __init__(self, executable: str, profile: Path) -> None:
        self.process = subprocess.Popen(
            [executable, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--disable-dev-shm-usage", f"--user-data-dir={profile}",
             "--remote-debugging-port=0", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not port_file.exists() or not port_file.read_text().strip():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise RuntimeError("Chromium did not start (no DevToolsActivePort)")
            time.sleep(0.05)
        port = int(port_file.read_text().split()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as r:
            pages = [t for t in json.load(r) if t["type"] == "page"]
        from websockets.sync.client import connect

        self.ws = connect(pages[0]["webSocketDebuggerUrl"], max_size=None, open_timeout=10)
        self._id = 0

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self._id += 1
        self.ws.send(json.dumps({"id": self._id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv(timeout=30))
            if message.get("id") == self._id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message["result"]

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True,
                           awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"JS error: {result['exceptionDetails']}")
        return result["result"].get("value")

    def open(self, url: str) -> None:
        self.call("Page.navigate", url=url)

    def wait_for(self, expression: str, timeout: float = 45) -> Any:
        """Poll a JS expression until it is truthy (None on timeout)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                value = self.evaluate(expression)
            except RuntimeError:
                value = None
            if value:
                return value
            time.sleep(0.1)
        return None

    def close(self) -> None:
        ws = getattr(self, "ws", None)
        if ws is not None:
            ws.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert CHROMIUM is not None
    # Chromium helper processes may still write into the profile while it is removed.
    with tempfile.TemporaryDirectory(
        prefix="waldur-mock-chromium-", ignore_cleanup_errors=True
    ) as profile:
        chrome = Browser(CHROMIUM, Path(profile))
        try:
            yield chrome
        finally:
            chrome.close()


@pytest.fixture(scope="module")
def app_origin() -> Iterator[str]:
    """The 'frontend': a second tiny server, on another port (= another origin)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server API
            page = HOMEPORT_PAGE if self.path.startswith("/homeport.html") else APP_PAGE
            body = page.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def stub(request: pytest.FixtureRequest) -> Iterator[WaldurMock]:
    settings: Settings = getattr(request, "param", None) or Settings()
    server: ServerThread
    server, mock = start_stub(settings)
    try:
        yield mock
    finally:
        mock.close()
        server.stop()


def run_app(browser: Browser, app_origin: str, stub: WaldurMock, user: str) -> dict[str, Any]:
    browser.open(f"{app_origin}/app.html?stub={stub.url}&token={stub.tokens[user]}")
    result = browser.wait_for("window.__result")
    assert result is not None, "the page did not finish"
    return result


def test_cross_origin_app_lists_paginates_and_approves(
    browser: Browser, app_origin: str, stub: WaldurMock
) -> None:
    expected = httpx.get(stub.url + ORDERS, params={"state": "pending-consumer"},
                         headers=stub.auth("staff"))
    total = int(expected.headers["X-Result-Count"])
    assert total > 2, "the default world needs more than one page of pending-consumer orders"

    result = run_app(browser, app_origin, stub, "staff")

    journal = stub.requests()
    assert "error" not in result, result
    assert result["list_status"] == 200
    assert result["count"] == str(total)  # X-Result-Count readable from another origin
    assert 'rel="next"' in result["link"] and 'rel="last"' in result["link"]
    assert result["approve_status"] == 200
    assert result["state"] != "pending-consumer"
    # The change is in the stub, not only in the page.
    detail = httpx.get(f"{stub.url}{ORDERS}{result['uuid']}/", headers=stub.auth("staff"))
    assert detail.json()["state"] == result["state"]
    assert [(e["method"], e["operation"], e["user"]) for e in journal[-3:]] == [
        ("GET", "marketplace_orders_list", "staff"),
        ("POST", "marketplace_orders_approve_by_consumer", "staff"),
        ("GET", "marketplace_orders_retrieve", "staff"),
    ]


@pytest.mark.parametrize("stub", [Settings(cors_origins=("http://frontend.invalid",))],
                         indirect=True)
def test_other_origins_are_refused_when_cors_origin_is_set(
    browser: Browser, app_origin: str, stub: WaldurMock
) -> None:
    result = run_app(browser, app_origin, stub, "staff")
    assert "error" in result and "fetch" in result["error"].lower(), result
    assert "list_status" not in result


def test_swagger_ui_try_it_out_reaches_the_stub(browser: Browser, stub: WaldurMock) -> None:
    browser.open(stub.url + "/api/docs/")
    assert browser.wait_for("window.ui && window.ui.specSelectors.isOAS3()"), "Swagger UI failed"
    servers = browser.evaluate("window.ui.specSelectors.servers().toJS().map(s => s.url)")
    assert servers == [stub.url]
    authorized = browser.wait_for("JSON.stringify(window.ui.authSelectors.authorized().toJS())")
    assert stub.tokens["staff"] in authorized  # pre-authorised with a fixture token
    # Open the list operation and press "Execute" ("Try it out" is on by default), as a user.
    block = "#operations-Core_CRUD-marketplace_orders_list"
    assert browser.wait_for(f"!!document.querySelector('{block} .opblock-summary-control')")
    browser.evaluate(f"document.querySelector('{block} .opblock-summary-control').click()")
    assert browser.wait_for(f"!!document.querySelector('{block} .btn.execute')")
    browser.evaluate(f"document.querySelector('{block} .btn.execute').click()")
    status = browser.wait_for(
        f"(document.querySelector('{block} .live-responses-table tbody .response-col_status')"
        " || {}).textContent")
    assert status is not None and status.strip() == "200"
    curl = browser.evaluate(f"document.querySelector('{block} .curl-command').textContent")
    assert f"Authorization: Token {stub.tokens['staff']}" in curl and stub.url in curl
    entry = stub.requests()[-1]
    assert (entry["operation"], entry["user"], entry["status"]) == (
        "marketplace_orders_list", "staff", 200)


def test_homeport_like_app_logs_in_and_lists_orders_from_another_origin(
    browser: Browser, app_origin: str, stub: WaldurMock
) -> None:
    browser.open(f"{app_origin}/homeport.html?stub={stub.url}&user=cons_owner"
                 "&password=cons_owner")
    result = browser.wait_for("window.__result")
    assert result is not None and "error" not in result, result
    assert result["auth_methods"] == ["LOCAL_SIGNIN"]
    assert result["roles"] >= 5
    assert result["bad_login"] == [401, "Invalid username/password."]
    assert result["login_status"] == 200
    assert result["me"] == ["cons_owner", True, ["CUSTOMER.OWNER"]]
    expected = httpx.get(stub.url + ORDERS, params={"state": "pending-consumer"},
                         headers=stub.auth("cons_owner"))
    assert result["list_status"] == 200 and result["count"] == expected.headers["X-Result-Count"]
    assert 'rel="first"' in result["link"]
    assert set(result["rows"]) == {"project_name,state,uuid"}
    assert int(result["badge"]) >= 1
    assert result["customers"] == ["Consumer Org"]
    journal = [(e["method"], e["operation"], e["user"]) for e in stub.requests()]
    assert ("POST", "api_auth_password", None) in journal
    assert ("GET", "users_me_retrieve", "cons_owner") in journal
