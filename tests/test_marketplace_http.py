"""The marketplace endpoints over HTTP (response validation on): visibility per role, pagination
headers, `field=`, `o=`, filters, 401/404, and the consistency with orders (every URL an order
carries answers; an order placed from catalogue URLs lands on a resource that follows it)."""

from __future__ import annotations

import uuid as uuid_mod
from typing import Any

import pytest
from waldur_api_client import models as client_models

from mockserver import spec
from tests.conftest import BASE, Api

CATS = "/api/marketplace-categories/"
PUBLIC = "/api/marketplace-public-offerings/"
PROVIDER = "/api/marketplace-provider-offerings/"
PLANS = "/api/marketplace-plans/"
SPS = "/api/marketplace-service-providers/"
RES = "/api/marketplace-resources/"
PRES = "/api/marketplace-provider-resources/"
MARKET_OPS = {op: mp for op, mp in spec.operations().items()
              if spec.path_of(op).startswith(("/api/marketplace-categories",
                                              "/api/marketplace-global", "/api/marketplace-public",
                                              "/api/marketplace-plans", "/api/marketplace-plugins",
                                              "/api/marketplace-service-providers",
                                              "/api/marketplace-provider-offerings",
                                              "/api/marketplace-resources",
                                              "/api/marketplace-provider-resources"))}


def names(r: Any) -> set[str]:
    assert r.status_code == 200, r.text
    return {x["name"] for x in r.json()}


def all_pages(api: Api, path: str, user: str) -> list[dict[str, Any]]:
    sep = "&" if "?" in path else "?"
    r = api.get(f"{path}{sep}page_size=300", user)
    assert r.status_code == 200, r.text
    assert int(r.headers["X-Result-Count"]) == len(r.json())
    return r.json()


# ---------------------------------------------------------------------------------------------
# Visibility per role
SHARED_CATALOGUE = {"Reference SLURM offering", "Reference Basic offering",
                    "Licensed Basic offering", "Expert support", "Scripted VM offering",
                    "Paused archive storage"}


@pytest.mark.parametrize(("user", "expected"), [
    ("plain_user", SHARED_CATALOGUE),
    ("prov_owner", SHARED_CATALOGUE),
    ("cons_owner", SHARED_CATALOGUE | {"Consumer internal service"}),
    ("proj_member", SHARED_CATALOGUE | {"Consumer internal service"}),
    ("staff", SHARED_CATALOGUE | {"Consumer internal service", "Upcoming GPU partition"}),
    ("support", SHARED_CATALOGUE | {"Consumer internal service", "Upcoming GPU partition"}),
])
def test_public_offerings_visibility(api: Api, user: str, expected: set[str]) -> None:
    assert names(api.get(PUBLIC + "?page_size=50", user)) == expected


@pytest.mark.parametrize(("user", "expected"), [
    ("plain_user", set()),
    ("proj_manager", set()),
    ("cons_owner", {"Consumer internal service"}),
    ("off_manager", {"Reference SLURM offering"}),
    ("prov_owner", SHARED_CATALOGUE | {"Upcoming GPU partition"}),
    ("sp_manager", SHARED_CATALOGUE | {"Upcoming GPU partition"}),
    ("support", SHARED_CATALOGUE | {"Upcoming GPU partition", "Consumer internal service"}),
])
def test_provider_offerings_visibility(api: Api, user: str, expected: set[str]) -> None:
    assert names(api.get(PROVIDER + "?page_size=50", user)) == expected


def test_draft_offering_is_404_in_the_catalogue_but_not_for_its_provider(api: Api) -> None:
    draft = api.uuid("offerings", "draft-slurm")
    assert api.get(f"{PUBLIC}{draft}/", "prov_owner").status_code == 404
    assert api.get(f"{PUBLIC}{draft}/", "staff").status_code == 200
    assert api.get(f"{PROVIDER}{draft}/", "prov_owner").status_code == 200
    r = api.get(f"{PROVIDER}{draft}/", "plain_user")
    assert r.status_code == 404 and r.json() == {"detail": "No Offering matches the given query."}


def test_private_offering_only_for_its_organization(api: Api) -> None:
    private = api.uuid("offerings", "private-basic")
    assert api.get(f"{PUBLIC}{private}/", "proj_member").status_code == 200
    assert api.get(f"{PUBLIC}{private}/", "prov_owner").status_code == 404


