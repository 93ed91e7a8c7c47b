"""The site agent's endpoints (openapi/site-agent.yaml) over HTTP, response validation on:
registration (get-or-create, 201/200), who may see and write, the DRF error bodies, what the
agent writes showing in later reads (provider and consumer views, the order's resource),
usages upserted and read back, and the agent's state in export/import, reset and sessions."""

from __future__ import annotations

from typing import Any

from conftest import Api

IDENTITIES = "/api/marketplace-site-agent-identities/"
PR = "/api/marketplace-provider-resources/"
USAGES = "/api/marketplace-component-usages/"
USER_USAGES = "/api/marketplace-component-user-usages/"
PROVIDER = "prov_owner"


def slurm(api: Api) -> str:
    return api.uuid("offerings", "slurm")


def resource(api: Api, key: str = "res-slurm-alloc") -> str:
    return api.uuid("resources", key)


def identity_body(api: Api, **extra: Any) -> dict[str, Any]:
    return {"offering": slurm(api), "name": f"agent-{slurm(api)}", "version": "1.0.7",
            "dependencies": [{"package": "waldur-site-agent-slurm", "version": "1.0.7"}],
            "config_file_path": "", "config_file_content": "",
            "last_restarted": "2026-12-01T10:00:00+00:00", **extra}


def register(api: Api, user: str = PROVIDER) -> dict[str, Any]:
    r = api.post(IDENTITIES, user, json=identity_body(api))
    assert r.status_code == 201, r.text
    return r.json()


# -- registration --------------------------------------------------------------------------


def test_identity_register_list_by_name_and_update(api: Api) -> None:
    name = f"agent-{slurm(api)}"
    assert api.get(IDENTITIES, PROVIDER, params={"name": name}).json() == []
    identity = register(api)
    assert identity["offering"] == slurm(api) and identity["name"] == name
    assert identity["created_by"] == api.backend.user_by_username(PROVIDER).uuid
    assert identity["services"] == [] and identity["last_restarted"] == "2026-12-01T10:00:00Z"
    listed = api.get(IDENTITIES, PROVIDER, params={"name": name})
    assert listed.headers["X-Result-Count"] == "1"
    assert [i["uuid"] for i in listed.json()] == [identity["uuid"]]
    assert api.get(IDENTITIES, PROVIDER, params={"name": "other"}).json() == []
    # a second create is refused; PUT updates it (the agent does so on every start)
    again = api.post(IDENTITIES, PROVIDER, json=identity_body(api))
    assert again.status_code == 400 and "non_field_errors" in again.json()
    r = api.request("PUT", f"{IDENTITIES}{identity['uuid']}/", PROVIDER,
                    json=identity_body(api, version="1.0.8"))
    assert r.status_code == 200 and r.json()["version"] == "1.0.8"
    assert r.json()["modified"] > identity["modified"]


def test_register_service_and_processor_get_or_create(api: Api) -> None:
    identity = register(api)
    url = f"{IDENTITIES}{identity['uuid']}/register_service/"
    first = api.post(url, PROVIDER, json={"name": "order_process", "mode": "order_process"})
    assert first.status_code == 201, first.text
    service = first.json()
    assert service["identity"] == identity["uuid"] and service["state"] == "Active"
    second = api.post(url, PROVIDER, json={"name": "order_process", "mode": "order_process"})
    assert second.status_code == 200 and second.json()["uuid"] == service["uuid"]
    purl = f"/api/marketplace-site-agent-services/{service['uuid']}/register_processor/"
    body = {"name": "OfferingOrderProcessor", "backend_type": "slurm", "backend_version": "1"}
    p1, p2 = api.post(purl, PROVIDER, json=body), api.post(purl, PROVIDER, json=body)
    assert (p1.status_code, p2.status_code) == (201, 200)
    assert p1.json()["service"] == service["uuid"] and p2.json()["uuid"] == p1.json()["uuid"]
    shown = api.get(f"{IDENTITIES}{identity['uuid']}/", PROVIDER).json()
    assert [s["name"] for s in shown["services"]] == ["order_process"]


