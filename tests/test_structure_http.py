"""The structure area over HTTP (openapi/structure.yaml): login, users/me, users, organizations
and projects - visibility per role, pagination headers, `field=`, `o=`, filters, 401/404,
determinism. Response validation is on (tests/conftest.py): every body here passed the contract."""

from __future__ import annotations

import pytest

from tests.conftest import BASE, Api

CUSTOMERS = "/api/customers/"
PROJECTS = "/api/projects/"
USERS = "/api/users/"
ME = "/api/users/me/"
LOGIN = "/api-auth/password/"


def names(r) -> list[str]:
    assert r.status_code == 200, r.text
    return [x["name"] for x in r.json()]


# ---------------------------------------------------------------------------------------------
# Login


def test_login_returns_the_users_token(api: Api) -> None:
    r = api.post(LOGIN, json={"username": "cons_owner", "password": "cons_owner"})
    assert r.status_code == 200
    assert r.json() == {"token": api.token("cons_owner")}
    assert api.get(ME, headers={"Authorization": f"Token {r.json()['token']}"}).json()[
        "username"] == "cons_owner"


@pytest.mark.parametrize("body", [
    {"username": "cons_owner", "password": "wrong"},
    {"username": "nobody", "password": "nobody"},
    {"username": "inactive", "password": "inactive"},
    {"username": "cons_owner", "password": " cons_owner"},  # passwords are not trimmed
])
def test_failed_login_is_waldurs_401(api: Api, body: dict) -> None:
    r = api.post(LOGIN, json=body)
    assert r.status_code == 401
    assert r.json() == {"detail": "Invalid username/password."}