def test_resources_visibility(api: Api) -> None:
    everything = {r["uuid"] for r in all_pages(api, RES, "staff")}
    assert len(everything) == len(api.backend.resources)
    assert all_pages(api, RES, "plain_user") == []
    member = all_pages(api, RES, "proj_member")
    main = api.uuid("projects", "consumer-main")
    assert member and {r["project_uuid"] for r in member} == {main}
    # the consumer view is the consumer's: a provider sees its customers' resources only in
    # the provider view
    assert all_pages(api, RES, "off_manager") == []
    assert {r["project_uuid"] for r in all_pages(api, RES, "prov_owner")} == {
        api.uuid("projects", "provider-internal")}
    off = all_pages(api, PRES, "off_manager")
    assert off and {r["offering_uuid"] for r in off} == {api.uuid("offerings", "slurm")}
    # the provider view: only resources of the caller's offerings
    mine = all_pages(api, PRES, "cons_owner")
    assert {r["offering_uuid"] for r in mine} == {api.uuid("offerings", "private-basic")}
    assert all_pages(api, PRES, "proj_manager") == []
    provider = api.uuid("customers", "provider")
    assert {r["provider_uuid"] for r in all_pages(api, PRES, "prov_owner")} == {provider}


def test_service_providers_and_categories_for_everyone(api: Api) -> None:
    for user in ("plain_user", "staff"):
        assert {s["customer_name"] for s in all_pages(api, SPS, user)} == {
            "Provider Org", "Consumer Org"}
        assert {c["title"] for c in all_pages(api, CATS, user)} == {
            "Reference Category", "Storage", "Helpdesk"}


# ---------------------------------------------------------------------------------------------
# Lists: pagination, field=, o=, filters
@pytest.mark.parametrize("path", [CATS, PUBLIC, PROVIDER, PLANS, SPS, RES, PRES])
def test_pagination_headers(api: Api, path: str) -> None:
    total = int(api.get(path, "staff").headers["X-Result-Count"])
    assert total >= 2
    r = api.get(path + "?page_size=1&page=2", "staff")
    assert r.status_code == 200 and len(r.json()) == 1
    assert r.headers["X-Result-Count"] == str(total)
    link = r.headers["Link"]
    assert f'<{BASE}{path}?page_size=1>; rel="first"' in link
    assert 'rel="prev"' in link and 'rel="last"' in link
    assert ('page=3&page_size=1>; rel="next"' in link) == (total > 2)
    head = api.head(path + "?page_size=1", "staff")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["X-Result-Count"] == str(total)
    bad = api.get(path + "?page=999", "staff")
    assert bad.status_code == 404 and bad.json() == {"detail": "Invalid page."}


@pytest.mark.parametrize(("path", "fields"), [
    (CATS, ["uuid", "title"]),
    (PUBLIC, ["name", "uuid", "thumbnail", "components", "plans"]),
    (PROVIDER, ["uuid", "customer_uuid", "components", "plugin_options"]),
    (SPS, ["uuid", "customer_name", "customer_uuid"]),
    (RES, ["uuid", "state", "name"]),
    (PRES, ["uuid", "state", "backend_id"]),
])
def test_sparse_fields_on_lists_and_retrieve(api: Api, path: str, fields: list[str]) -> None:
    query = "&".join(f"field={f}" for f in fields) + "&field=bogus"
    items = api.get(f"{path}?{query}", "staff").json()
    full = api.get(path, "staff").json()[0]
    expected_order = [k for k in full if k in fields]
    assert items and all(list(x) == expected_order for x in items)
    one = api.get(f"{path}{full['uuid']}/?{query}", "staff")
    assert one.status_code == 200 and list(one.json()) == expected_order
    assert api.get(f"{path}{full['uuid']}/?field=bogus", "staff").json() == full


def test_ordering(api: Api) -> None:
    created = [o["created"] for o in api.get(PUBLIC + "?o=-created&page_size=50", "staff").json()]
    assert created == sorted(created, reverse=True)
    by_name = [o["name"] for o in api.get(PUBLIC + "?page_size=50", "staff").json()]
    assert by_name == sorted(by_name)
    sps = [s["customer_name"] for s in api.get(SPS + "?o=-customer_name", "staff").json()]
    assert sps == ["Provider Org", "Consumer Org"]
    res = [r["name"] for r in api.get(RES + "?o=name&page_size=300", "staff").json()]
    assert res == sorted(res)
    for path in (CATS, PUBLIC, PROVIDER, SPS, RES, PRES):
        r = api.get(path + "?o=bogus", "staff")
        assert r.status_code == 400, path
        assert r.json() == {"o": ["Select a valid choice. bogus is not one of the available "
                                  "choices."]}