def test_registration_errors_and_permissions(api: Api) -> None:
    r = api.post(IDENTITIES, PROVIDER, json={})
    assert r.status_code == 400
    assert r.json() == {"offering": ["This field is required."],
                        "name": ["This field is required."]}
    # a consumer may not register an agent for the provider's offering; support sees only
    assert api.post(IDENTITIES, "cons_owner", json=identity_body(api)).status_code == 403
    # 403 comes before the body's other errors
    assert api.post(IDENTITIES, "cons_owner", json={"offering": slurm(api)}).status_code == 403
    identity = register(api)
    assert api.get(IDENTITIES, "cons_owner").json() == []
    assert len(api.get(IDENTITIES, "support").json()) == 1
    url = f"{IDENTITIES}{identity['uuid']}/register_service/"
    assert api.post(url, "support", json={"name": "x"}).status_code == 403
    assert api.post(url, "cons_owner", json={"name": "x"}).status_code == 404
    assert api.post(url, PROVIDER, json={"mode": "x"}).json() == {
        "name": ["This field is required."]}
    assert api.get(f"{IDENTITIES}not-a-uuid/", PROVIDER).status_code == 404
    assert api.get(IDENTITIES).status_code == 401


# -- provider-resource actions -------------------------------------------------------------


def test_backend_id_and_limits_show_in_every_view(api: Api) -> None:
    uuid = resource(api, "res-slurm-retired")
    dashed = f"{uuid[:8]}-{uuid[8:12]}-{uuid[12:16]}-{uuid[16:20]}-{uuid[20:]}"
    r = api.post(f"{PR}{dashed}/set_backend_id/", PROVIDER, json={"backend_id": "a_new"})
    assert r.status_code == 200 and r.json() == {"status": "Resource backend_id has been changed."}
    again = api.post(f"{PR}{uuid}/set_backend_id/", PROVIDER, json={"backend_id": "a_new"})
    assert again.json() == {"status": "Resource backend_id is not changed."}
    r = api.post(f"{PR}{uuid}/set_limits/", PROVIDER, json={"limits": {"cpu": 7}})
    assert r.status_code == 200, r.text
    order = api.uuid("orders", "ord-terminate-slurm")
    for path, user in ((f"{PR}{uuid}/", PROVIDER), (f"/api/marketplace-resources/{uuid}/",
                       "cons_owner"), (f"/api/marketplace-orders/{order}/resource/", "staff")):
        view = api.get(path, user).json()
        assert view["backend_id"] == "a_new", path
        assert view["limits"] == {"cpu": 7, "ram": 1000}, path


def test_resource_action_errors(api: Api) -> None:
    uuid = resource(api)
    bad = api.post(f"{PR}{uuid}/set_limits/", PROVIDER,
                   json={"limits": {"gpu": 1, "cpu": -1, "ram": 2}})
    assert bad.status_code == 400
    assert bad.json() == {"limits": ["gpu is not a valid offering component.",
                                     "cpu must be a non-negative integer."]}
    assert api.post(f"{PR}{uuid}/set_limits/", PROVIDER, json={}).json() == {
        "limits": ["This field is required."]}
    assert api.post(f"{PR}{uuid}/set_limits/", PROVIDER, json={"limits": [1]}).json() == {
        "limits": ['Expected a dictionary of items but got type "list".']}
    for body, text in (({}, "This field is required."),
                       ({"backend_metadata": "x"}, "Value must be valid JSON object.")):
        r = api.post(f"{PR}{uuid}/set_backend_metadata/", PROVIDER, json=body)
        assert r.status_code == 400 and r.json() == {"backend_metadata": [text]}
    assert api.post(f"{PR}{uuid}/set_backend_id/", "support",
                    json={"backend_id": "x"}).status_code == 403
    assert api.post(f"{PR}{uuid}/set_backend_id/", "cons_owner",
                    json={"backend_id": "x"}).status_code == 404
    assert api.post(f"{PR}{'0' * 32}/set_as_ok/", PROVIDER).status_code == 404
    # nothing changed
    assert api.get(f"{PR}{uuid}/", PROVIDER).json()["limits"] == {"cpu": 1000, "ram": 4000}


