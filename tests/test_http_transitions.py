"""The state machine over HTTP (reference §2): status, body, read-back state, side effects."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import ORDERS, Api


def create(api: Api, user: str, offering: str = "slurm", project: str = "consumer-main",
           **extra: Any) -> dict[str, Any]:
    off = api.url("offerings", offering)
    plan = api.backend.offerings[api.uuid("offerings", offering)].plans[0].uuid
    body = {"project": api.url("projects", project), "offering": off,
            "plan": f"{off}plans/{plan}/", "attributes": {"name": f"t-{user}"}, **extra}
    r = api.post(ORDERS, user, json=body)
    assert r.status_code == 201, r.text
    return r.json()


def resource_state(api: Api, key_or_uuid: str) -> str:
    r = api.get(api.order_url(key_or_uuid, "resource"), "staff")
    assert r.status_code == 200, r.text
    return r.json()["state"]


def assert_empty(r, status: int = 200) -> None:
    assert r.status_code == status, r.text
    assert r.content == b""
    assert "content-type" not in r.headers


# -- §2.1 initial state on create ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("user", "offering", "project", "extra", "state"),
    [
        ("proj_manager", "slurm", "consumer-main", {}, "pending-consumer"),
        ("proj_admin", "slurm", "consumer-main", {}, "pending-consumer"),
        ("proj_member", "basic", "consumer-main", {}, "pending-consumer"),
        ("cons_owner", "slurm", "consumer-main", {}, "pending-provider"),
        ("staff", "basic", "consumer-main", {}, "pending-provider"),
        # private offering of the same customer: ORDER.APPROVE_PRIVATE skips consumer review
        ("proj_manager", "private-basic", "consumer-main", {}, "pending-provider"),
        # no provider review for Support: straight to executing (stays there, manual)
        ("cons_owner", "support", "consumer-main", {}, "executing"),
        # project starts in the future
        ("cons_owner", "slurm", "consumer-future", {}, "pending-project"),
        ("proj_manager", "slurm", "consumer-future", {}, "pending-consumer"),
        # the order's own start date is in the future
        ("cons_owner", "support", "consumer-main", {"start_date": "2030-01-01"},
         "pending-start-date"),
    ],
)
def test_initial_state(api: Api, user: str, offering: str, project: str,
                       extra: dict[str, Any], state: str) -> None:
    body = create(api, user, offering, project, **extra)
    assert body["state"] == state
    assert api.order(body["uuid"])["state"] == state
    reviewed = state != "pending-consumer"
    if reviewed:
        assert body["consumer_reviewed_by"] == api.url("users", user)
        assert body["consumer_reviewed_at"] is not None
    else:
        assert body["consumer_reviewed_by"] is None and body["consumer_reviewed_at"] is None


def test_create_201_body_and_location(api: Api) -> None:
    r = api.post(ORDERS, "proj_manager", json={
        "project": api.url("projects", "consumer-main"),
        "offering": api.url("offerings", "basic"),
        "plan": api.url("offerings", "basic") + "plans/"
                + api.backend.offerings[api.uuid("offerings", "basic")].plans[0].uuid + "/",
        "attributes": {"name": "disk-z", "size": 3}, "limits": {"quota": 2},
    })
    assert r.status_code == 201, r.text
    body = r.json()
    assert r.headers["location"] == body["url"]
    assert body["url"] == f"http://testserver{ORDERS}{body['uuid']}/"
    assert body["created_by"] == api.url("users", "proj_manager")
    assert body["created_by_username"] == "proj_manager"
    assert body["project"] == api.url("projects", "consumer-main")
    assert body["attributes"] == {"name": "disk-z", "size": 3}
    assert body["limits"] == {"quota": 2}
    assert body["type"] == "Create" and body["resource_name"] == "disk-z"
    assert body["cost"] == "30.0000000000"  # 2 x 12.5 + 5 base
    assert "error_traceback" not in body
    detail = api.order(body["uuid"], "proj_manager")
    assert detail["limits"] == {"quota": 2} and detail["attributes"] == body["attributes"]
    assert "url" not in detail and "created_by" not in detail


# -- §2.2 transitions -------------------------------------------------------------------------


def test_approve_by_consumer_to_pending_provider(api: Api) -> None:
    before = api.order("ord-pc-slurm")
    assert "consumer_reviewed_by" not in before and before["consumer_reviewed_at"] is None
    r = api.action("ord-pc-slurm", "approve_by_consumer", "cons_owner")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert r.json() == {"detail": "Order has been approved by consumer."}
    after = api.order("ord-pc-slurm")
    assert after["state"] == "pending-provider"
    assert after["consumer_reviewed_by"] == "cons_owner"
    assert after["consumer_reviewed_by_full_name"] == "cons_owner Ref"
    assert after["consumer_reviewed_at"].endswith("Z")
    assert "provider_reviewed_by" not in after and after["provider_reviewed_at"] is None


def test_approve_by_consumer_to_pending_project_and_executing(api: Api) -> None:
    future = create(api, "proj_manager", "slurm", "consumer-future")
    api.action(future["uuid"], "approve_by_consumer", "cons_owner")
    assert api.order(future["uuid"])["state"] == "pending-project"
    support = create(api, "proj_manager", "support")
    assert support["state"] == "pending-consumer"
    assert api.action(support["uuid"], "approve_by_consumer", "cons_owner").status_code == 200
    assert api.order(support["uuid"])["state"] == "executing"


def test_approve_by_provider_slurm_stays_executing(api: Api) -> None:
    r = api.action("ord-pp-slurm", "approve_by_provider", "prov_owner")
    assert r.status_code == 200
    assert r.json() == {"detail": "Order has been approved by provider."}
    after = api.order("ord-pp-slurm", "prov_owner")
    assert after["state"] == "executing"
    assert after["provider_reviewed_by"] == "prov_owner"
    assert after["provider_reviewed_at"] is not None
    assert after["resource_type"] == "SLURM.Allocation" and len(after["resource_uuid"]) == 32
    assert after["completed_at"] is None


def test_approve_by_provider_basic_completes(api: Api) -> None:
    assert api.action("ord-pp-basic", "approve_by_provider", "prov_owner").status_code == 200
    after = api.order("ord-pp-basic")
    assert after["state"] == "done" and after["completed_at"] is not None
    assert resource_state(api, "ord-pp-basic") == "OK"


def test_reject_by_consumer(api: Api) -> None:
    r = api.action("ord-pc-slurm", "reject_by_consumer", "proj_manager",
                   json={"consumer_rejection_comment": "not needed"})
    assert_empty(r)
    after = api.order("ord-pc-slurm")
    assert after["state"] == "rejected"
    assert after["consumer_rejection_comment"] == "not needed"
    assert resource_state(api, "ord-pc-slurm") == "Terminated"
    r = api.action("ord-pc-slurm", "reject_by_consumer", "proj_manager")
    assert r.status_code == 409
    assert r.json() == {"detail": "Valid states for operation: pending-consumer."}


def test_reject_by_provider(api: Api) -> None:
    r = api.action("ord-pp-slurm", "reject_by_provider", "prov_owner",
                   json={"provider_rejection_comment": "no capacity"})
    assert_empty(r)
    after = api.order("ord-pp-slurm")
    assert after["state"] == "rejected"
    assert after["provider_rejection_comment"] == "no capacity"
    assert after["provider_reviewed_by"] == "prov_owner"


def test_cancel_basic(api: Api) -> None:
    assert_empty(api.action("ord-pc-basic", "cancel", "proj_admin"), 202)
    assert api.order("ord-pc-basic")["state"] == "canceled"
    assert resource_state(api, "ord-pc-basic") == "Terminated"
    r = api.action("ord-pc-basic", "cancel", "proj_admin")
    assert r.status_code == 409


def test_can_terminate(api: Api) -> None:
    assert api.order("ord-pc-basic")["can_terminate"] is True
    assert api.order("ord-pc-slurm")["can_terminate"] is False
    assert api.order("ord-done-basic")["can_terminate"] is False


@pytest.mark.parametrize("key", ["ord-pc-slurm", "ord-pp-slurm", "ord-erred-slurm"])
def test_set_state_executing(api: Api, key: str) -> None:
    assert_empty(api.action(key, "set_state_executing", "prov_owner"))
    assert api.order(key)["state"] == "executing"


def test_set_state_executing_only_slurm(api: Api) -> None:
    r = api.action("ord-pp-basic", "set_state_executing", "prov_owner")
    assert r.status_code == 405
    assert "Marketplace.Basic type does not support this action" in r.json()["detail"]
    assert api.order("ord-pp-basic")["state"] == "pending-provider"


def test_set_state_done_and_completed_at(api: Api) -> None:
    assert api.order("ord-exec-slurm")["completed_at"] is None
    assert_empty(api.action("ord-exec-slurm", "set_state_done", "off_manager"))
    after = api.order("ord-exec-slurm")
    assert after["state"] == "done"
    assert after["completed_at"] is not None and after["completed_at"].endswith("Z")
    assert resource_state(api, "ord-exec-slurm") == "OK"
    r = api.action("ord-exec-slurm", "set_state_done", "off_manager")
    assert r.status_code == 409
    assert r.json() == {"detail": "Valid states for operation: executing."}


def test_set_state_erred_and_traceback_visibility(api: Api) -> None:
    r = api.action("ord-exec-slurm", "set_state_erred", "prov_owner",
                   json={"error_message": "quota exceeded", "error_traceback": "Traceback: x"})
    assert_empty(r)
    staff = api.order("ord-exec-slurm", "staff")
    assert staff["state"] == "erred"
    assert staff["error_message"] == "quota exceeded"
    assert staff["error_traceback"] == "Traceback: x"
    support = api.order("ord-exec-slurm", "support")
    assert support["error_traceback"] == "Traceback: x"
    provider = api.order("ord-exec-slurm", "prov_owner")
    assert provider["error_message"] == "quota exceeded"
    assert "error_traceback" not in provider
    assert resource_state(api, "ord-exec-slurm") == "Erred"


def test_set_state_erred_on_done_keeps_state(api: Api) -> None:
    r = api.action("ord-done-slurm", "set_state_erred", "prov_owner",
                   json={"error_message": "late failure"})
    assert_empty(r)
    after = api.order("ord-done-slurm")
    assert after["state"] == "done" and after["error_message"] == "late failure"


def test_set_state_erred_empty_body_is_not_a_500(api: Api) -> None:
    # the real server answers {} with a 500 HTML page (KeyError); the stub stores "".
    assert_empty(api.action("ord-exec-slurm", "set_state_erred", "prov_owner", json={}))
    assert api.order("ord-exec-slurm")["state"] == "erred"


def test_set_state_erred_non_string(api: Api) -> None:
    r = api.action("ord-exec-slurm", "set_state_erred", "prov_owner",
                   json={"error_message": ["x"]})
    assert r.status_code == 400
    assert r.json() == {"error_message": ["Not a valid string."]}
    assert api.order("ord-exec-slurm")["state"] == "executing"


def test_retry(api: Api) -> None:
    before = api.order("ord-erred-slurm")
    assert before["error_message"] == "Slurm account creation failed"
    assert_empty(api.action("ord-erred-slurm", "retry", "prov_owner"))
    after = api.order("ord-erred-slurm")
    assert after["state"] == "executing"
    assert after["error_message"] == "" and after["error_traceback"] == ""
    assert after["completed_at"] is None
    assert resource_state(api, "ord-erred-slurm") == "Creating"
    assert api.action("ord-erred-slurm", "retry", "prov_owner").status_code == 409


def test_retry_unsupported_offering_type(api: Api) -> None:
    r = api.action("ord-erred-support", "retry", "prov_owner")
    assert r.status_code == 405
    assert api.order("ord-erred-support")["state"] == "erred"


def test_update_order_done_updates_resource(api: Api) -> None:
    api.action("ord-update-slurm", "approve_by_provider", "prov_owner")
    assert api.order("ord-update-slurm")["state"] == "executing"
    api.action("ord-update-slurm", "set_state_done", "prov_owner")
    res = api.get(api.order_url("ord-update-slurm", "resource"), "staff").json()
    assert res["state"] == "OK"
    assert res["limits"] == {"cpu": 2000, "ram": 8000}
    assert res["plan_name"] == "Premium plan"


def test_terminate_order_done_terminates_resource(api: Api) -> None:
    key = "ord-terminate-basic"
    assert resource_state(api, key) == "OK"
    assert api.action(key, "approve_by_consumer", "cons_owner").status_code == 200
    assert api.order(key)["state"] == "pending-provider"
    assert api.action(key, "approve_by_provider", "prov_owner").status_code == 200
    assert api.order(key)["state"] == "done"
    assert resource_state(api, key) == "Terminated"


def test_destroy(api: Api) -> None:
    assert_empty(api.delete(api.order_url("ord-pc-slurm"), "proj_manager"), 204)
    assert api.get(api.order_url("ord-pc-slurm"), "staff").status_code == 404
    r = api.delete(api.order_url("ord-exec-slurm"), "staff")
    assert r.status_code == 409
    assert r.json() == {"detail": "Valid states for operation: pending-consumer, "
                                  "pending-provider."}


def test_unlink_any_state(api: Api) -> None:
    for key in ("ord-exec-slurm", "ord-done-basic"):
        assert_empty(api.action(key, "unlink", "staff"), 204)
        assert api.get(api.order_url(key), "staff").status_code == 404


def test_set_backend_id(api: Api) -> None:
    r = api.action("ord-exec-slurm", "set_backend_id", "prov_owner", json={"backend_id": "b-1"})
    assert r.status_code == 200
    assert r.json() == {"status": "Order backend_id has been changed."}
    r = api.action("ord-exec-slurm", "set_backend_id", "prov_owner", json={"backend_id": "b-1"})
    assert r.json() == {"status": "Order backend_id is not changed."}
    assert api.order("ord-exec-slurm")["backend_id"] == "b-1"


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({}, "This field is required."),
        ({"backend_id": None}, "This field may not be null."),
        ({"backend_id": "  "}, "This field may not be blank."),
        ({"backend_id": "x" * 256}, "Ensure this field has no more than 255 characters."),
    ],
)
def test_set_backend_id_errors(api: Api, body: dict[str, Any], error: str) -> None:
    r = api.action("ord-exec-slurm", "set_backend_id", "prov_owner", json=body)
    assert r.status_code == 400
    assert r.json() == {"backend_id": [error]}
    assert api.order("ord-exec-slurm")["backend_id"] == ""


def test_messaging(api: Api) -> None:
    r = api.action("ord-pp-support", "set_provider_info", "prov_owner",
                   json={"provider_message": "need a PO", "provider_message_url": "https://x.io/"})
    assert r.status_code == 200 and r.json() == {"detail": "Provider info has been updated."}
    r = api.action("ord-pp-support", "set_consumer_info", "cons_owner",
                   json={"consumer_message": "attached"})
    assert r.status_code == 200 and r.json() == {"detail": "Consumer info has been updated."}
    after = api.order("ord-pp-support")
    assert after["provider_message"] == "need a PO"
    assert after["consumer_message"] == "attached"
    assert after["state"] == "pending-provider"
    # messaging disabled on the Slurm offering: 409
    r = api.action("ord-pp-slurm", "set_consumer_info", "cons_owner", json={})
    assert r.status_code == 409


def test_create_without_plan(api: Api) -> None:
    r = api.post(ORDERS, "cons_owner", json={
        "project": api.url("projects", "consumer-main"),
        "offering": api.url("offerings", "slurm"), "attributes": {"name": "no-plan"}})
    assert r.status_code == 201, r.text
    assert r.json()["plan"] is None and r.json()["cost"] is None