def test_public_offering_filters(api: Api) -> None:
    consumer = api.uuid("customers", "consumer")
    assert names(api.get(PUBLIC + "?state=Paused", "staff")) == {"Paused archive storage"}
    assert names(api.get(PUBLIC + "?state=Draft&state=Paused", "staff")) == {
        "Paused archive storage", "Upcoming GPU partition"}
    assert names(api.get(PUBLIC + "?shared=false", "cons_owner")) == {
        "Consumer internal service"}
    allowed = names(api.get(f"{PUBLIC}?allowed_customer_uuid={consumer}&page_size=50", "staff"))
    assert "Consumer internal service" in allowed
    assert "Consumer internal service" not in names(api.get(
        f"{PUBLIC}?allowed_customer_uuid={api.uuid('customers', 'provider')}&page_size=50",
        "staff"))
    project = str(uuid_mod.UUID(api.uuid("projects", "consumer-main")))  # dashed
    assert names(api.get(f"{PUBLIC}?project_uuid={project}&page_size=50", "staff")) == allowed
    assert names(api.get(PUBLIC + "?name=slurm", "staff")) == {"Reference SLURM offering"}
    r = api.get(PUBLIC + "?state=Bogus&customer_uuid=nope", "staff")
    assert r.status_code == 400
    assert r.json() == {
        "state": ["Select a valid choice. Bogus is not one of the available choices."],
        "customer_uuid": ["Enter a valid UUID."]}


def test_categories_has_offerings_and_counts(api: Api) -> None:
    r = api.get(CATS + "?field=uuid&field=title&has_offerings=true", "plain_user")
    assert r.status_code == 200 and {c["title"] for c in r.json()} == {
        "Reference Category", "Storage", "Helpdesk"}
    storage = api.uuid("categories", "storage")
    cons = api.get(f"{CATS}{storage}/", "cons_owner").json()
    plain = api.get(f"{CATS}{storage}/", "plain_user").json()
    # Basic, Licensed, Paused are shared; the private one counts only for its organization
    assert cons["offering_count"] == plain["offering_count"] == 3
    assert cons["available_offerings_count"] == 4 and plain["available_offerings_count"] == 3


def test_global_categories(api: Api) -> None:
    counts = api.get("/api/marketplace-global-categories/", "proj_member")
    assert counts.status_code == 200
    resources = [r for r in all_pages(api, RES, "proj_member") if r["state"] != "Terminated"]
    expected: dict[str, int] = {}
    for r in resources:
        expected[r["category_uuid"]] = expected.get(r["category_uuid"], 0) + 1
    assert counts.json() == expected and sum(expected.values()) > 0
    assert api.get("/api/marketplace-global-categories/", "plain_user").json() == {}
    other = api.uuid("projects", "provider-internal")
    assert api.get(f"/api/marketplace-global-categories/?project_uuid={other}",
                   "proj_member").json() == {}


def test_service_provider_filters(api: Api) -> None:
    provider = api.uuid("customers", "provider")
    r = api.get(f"{SPS}?customer_uuid={provider}&field=uuid", "prov_owner")
    assert r.status_code == 200 and len(r.json()) == 1 and list(r.json()[0]) == ["uuid"]
    assert [s["customer_name"] for s in api.get(SPS + "?name=provider", "staff").json()] == [
        "Provider Org"]
    sp = r.json()[0]["uuid"]
    keys = api.get(f"{SPS}{sp}/keys/", "prov_owner")
    assert keys.status_code == 200 and keys.json() == [] and keys.headers["X-Result-Count"] == "0"
    assert api.get(f"{SPS}{uuid_mod.uuid4().hex}/keys/", "prov_owner").status_code == 404