def test_state_metadata_and_last_sync(api: Api) -> None:
    uuid = resource(api)
    before = api.get(f"{PR}{uuid}/", PROVIDER).json()
    r = api.post(f"{PR}{uuid}/set_as_erred/", PROVIDER,
                 json={"error_message": "boom", "error_traceback": "tb"})
    assert r.status_code == 200
    erred = api.get(f"{PR}{uuid}/", PROVIDER).json()
    assert erred["state"] == "Erred" and erred["error_message"] == "boom"
    assert api.post(f"{PR}{uuid}/set_as_ok/", PROVIDER).status_code == 200
    assert api.post(f"{PR}{uuid}/set_backend_metadata/", PROVIDER,
                    json={"backend_metadata": {"qos": "normal"}}).status_code == 200
    assert api.post(f"{PR}{uuid}/refresh_last_sync/", PROVIDER).status_code == 200
    after = api.get(f"/api/marketplace-resources/{uuid}/", "cons_owner").json()
    assert after["state"] == "OK" and after["error_message"] == ""
    assert after["backend_metadata"] == {"qos": "normal"}
    assert after["last_sync"] > before["last_sync"]
    r = api.post(f"{PR}{uuid}/set_membership_sync_statuses/", PROVIDER,
                 json={"statuses": [{"user": "a"}]})
    assert r.json() == {"stored": 1, "skipped": []}


def test_team_lists_project_members_with_their_offering_users(api: Api) -> None:
    team = api.get(f"{PR}{resource(api)}/team/", PROVIDER)
    assert team.status_code == 200, team.text
    rows = {m["username"]: m for m in team.json()}
    assert set(rows) == {"proj_admin", "proj_manager", "proj_member"}
    assert rows["proj_admin"]["role"] == "PROJECT.ADMIN"
    assert rows["proj_admin"]["offering_user_username"] == "proj_admin"
    assert rows["proj_admin"]["offering_user_state"] == "OK"
    users = api.get("/api/marketplace-offering-users/", PROVIDER,
                    params={"offering_uuid": slurm(api), "is_restricted": "false"}).json()
    assert {u["username"] for u in users} == set(rows)
    # a user sees their own offering users only
    own = api.get("/api/marketplace-offering-users/", "proj_member").json()
    assert [u["username"] for u in own] == ["proj_member"]


def test_offering_reads_for_the_agent(api: Api) -> None:
    base = f"/api/marketplace-provider-offerings/{slurm(api)}/"
    config = api.get(f"{base}user-attribute-config/", PROVIDER).json()
    assert config["exposed_fields"] == ["username", "full_name", "email"]
    assert config["is_default"] is True and config["expose_email"] is True
    for action in ("list_project_service_accounts", "list_course_accounts"):
        r = api.get(f"{base}{action}/", PROVIDER)
        assert r.status_code == 200 and r.json() == [] and r.headers["X-Result-Count"] == "0"
    assert api.get(f"{base}user-attribute-config/", "cons_owner").status_code == 404
    assert api.get("/api/component-user-usage-limits/", PROVIDER).json() == []


# -- usages ----------------------------------------------------------------------------------


def report(api: Api, uuid: str, date: str, **amounts: str) -> Any:
    return api.post(f"{USAGES}set_usage/", PROVIDER, json={
        "resource": uuid, "date": date,
        "usages": [{"type": t, "amount": a} for t, a in amounts.items()]})


def test_usages_are_upserted_per_period_and_read_back(api: Api) -> None:
    uuid = resource(api)
    r = report(api, uuid, "2026-12-01T00:00:00+00:00", cpu="12.345", ram="4")
    assert r.status_code == 201 and r.content == b""
    assert report(api, uuid, "2026-12-05T00:00:00+00:00", cpu="20").status_code == 201
    assert report(api, uuid, "2026-11-03T00:00:00+00:00", cpu="1").status_code == 201
    rows = api.get(USAGES, PROVIDER, params={"resource_uuid": uuid}).json()
    assert [(u["billing_period"], u["type"], u["usage"]) for u in rows] == [
        ("2026-12-01", "cpu", 20), ("2026-12-01", "ram", 4), ("2026-11-01", "cpu", 1)]
    dec = api.get(USAGES, PROVIDER, params={"resource_uuid": uuid,
                                            "billing_period": "2026-12-01"}).json()
    assert len(dec) == 2
    # the consumer reads them too; the resource shows the latest period's usages
    assert len(api.get(USAGES, "cons_owner", params={"resource_uuid": uuid}).json()) == 3
    assert api.get(USAGES, "plain_user").json() == []
    shown = api.get(f"/api/marketplace-resources/{uuid}/", "cons_owner").json()
    assert shown["current_usages"] == {"cpu": 20, "ram": 4}
    # per-user usages, upserted by username
    cpu = next(u for u in dec if u["type"] == "cpu")
    url = f"{USAGES}{cpu['uuid']}/set_user_usages/"
    body = {"usages": [{"username": "proj_admin", "usage": "5.5"}]}
    assert api.post(url, PROVIDER, json=body).status_code == 201
    body["usages"][0]["usage"] = "6.25"
    assert api.post(url, PROVIDER, json=body).status_code == 201
    per_user = api.get(USER_USAGES, PROVIDER, params={"resource_uuid": uuid}).json()
    assert [(u["username"], u["usage"], u["component_type"]) for u in per_user] == [
        ("proj_admin", 6.25, "cpu")]
    assert per_user[0]["component_usage"].endswith(f"/{cpu['uuid']}/")