def test_login_field_errors(api: Api) -> None:
    r = api.post(LOGIN, json={})
    assert r.status_code == 400
    assert r.json() == {"username": ["This field is required."],
                        "password": ["This field is required."]}
    r = api.post(LOGIN, json={"username": "", "password": None})
    assert r.json() == {"username": ["This field may not be blank."],
                        "password": ["This field may not be null."]}
    r = api.post(LOGIN, content=b"{nope", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["detail"].startswith("JSON parse error - ")


def test_login_needs_no_token_and_ignores_a_bad_one(api: Api) -> None:
    r = api.post(LOGIN, json={"username": "staff", "password": "staff"},
                 headers={"Authorization": "Token nonsense"})
    assert r.status_code == 200


def test_fixture_password_can_be_set(tmp_path) -> None:
    from mockserver.world.generate import build_world

    doc = (tmp_path / "f.yaml")
    doc.write_text("version: 1\nusers:\n  - {username: a, token: " + "a" * 40
                   + ", password: s3cret}\n  - {username: b, token: " + "b" * 40 + "}\n")
    world = build_world(doc, seed=1, orders=0)
    assert [u.password for u in world.users] == ["s3cret", "b"]


# ---------------------------------------------------------------------------------------------
# users/me and users


def test_me_has_token_and_permissions_from_the_fixture_roles(api: Api) -> None:
    r = api.get(ME, "proj_admin")
    assert r.status_code == 200
    me = r.json()
    assert me["username"] == "proj_admin" and me["token"] == api.token("proj_admin")
    assert me["url"] == f"{BASE}{USERS}{me['uuid']}/"
    consumer = api.uuid("customers", "consumer")
    assert me["permissions"] == [
        {"role_name": "PROJECT.ADMIN", "scope_type": "project",
         "scope_uuid": api.uuid("projects", "consumer-main"), "scope_name": "Consumer Project",
         "customer_uuid": consumer, "customer_name": "Consumer Org"},
        {"role_name": "PROJECT.ADMIN", "scope_type": "project",
         "scope_uuid": api.uuid("projects", "consumer-expired"), "scope_name": "Expired Project",
         "customer_uuid": consumer, "customer_name": "Consumer Org"},
    ]
    assert me["agreement_date"] is not None  # HomePort sends a user without one to a form
    for key in ("uuid", "url", "username", "full_name", "email", "is_staff", "is_support"):
        assert key in me


def test_me_of_staff_and_service_provider_manager(api: Api) -> None:
    staff = api.get(ME, "staff").json()
    assert staff["is_staff"] is True and staff["permissions"] == []
    sp = api.get(ME, "sp_manager").json()["permissions"]
    assert [(p["role_name"], p["scope_type"]) for p in sp] == [
        ("CUSTOMER.MANAGER", "service_provider")]


def test_me_field_and_401(api: Api) -> None:
    assert api.get(ME + "?field=username&field=token", "staff").json() == {
        "username": "staff", "token": api.token("staff")}
    r = api.get(ME)
    assert r.status_code == 401
    assert r.json() == {"detail": "Authentication credentials were not provided."}
    assert r.headers["www-authenticate"] == "Token"
    r = api.get(ME, headers={"Authorization": "Token nope"})
    assert r.status_code == 401 and r.json() == {"detail": "Invalid token."}


def test_users_visibility(api: Api) -> None:
    def usernames(user: str) -> list[str]:
        r = api.get(USERS + "?page_size=100", user)
        assert r.status_code == 200
        return [u["username"] for u in r.json()]

    everyone = usernames("staff")
    assert "inactive" in everyone and len(everyone) == len(api.backend.world.users)
    assert usernames("support") == everyone
    assert usernames("cons_owner") == ["cons_owner", "proj_admin", "proj_manager", "proj_member"]
    assert usernames("plain_user") == ["plain_user"]


def test_user_retrieve_token_only_for_oneself(api: Api) -> None:
    other = api.uuid("users", "proj_member")
    r = api.get(f"{USERS}{other}/", "cons_owner")
    assert r.status_code == 200 and "token" not in r.json() and "permissions" not in r.json()
    mine = api.get(f"{USERS}{other}/", "proj_member").json()
    assert mine["token"] == api.token("proj_member")
    r = api.get(f"{USERS}{other}/", "plain_user")
    assert r.status_code == 404 and r.json() == {"detail": "No User matches the given query."}


def test_user_filters(api: Api) -> None:
    r = api.get(USERS + "?username=prov_owner", "staff")
    assert [u["username"] for u in r.json()] == ["prov_owner"]
    r = api.get(USERS + "?query=PROJ_M", "staff")
    assert [u["username"] for u in r.json()] == ["proj_manager", "proj_member"]


# ---------------------------------------------------------------------------------------------
# Organizations


@pytest.mark.parametrize(("user", "expected"), [
    ("staff", ["Archived Org", "Blocked Org", "Consumer Org", "Provider Org"]),
    ("support", ["Archived Org", "Blocked Org", "Consumer Org", "Provider Org"]),
    ("cons_owner", ["Consumer Org"]),
    ("proj_member", ["Consumer Org"]),
    ("prov_owner", ["Provider Org"]),
    ("sp_manager", ["Provider Org"]),
    ("blocked_owner", ["Archived Org", "Blocked Org"]),
    ("plain_user", []),
])
def test_customers_visibility(api: Api, user: str, expected: list[str]) -> None:
    r = api.get(CUSTOMERS, user)
    assert names(r) == expected
    assert r.headers["x-result-count"] == str(len(expected))


def test_customer_retrieve_and_404s(api: Api) -> None:
    uuid = api.uuid("customers", "consumer")
    body = api.get(f"{CUSTOMERS}{uuid}/", "proj_member").json()
    assert body["name"] == "Consumer Org" and body["url"] == f"{BASE}{CUSTOMERS}{uuid}/"
    assert body["projects_count"] == 3
    dashed = f"{uuid[:8]}-{uuid[8:12]}-{uuid[12:16]}-{uuid[16:20]}-{uuid[20:]}"
    assert api.get(f"{CUSTOMERS}{dashed}/", "staff").json()["uuid"] == uuid
    r = api.get(f"{CUSTOMERS}{uuid}/", "prov_owner")
    assert r.status_code == 404 and r.json() == {"detail": "No Customer matches the given query."}
    r = api.get(f"{CUSTOMERS}not-a-uuid/", "staff")
    assert r.status_code == 404 and r.json() == {"detail": "No Customer matches the given query."}
    assert api.get(f"{CUSTOMERS}{uuid}/").status_code == 401


def test_customers_as_homeport_filters_them(api: Api) -> None:
    r = api.get(CUSTOMERS + "?name=org&field=name&field=uuid&o=name", "staff")
    assert r.json()[0] == {"uuid": api.uuid("customers", "archived"), "name": "Archived Org"}
    assert names(api.get(CUSTOMERS + "?name=CONS", "staff")) == ["Consumer Org"]
    assert names(api.get(CUSTOMERS + "?o=-name", "staff"))[0] == "Provider Org"
    # DRF's OrderingFilter ignores an unknown key: the default order stays
    assert names(api.get(CUSTOMERS + "?o=bogus", "staff"))[0] == "Archived Org"


def test_customers_pagination_headers_and_head(api: Api) -> None:
    r = api.get(CUSTOMERS + "?page_size=3&page=2", "staff")
    assert names(r) == ["Provider Org"]
    base = f"{BASE}{CUSTOMERS}"
    assert r.headers["x-result-count"] == "4"
    assert r.headers["link"] == (
        f'<{base}?page_size=3>; rel="first", <{base}?page_size=3>; rel="prev", '
        f'<{base}?page=2&page_size=3>; rel="last"')
    h = api.head(CUSTOMERS + "?page_size=3", "staff")
    assert h.status_code == 200 and h.content == b"" and h.headers["x-result-count"] == "4"
    r = api.get(CUSTOMERS + "?page=9", "staff")
    assert r.status_code == 404 and r.json() == {"detail": "Invalid page."}


# ---------------------------------------------------------------------------------------------
# Projects


@pytest.mark.parametrize(("user", "expected"), [
    ("staff", 6), ("support", 6), ("cons_owner", 3), ("proj_admin", 2), ("proj_manager", 2),
    ("proj_member", 1), ("prov_owner", 1), ("sp_manager", 0), ("off_manager", 0),
    ("plain_user", 0), ("blocked_owner", 2),
])
def test_projects_visibility(api: Api, user: str, expected: int) -> None:
    r = api.get(PROJECTS, user)
    assert r.status_code == 200 and len(r.json()) == expected
    assert r.headers["x-result-count"] == str(expected)


def test_projects_as_homeport_filters_them(api: Api) -> None:
    consumer = api.uuid("customers", "consumer")
    r = api.get(f"{PROJECTS}?customer={consumer}&field=name&field=url&field=uuid&o=name", "staff")
    assert names(r) == ["Consumer Project", "Expired Project", "Future Project"]
    assert set(r.json()[0]) == {"name", "url", "uuid"}
    assert names(api.get(f"{PROJECTS}?customer_uuid={consumer}&name=fut", "staff")) == [
        "Future Project"]
    assert names(api.get(f"{PROJECTS}?o=-name&page_size=1", "staff")) == [
        "Provider Internal Project"]
    r = api.get(f"{PROJECTS}?o=bogus", "staff")
    assert r.status_code == 400
    assert r.json() == {"o": ["Select a valid choice. bogus is not one of the available choices."]}
    r = api.get(f"{PROJECTS}?customer=nope", "staff")
    assert r.status_code == 400 and r.json() == {"customer": ["Enter a valid UUID."]}


def test_project_retrieve_links_its_customer(api: Api) -> None:
    uuid = api.uuid("projects", "consumer-future")
    body = api.get(f"{PROJECTS}{uuid}/", "proj_manager").json()
    assert body["start_date"] == "2027-01-15"
    assert api.get(body["customer"].removeprefix(BASE), "proj_manager").status_code == 200
    r = api.get(f"{PROJECTS}{uuid}/", "proj_member")
    assert r.status_code == 404 and r.json() == {"detail": "No Project matches the given query."}


def test_order_hyperlinks_to_project_and_customer_answer(api: Api) -> None:
    order = api.order("ord-pc-slurm", "proj_manager")
    assert api.get(f"{PROJECTS}{order['project_uuid']}/", "proj_manager").status_code == 200
    assert api.get(f"{CUSTOMERS}{order['customer_uuid']}/", "proj_manager").status_code == 200


def test_answers_are_deterministic_across_resets(api: Api) -> None:
    paths = [ME, USERS, CUSTOMERS + "?page_size=50", PROJECTS + "?page_size=50"]
    first = [api.get(p, "staff").content for p in paths]
    api.app.registry.reset(None)
    assert [api.get(p, "staff").content for p in paths] == first


def test_sessions_are_isolated_worlds(api: Api) -> None:
    r = api.get(CUSTOMERS, "staff", headers={"X-Mock-Session": "other"})
    assert names(r) == names(api.get(CUSTOMERS, "staff"))


def test_swagger_ui_spec_shows_every_area(api: Api) -> None:
    r = api.get("/api/docs/openapi.json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    assert {"/api/marketplace-orders/", "/api/customers/", "/api/users/me/",
            "/api-auth/password/"} <= set(paths)


def test_state_export_import_and_reset_cover_the_structure_area(waldur_mock) -> None:
    import httpx

    state = waldur_mock.state()
    assert {u["username"]: u["password"] for u in state["users"]}["staff"] == "staff"
    for u in state["users"]:
        if u["username"] == "staff":
            u["password"] = "changed"
    waldur_mock.load_state(state)
    login = waldur_mock.url + LOGIN
    assert httpx.post(login, json={"username": "staff", "password": "changed"}).status_code == 200
    assert httpx.post(login, json={"username": "staff", "password": "staff"}).status_code == 401
    waldur_mock.reset()
    assert httpx.post(login, json={"username": "staff", "password": "staff"}).status_code == 200
    r = httpx.get(waldur_mock.url + CUSTOMERS, headers=waldur_mock.auth("cons_owner"))
    assert [c["name"] for c in r.json()] == ["Consumer Org"]


# ---------------------------------------------------------------------------------------------
# Boot calls, fixed and empty answers


def test_roles_are_served_anonymously_with_their_permissions(api: Api) -> None:
    r = api.get("/api/roles/")
    assert r.status_code == 200 and r.headers["x-result-count"] == "7"
    roles = {x["name"]: x for x in r.json()}
    assert "ORDER.APPROVE" in roles["CUSTOMER.OWNER"]["permissions"]
    assert "ORDER.APPROVE" not in roles["PROJECT.MANAGER"]["permissions"]
    assert roles["CUSTOMER.MANAGER"]["content_type"] == "service_provider"
    assert roles["CUSTOMER.OWNER"]["users_count"] == 3
    one = api.get(f"/api/roles/{roles['PROJECT.MEMBER']['uuid']}/")
    assert one.status_code == 200 and one.json() == roles["PROJECT.MEMBER"]
    assert api.get("/api/roles/" + "0" * 32 + "/").json() == {
        "detail": "No Role matches the given query."}


def test_permissions_of_me_are_roles_homeport_can_resolve(api: Api) -> None:
    names = {x["name"] for x in api.get("/api/roles/").json()}
    for user in ("cons_owner", "proj_admin", "off_manager", "sp_manager"):
        for perm in api.get(ME, user).json()["permissions"]:
            assert perm["role_name"] in names


def test_configuration_boots_homeport(api: Api) -> None:
    r = api.get("/api/configuration/")
    assert r.status_code == 200
    conf = r.json()
    assert conf["WALDUR_CORE"]["AUTHENTICATION_METHODS"] == ["LOCAL_SIGNIN"]
    assert ["en", "English"] in conf["LANGUAGES"] and conf["LANGUAGE_CODE"] == "en"
    for key in ("FEATURES", "WALDUR_AUTH_SAML2", "WALDUR_MARKETPLACE"):
        assert isinstance(conf[key], dict)
    for key in ("USER_MANDATORY_FIELDS", "FULL_PAGE_TITLE"):
        assert key in conf["WALDUR_CORE"]
    from mockserver import spec

    assert conf == spec.response_example("configuration_retrieve")  # the contract's example


def test_version_and_health_check(api: Api) -> None:
    assert api.get("/api/version/", "staff").json() == {"version": "8.1.3"}
    assert api.get("/api/version/").status_code == 200
    r = api.get("/health-check/")
    assert r.status_code == 200 and set(r.json().values()) == {"working"}


EMPTY_LISTS = ["/api/identity-providers/", "/api/customer-credits/?customer_uuid=",
               "/api/marketplace-project-update-requests/?state=pending",
               "/api/marketplace-checklists/", "/api/marketplace-offering-permissions/?customer=x",
               "/api/marketplace-robot-accounts/?resource=http://x/"]


@pytest.mark.parametrize("path", EMPTY_LISTS)
def test_empty_answers(api: Api, path: str) -> None:
    r = api.get(path, "staff")
    assert r.status_code == 200 and r.json() == []
    assert r.headers["x-result-count"] == "0"
    assert 'rel="first"' in r.headers["link"]
    h = api.head(path, "staff")
    assert h.status_code == 200 and h.headers["x-result-count"] == "0" and h.content == b""


@pytest.mark.parametrize("path", EMPTY_LISTS[1:])
def test_empty_answers_still_need_a_token(api: Api, path: str) -> None:
    r = api.get(path)
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Token"


@pytest.mark.parametrize("path", ["/api/no-such-endpoint/", "/api/marketplace-nothing/",
                                  "/api/users/me/extra/", "/api/customers/x/y/"])
def test_unknown_paths_stay_404(api: Api, path: str) -> None:
    r = api.get(path, "staff")
    assert r.status_code == 404 and r.json() == {"detail": "Not found."}


# ---------------------------------------------------------------------------------------------
# The published client parses every structure answer


def test_waldur_api_client_parses_the_structure_answers(api: Api) -> None:
    from waldur_api_client import models as m

    def parse(model, path, user="staff"):
        r = api.get(path, user)
        assert r.status_code == 200, (path, r.text)
        body = r.json()
        return [model.from_dict(x) for x in body] if isinstance(body, list) else \
            model.from_dict(body)

    me = parse(m.User, ME, "cons_owner")
    assert me.token == api.token("cons_owner")
    assert me.permissions[0].role_name == "CUSTOMER.OWNER"
    assert str(me.permissions[0].scope_uuid.hex) == api.uuid("customers", "consumer")
    assert all(isinstance(u, m.User) for u in parse(m.User, USERS))
    customers = parse(m.Customer, CUSTOMERS)
    assert {c.name for c in customers} >= {"Consumer Org"}
    projects = parse(m.Project, PROJECTS + "?page_size=50")
    assert projects[0].customer_uuid.hex in {c.uuid.hex for c in customers}
    roles = parse(m.RoleDetails, "/api/roles/")
    assert {r.content_type for r in roles} >= {m.RoleType.CUSTOMER, m.RoleType.PROJECT}
    assert parse(m.Version, "/api/version/").version == "8.1.3"
    assert parse(m.IdentityProvider, "/api/identity-providers/") == []
    assert parse(m.CustomerCredit, "/api/customer-credits/") == []
    token = m.CoreAuthToken.from_dict(api.post(LOGIN, json={"username": "staff",
                                                            "password": "staff"}).json())
    assert token.token == api.token("staff")
    failed = m.AuthTokenChallenge.from_dict(api.post(LOGIN, json={"username": "staff",
                                                                  "password": "x"}).json())
    assert failed.detail == "Invalid username/password."
    conf = m.ConfigurationRetrieveResponse200.from_dict(api.get("/api/configuration/").json())
    assert "WALDUR_CORE" in conf


def test_customer_credits_check_their_filter(api: Api) -> None:
    r = api.get("/api/customer-credits/?customer_uuid=AAA", "staff")
    assert r.status_code == 400 and r.json() == {"customer_uuid": ["Enter a valid UUID."]}


def test_project_counts_follow_new_resources(api: Api) -> None:
    """Rendered projects are memoised per world; a new order's resource changes the stamp."""
    uuid = api.uuid("projects", "consumer-main")
    before = api.get(f"{PROJECTS}{uuid}/", "staff").json()["resources_count"]
    offering = api.backend.offerings[api.uuid("offerings", "basic")]
    plan = f"{api.url('offerings', 'basic')}plans/{offering.plans[0].uuid}/"
    r = api.post("/api/marketplace-orders/", "staff", json={
        "project": api.url("projects", "consumer-main"), "offering": api.url("offerings", "basic"),
        "plan": plan, "attributes": {"name": "memo-check"}, "limits": {"quota": 1}})
    assert r.status_code == 201, r.text
    assert api.get(f"{PROJECTS}{uuid}/", "staff").json()["resources_count"] == before + 1
    listed = {p["uuid"]: p for p in api.get(PROJECTS, "staff").json()}
    assert listed[uuid]["resources_count"] == before + 1


# ---------------------------------------------------------------------------------------------
# X-Impersonated-User-UUID (HomePort's impersonation)


def test_staff_impersonates_with_the_header(api: Api) -> None:
    member = api.uuid("users", "proj_member")
    header = {"X-Impersonated-User-UUID": member}
    me = api.get(ME, "staff", headers=header).json()
    assert me["username"] == "proj_member" and me["is_staff"] is False
    assert names(api.get(PROJECTS, "staff", headers=header)) == ["Consumer Project"]
    orders = api.get("/api/marketplace-orders/?page_size=300", "staff", headers=header)
    mine = api.get("/api/marketplace-orders/?page_size=300", "proj_member")
    assert orders.status_code == 200 and orders.content == mine.content
    dashed = f"{member[:8]}-{member[8:12]}-{member[12:16]}-{member[16:20]}-{member[20:]}"
    assert api.get(ME, "staff", headers={"X-Impersonated-User-UUID": dashed}).json()[
        "username"] == "proj_member"


@pytest.mark.parametrize(("caller", "value"), [
    ("staff", "null"), ("staff", ""), ("staff", "0" * 32), ("staff", "not-a-uuid"),
    ("cons_owner", "USER:proj_member"), ("support", "USER:proj_member"),
    ("staff", "USER:inactive"),
])
def test_impersonation_is_ignored_otherwise(api: Api, caller: str, value: str) -> None:
    if value.startswith("USER:"):
        value = api.uuid("users", value[5:])
    me = api.get(ME, caller, headers={"X-Impersonated-User-UUID": value}).json()
    assert me["username"] == caller