def test_provider_resources_for_the_site_agent(api: Api) -> None:
    slurm = api.uuid("offerings", "slurm")
    rows = all_pages(api, f"{PRES}?offering_uuid={slurm}&state=OK&state=Erred", "prov_owner")
    assert rows and {r["state"] for r in rows} <= {"OK", "Erred"}
    assert {r["offering_uuid"] for r in rows} == {slurm}
    must = ("uuid", "state", "offering_uuid", "offering_plugin_options", "provider_uuid",
            "category_uuid", "customer_uuid", "project_uuid", "slug", "customer_slug",
            "project_slug", "backend_id", "name", "backend_metadata", "current_usages",
            "limit_usage", "attributes", "limits", "created", "modified")
    res = api.uuid("resources", "res-slurm-alloc")
    for form in (res, str(uuid_mod.UUID(res))):
        one = api.get(f"{PRES}{form}/", "prov_owner")
        assert one.status_code == 200, form
        body = one.json()
        assert all(body.get(k) is not None for k in must), [k for k in must if body.get(k) is None]
        assert isinstance(body["limit_usage"], dict) and body["backend_id"] == "slurm-acc-001"
        assert body["url"] == f"{BASE}{PRES}{res}/"
    assert api.get(f"{PRES}{res}/", "proj_member").status_code == 404
    assert api.get(f"{RES}{res}/", "proj_member").status_code == 200
    assert api.get(PRES + "?state=Bogus", "prov_owner").status_code == 400
    assert api.get(PRES + "?offering_uuid=nope", "prov_owner").json() == {
        "offering_uuid": ["Enter a valid UUID."]}


def test_provider_offering_for_the_site_agent(api: Api) -> None:
    slurm = api.uuid("offerings", "slurm")
    r = api.get(f"{PROVIDER}{slurm}/?field=components&field=customer_uuid&field=partitions"
                "&field=plugin_options", "prov_owner")
    assert r.status_code == 200
    assert list(r.json()) == ["partitions", "customer_uuid", "components", "plugin_options"]
    assert {c["type"] for c in r.json()["components"]} == {"cpu", "ram", "storage"}
    parsed = client_models.ProviderOfferingDetails.from_dict(r.json())
    assert parsed.customer_uuid.hex == api.uuid("customers", "provider")


def test_plugins_cover_every_offering_type(api: Api) -> None:
    r = api.get("/api/marketplace-plugins/", "plain_user")
    assert r.status_code == 200
    types = {p["offering_type"] for p in r.json()}
    assert {o.type for o in api.backend.world.offerings} <= types
    assert all(p["available_limits"] is not None for p in r.json())
    slurm = next(p for p in r.json() if p["offering_type"] == "Marketplace.Slurm")
    assert slurm["available_limits"] == ["cpu", "gpu", "ram"]


# ---------------------------------------------------------------------------------------------
# 401 / 404
@pytest.mark.parametrize("operation", sorted(MARKET_OPS))
def test_every_operation_wants_a_token(api: Api, operation: str) -> None:
    method, path = MARKET_OPS[operation]
    path = path.format(uuid=uuid_mod.uuid4().hex, plan_uuid=uuid_mod.uuid4().hex,
                       service_provider_uuid=uuid_mod.uuid4().hex)
    r = api.request(method, path, json={} if method == "POST" else None)
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == "Token"
    if method != "HEAD":
        assert r.json() == {"detail": "Authentication credentials were not provided."}


@pytest.mark.parametrize("path", [CATS, PUBLIC, PROVIDER, PLANS, SPS, RES, PRES])
def test_unknown_and_malformed_uuids_are_404(api: Api, path: str) -> None:
    r = api.get(f"{path}{uuid_mod.uuid4().hex}/", "staff")
    assert r.status_code == 404 and r.json()["detail"].endswith("matches the given query.")
    # a segment that is not a uuid is just another unknown object (listing.lookup)
    assert api.get(f"{path}not-a-uuid/", "staff").json() == r.json()


def test_plan_of_another_offering_is_404(api: Api) -> None:
    slurm, basic = api.uuid("offerings", "slurm"), api.uuid("offerings", "basic")
    basic_plan = api.get(f"{PUBLIC}{basic}/", "staff").json()["plans"][0]["uuid"]
    assert api.get(f"{PUBLIC}{basic}/plans/{basic_plan}/", "plain_user").status_code == 200
    assert api.get(f"{PUBLIC}{slurm}/plans/{basic_plan}/", "plain_user").status_code == 404
    plans = api.get(f"{PUBLIC}{basic}/plans/", "plain_user")
    assert [p["uuid"] for p in plans.json()][0] == basic_plan