def test_usage_errors(api: Api) -> None:
    uuid = resource(api)
    assert report(api, uuid, "2026-12-01T00:00:00Z", gpu="1").json() == [
        "Component gpu is not found."]
    bad = report(api, uuid, "2026-12-01T00:00:00Z", cpu="lots")
    assert bad.status_code == 400 and bad.json() == {
        "usages": [{"amount": ["A valid number is required."]}]}
    for usages in ([{"type": "cpu", "amount": "1"}], "not a list"):
        r = api.post(f"{USAGES}set_usage/", "cons_owner", json={
            "resource": uuid, "usages": usages})
        assert r.status_code == 403
    r = api.post(f"{USAGES}set_usage/", PROVIDER, json={"usages": []})
    assert r.json() == {"resource": ["This field is required."]}
    assert api.get(USAGES, PROVIDER, params={"resource_uuid": uuid}).json() == []


# -- state: export/import, reset, sessions -------------------------------------------------


def test_agent_state_is_exported_imported_and_reset(api: Api) -> None:
    identity = register(api)
    report(api, resource(api), "2026-12-01T00:00:00Z", cpu="3")
    client = api.client
    raw = client.get("/__mock__/state").content
    state = client.get("/__mock__/state").json()
    assert [i["uuid"] for i in state["agent_identities"]] == [identity["uuid"]]
    assert len(state["component_usages"]) == 1 and state["offering_users"]
    assert client.post("/__mock__/reset").status_code == 200
    assert api.get(IDENTITIES, PROVIDER).json() == []
    assert client.put("/__mock__/state", json=state).status_code == 200
    assert [i["uuid"] for i in api.get(IDENTITIES, PROVIDER).json()] == [identity["uuid"]]
    assert client.get("/__mock__/state").content == raw  # byte-identical round trip
    # another session has its own agents
    other = api.get(IDENTITIES, PROVIDER, headers={"X-Mock-Session": "ci-2"})
    assert other.status_code == 200 and other.json() == []


def test_documented_agent_config_matches_the_default_fixtures(api: Api) -> None:
    """docs/daily-use.md gives a config that works without edits: its offering uuid and token
    must be the default world's Slurm offering and its provider owner's."""
    import re
    from pathlib import Path

    import yaml

    text = (Path(__file__).resolve().parents[1] / "docs" / "daily-use.md").read_text()
    section = text.split("## Testing a site agent against the stub", 1)[1]
    block = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert block is not None
    offering = yaml.safe_load(block.group(1))["offerings"][0]
    assert offering["waldur_offering_uuid"] == slurm(api)
    assert offering["waldur_api_token"] == api.token(PROVIDER)
    assert set(offering["backend_components"]) <= {
        c.type for c in api.backend.offerings[slurm(api)].components}
    assert offering["backend_settings"]["allocation_prefix"] + "existing-allocation" == \
        api.get(f"{PR}{resource(api)}/", PROVIDER).json()["backend_id"]