# ---------------------------------------------------------------------------------------------
# Consistency with orders
@pytest.mark.parametrize("user", ["staff", "cons_owner", "proj_member", "prov_owner",
                                  "off_manager", "sp_manager", "blocked_owner"])
def test_every_order_link_answers_for_whoever_sees_the_order(api: Api, user: str) -> None:
    orders = all_pages(api, "/api/marketplace-orders/", user)
    assert orders
    for order in orders:
        for url in (order["offering"], order["plan"]):
            r = api.get(url.removeprefix(BASE), user)
            assert r.status_code == 200, (user, url)
        plan = api.get(order["plan"].removeprefix(BASE), user).json()
        assert plan["uuid"] == order["plan_uuid"] and plan["url"] == order["plan"]
        # the consumer side opens it as a resource, the provider side as a provider resource
        consumer = api.get(f"{RES}{order['marketplace_resource_uuid']}/", user)
        provider = api.get(f"{PRES}{order['marketplace_resource_uuid']}/", user)
        assert 200 in (consumer.status_code, provider.status_code), (user, order["uuid"])
        ok = consumer if consumer.status_code == 200 else provider
        assert ok.json()["offering_uuid"] == order["offering_uuid"]


def test_order_from_catalogue_urls_lands_on_its_resource(api: Api) -> None:
    user = "cons_owner"
    offering = next(o for o in api.get(PUBLIC + "?page_size=50", user).json()
                    if o["name"] == "Reference Basic offering")
    assert offering["state"] == "Active"
    plan = offering["plans"][0]
    name = api.post(RES + "suggest_name/", user, json={
        "project": api.uuid("projects", "consumer-main"), "offering": offering["uuid"]})
    assert name.status_code == 200
    body = {"offering": offering["url"], "plan": plan["url"],
            "project": api.url("projects", "consumer-main"),
            "attributes": {"name": name.json()["name"]}, "limits": {"quota": 2},
            "accepting_terms_of_service": True}
    plan_url = f"{PLANS}{plan['uuid']}/"
    count_before = api.get(plan_url, "prov_owner").json()["resources_count"]
    created = api.post("/api/marketplace-orders/", user, json=body)
    assert created.status_code == 201, created.text
    assert api.get(plan_url, "prov_owner").json()["resources_count"] == count_before + 1
    order = created.json()
    assert order["state"] == "pending-provider"
    res_url = f"{RES}{order['marketplace_resource_uuid']}/"
    resource = api.get(res_url, user).json()
    assert resource["state"] == "Creating" and resource["name"] == name.json()["name"]
    assert resource["plan"] == plan["url"] and resource["offering"] == offering["url"]
    assert api.get(res_url + "offering/", user).json()["uuid"] == offering["uuid"]
    # a second suggestion counts the new resource
    again = api.post(RES + "suggest_name/", user, json={
        "project": api.uuid("projects", "consumer-main"), "offering": offering["uuid"]})
    assert again.json()["name"] != name.json()["name"]
    # the provider approves: a Basic order completes at once, its resource is OK
    assert api.action(order["uuid"], "approve_by_provider", "prov_owner", json={}
                      ).status_code == 200
    assert api.order(order["uuid"])["state"] == "done"
    assert api.get(res_url, user).json()["state"] == "OK"
    assert api.get(f"{PRES}{order['marketplace_resource_uuid']}/", "prov_owner").json()[
        "state"] == "OK"


def test_slurm_order_done_and_erred_change_the_resource(api: Api) -> None:
    order = api.order("ord-exec-slurm")
    url = f"{RES}{order['marketplace_resource_uuid']}/"
    assert api.get(url, "staff").json()["state"] == "Creating"
    assert api.action("ord-exec-slurm", "set_state_done", "prov_owner").status_code == 200
    assert api.get(url, "cons_owner").json()["state"] == "OK"
    other = api.order("ord-pp-slurm")
    assert api.action("ord-pp-slurm", "approve_by_provider", "prov_owner", json={}
                      ).status_code == 200
    assert api.action("ord-pp-slurm", "set_state_erred", "prov_owner",
                      json={"error_message": "x", "error_traceback": "y"}).status_code == 200
    assert api.get(f"{RES}{other['marketplace_resource_uuid']}/", "staff").json()[
        "state"] == "Erred"


def test_state_export_import_and_reset_cover_new_resources(api: Api) -> None:
    offering = api.get(f"{PUBLIC}{api.uuid('offerings', 'slurm')}/", "staff").json()
    created = api.post("/api/marketplace-orders/", "staff", json={
        "offering": offering["url"], "plan": offering["plans"][0]["url"],
        "project": api.url("projects", "consumer-main"), "attributes": {"name": "kept"}})
    assert created.status_code == 201
    res_url = f"{RES}{created.json()['marketplace_resource_uuid']}/"
    state = api.get("/__mock__/state").json()
    assert api.post("/__mock__/reset").status_code == 200
    assert api.get(res_url, "staff").status_code == 404
    assert api.request("PUT", "/__mock__/state", json=state).status_code == 200
    assert api.get(res_url, "staff").json()["name"] == "kept"


def test_sessions_are_isolated(api: Api) -> None:
    offering = api.get(f"{PUBLIC}{api.uuid('offerings', 'basic')}/", "staff").json()
    headers = {"X-Mock-Session": "market-a"}
    created = api.post("/api/marketplace-orders/", "staff", headers=headers, json={
        "offering": offering["url"], "plan": offering["plans"][0]["url"],
        "project": api.url("projects", "consumer-main"), "attributes": {"name": "a"}})
    assert created.status_code == 201
    res_url = f"{RES}{created.json()['marketplace_resource_uuid']}/"
    assert api.get(res_url, "staff", headers=headers).status_code == 200
    assert api.get(res_url, "staff").status_code == 404


def test_suggest_name_errors(api: Api) -> None:
    r = api.post(RES + "suggest_name/", "plain_user", json={
        "project": api.uuid("projects", "consumer-main"), "offering": "nope"})
    assert r.status_code == 400
    assert r.json() == {
        "project": [f'Invalid pk "{api.uuid("projects", "consumer-main")}" - object does not '
                    "exist."],
        "offering": ["Must be a valid UUID."]}
    assert api.post(RES + "suggest_name/", "staff", json={}).json() == {
        "project": ["This field is required."], "offering": ["This field is required."]}


# ---------------------------------------------------------------------------------------------
# The published client parses every answer
@pytest.mark.parametrize(("path", "model"), [
    (CATS, "MarketplaceCategory"), (PUBLIC, "PublicOfferingDetails"),
    (PROVIDER, "ProviderOfferingDetails"), (PLANS, "ProviderPlanDetails"),
    (SPS, "ServiceProvider"), (RES, "Resource"), (PRES, "Resource"),
    ("/api/marketplace-plugins/", "PluginOfferingType"),
])
def test_the_client_parses_the_answers(api: Api, path: str, model: str) -> None:
    items = (api.get(path, "staff").json() if path.endswith("plugins/")
             else all_pages(api, path, "staff"))
    cls = getattr(client_models, model)
    for item in items:
        parsed = cls.from_dict(item)
        if hasattr(parsed, "uuid") and item.get("uuid"):
            assert parsed.uuid.hex == item["uuid"]
    offering = items[0] if path == PUBLIC else None
    if offering is not None:
        for plan in offering["plans"]:
            client_models.BasePublicPlan.from_dict(
                api.get(plan["url"].removeprefix(BASE), "staff").json())


def test_answers_are_byte_identical_after_a_reset(api: Api) -> None:
    paths = [CATS, PUBLIC + "?o=-created", PROVIDER, PLANS, SPS, RES + "?page_size=300",
             PRES + "?page_size=300", "/api/marketplace-global-categories/",
             "/api/marketplace-plugins/"]
    first = [api.get(p, "staff").content for p in paths]
    api.app.registry.reset(None)
    assert [api.get(p, "staff").content for p in paths] == first


def test_a_resource_changed_in_place_is_rendered_anew(api: Api) -> None:
    """The remembered rendering follows any change of the resource, also one made in place."""
    uuid = api.uuid("resources", "res-slurm-alloc")
    assert api.get(f"{PRES}{uuid}/", "prov_owner").json()["limits"] == {"cpu": 1000, "ram": 4000}
    resource = api.backend.resources[uuid]
    resource.limits["cpu"] = 5  # in place (another area might)
    resource.backend_id = "changed"
    body = api.get(f"{PRES}{uuid}/", "prov_owner").json()
    assert body["limits"]["cpu"] == 5 and body["backend_id"] == "changed"