def test_answers_parse_with_the_published_client_models(api: Api) -> None:
    """Every answer the agent parses goes through waldur-api-client's own models."""
    from waldur_api_client.models import (
        AgentIdentity,
        AgentProcessor,
        AgentService,
        ComponentUsage,
        ComponentUserUsage,
        OfferingUser,
        OfferingUserAttributeConfig,
        ProjectUser,
        Status,
    )

    identity = register(api)
    AgentIdentity.from_dict(identity)
    service = api.post(f"{IDENTITIES}{identity['uuid']}/register_service/", PROVIDER,
                       json={"name": "report", "mode": "report"}).json()
    assert AgentService.from_dict(service).identity.hex == identity["uuid"]
    processor = api.post(f"/api/marketplace-site-agent-services/{service['uuid']}/"
                         "register_processor/", PROVIDER,
                         json={"name": "P", "backend_type": "slurm"}).json()
    AgentProcessor.from_dict(processor)
    uuid = resource(api)
    Status.from_dict(api.post(f"{PR}{uuid}/set_backend_id/", PROVIDER,
                              json={"backend_id": "a_x"}).json())
    for member in api.get(f"{PR}{uuid}/team/", PROVIDER).json():
        assert ProjectUser.from_dict(member).offering_user_username == member["username"]
    for ou in api.get("/api/marketplace-offering-users/", PROVIDER).json():
        OfferingUser.from_dict(ou)
    OfferingUserAttributeConfig.from_dict(api.get(
        f"/api/marketplace-provider-offerings/{slurm(api)}/user-attribute-config/",
        PROVIDER).json())
    report(api, uuid, "2026-12-01T00:00:00Z", cpu="2.5")
    usage = api.get(USAGES, PROVIDER).json()[0]
    assert float(ComponentUsage.from_dict(usage).usage) == 2.5
    api.post(f"{USAGES}{usage['uuid']}/set_user_usages/", PROVIDER,
             json={"usages": [{"username": "proj_admin", "usage": "1"}]})
    ComponentUserUsage.from_dict(api.get(USER_USAGES, PROVIDER).json()[0])


def test_every_hyperlink_of_the_agents_answers_is_served(api: Api) -> None:
    """The URLs in the area's answers (identity, service, processor, offering user, usage)
    answer 200 for the same caller."""
    identity = register(api)
    service = api.post(f"{IDENTITIES}{identity['uuid']}/register_service/", PROVIDER,
                       json={"name": "report"}).json()
    processor = api.post(f"/api/marketplace-site-agent-services/{service['uuid']}/"
                         "register_processor/", PROVIDER,
                         json={"name": "P", "backend_type": "slurm"}).json()
    report(api, resource(api), "2026-12-01T00:00:00Z", cpu="1")
    usage = api.get(USAGES, PROVIDER).json()[0]
    api.post(f"{USAGES}{usage['uuid']}/set_user_usages/", PROVIDER, json={"usages": [
        {"username": "proj_admin", "usage": "1",
         "user": api.get("/api/marketplace-offering-users/", PROVIDER,
                         params={"user_uuid": api.backend.user_by_username("proj_admin").uuid}
                         ).json()[0]["url"]}]})
    per_user = api.get(USER_USAGES, PROVIDER).json()[0]
    urls = [identity["url"], service["url"], processor["url"],
            api.get(f"{IDENTITIES}{identity['uuid']}/", PROVIDER).json()["services"][0]["url"],
            service["processors"][0]["url"] if service["processors"] else processor["url"],
            per_user["user"], per_user["component_usage"]]
    urls += [u["url"] for u in api.get("/api/marketplace-offering-users/", PROVIDER).json()]
    # users: as staff (which users a provider sees is the structure area's rule)
    users = [m["url"] for m in api.get(f"{PR}{resource(api)}/team/", PROVIDER).json()]
    for url, user in [(u, PROVIDER) for u in urls] + [(u, "staff") for u in users]:
        assert url and url.startswith("http://testserver/api/"), url
        r = api.get(url.removeprefix("http://testserver"), user)
        assert r.status_code == 200, (url, r.status_code, r.text)
    assert api.get(f"/api/marketplace-site-agent-processors/{processor['uuid']}/",
                   "cons_owner").status_code == 404


def test_options_lists_put_only_on_a_visible_identity(api: Api) -> None:
    identity = register(api)
    url = f"{IDENTITIES}{identity['uuid']}/"
    seen = api.request("OPTIONS", url, PROVIDER)
    hidden = api.request("OPTIONS", url, "cons_owner")
    assert seen.status_code == hidden.status_code == 200
    assert "PUT" in seen.json().get("actions", {}), seen.json()
    assert "PUT" not in hidden.json().get("actions", {}), hidden.json()
