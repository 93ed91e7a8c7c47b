"""Who may do what (reference §3 table), over HTTP: every role x action cell.

Invisible -> 404, visible but not allowed -> 403, allowed -> the action's success status. Each
action runs against a fixture order whose state and offering type pass the other validators,
so the permission is what decides. A denied request never changes the order.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import ORDERS, Api

ROLES = ("staff", "support", "cons_owner", "proj_admin", "proj_manager", "proj_member",
         "prov_owner", "off_manager", "plain_user")

# action -> (order key, success status, {role: status}); roles not listed get the default.
OK, FORBIDDEN, HIDDEN = "ok", 403, 404


def cells(ok: tuple[str, ...], hidden: tuple[str, ...] = ("plain_user",)) -> dict[str, Any]:
    return {r: (OK if r in ok else HIDDEN if r in hidden else FORBIDDEN) for r in ROLES}


PROVIDER_SIDE = ("staff", "prov_owner", "off_manager")
MATRIX: dict[str, tuple[str, int, dict[str, Any]]] = {
    "retrieve": ("ord-pc-slurm", 200, cells(tuple(r for r in ROLES if r != "plain_user"))),
    "approve_by_consumer": ("ord-pc-slurm", 200, cells(("staff", "cons_owner"))),
    # the creator (proj_manager) may reject too
    "reject_by_consumer": ("ord-pc-slurm", 200, cells(("staff", "cons_owner", "proj_manager"))),
    "approve_by_provider": ("ord-pp-slurm", 200, cells(PROVIDER_SIDE)),
    "reject_by_provider": ("ord-pp-slurm", 200, cells(PROVIDER_SIDE)),
    # Basic offering: the offering manager (of the Slurm offering) does not see it
    "cancel": ("ord-pc-basic", 202,
               cells(("staff", "cons_owner", "proj_admin", "proj_manager"),
                     hidden=("plain_user", "off_manager"))),
    "destroy": ("ord-pc-slurm", 204, cells(("staff", "cons_owner", "proj_admin", "proj_manager"))),
    "set_state_executing": ("ord-pp-slurm", 200, cells(PROVIDER_SIDE)),
    "set_state_done": ("ord-exec-slurm", 200, cells(PROVIDER_SIDE)),
    "set_state_erred": ("ord-exec-slurm", 200, cells(PROVIDER_SIDE)),
    "retry": ("ord-erred-slurm", 200, cells(PROVIDER_SIDE)),
    "set_backend_id": ("ord-exec-slurm", 200, cells(PROVIDER_SIDE)),
    # Support offering with messaging enabled; not visible to the Slurm offering manager
    "set_consumer_info": ("ord-pp-support", 200,
                          cells(("staff", "cons_owner", "proj_admin", "proj_manager"),
                                hidden=("plain_user", "off_manager"))),
    "set_provider_info": ("ord-pp-support", 200,
                          cells(("staff", "prov_owner"), hidden=("plain_user", "off_manager"))),
    # staff only, checked before the lookup: even the unrelated user gets 403
    "unlink": ("ord-pc-slurm", 204, cells(("staff",), hidden=())),
}
BODIES: dict[str, dict[str, Any]] = {
    "set_backend_id": {"backend_id": "ext-42"},
    "set_state_erred": {"error_message": "boom", "error_traceback": "tb"},
    "set_consumer_info": {"consumer_message": "hello"},
    "set_provider_info": {"provider_message": "hi", "provider_message_url": "https://x.example/"},
}


def call(api: Api, action: str, key: str, user: str):
    if action == "retrieve":
        return api.get(api.order_url(key), user)
    if action == "destroy":
        return api.delete(api.order_url(key), user)
    return api.action(key, action, user, json=BODIES.get(action, {}))


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", sorted(MATRIX))
def test_permission_cell(api: Api, action: str, role: str) -> None:
    key, success, expected = MATRIX[action]
    before = api.order(key)
    r = call(api, action, key, role)
    want = success if expected[role] == OK else expected[role]
    assert r.status_code == want, (action, role, r.status_code, r.text)
    if want == 403:
        assert r.json() == {"detail": "You do not have permission to perform this action."}
    elif want == 404:
        assert r.json() == {"detail": "No Order matches the given query."}
    if want in (403, 404):
        assert api.order(key) == before  # untouched
    elif action in ("destroy", "unlink"):
        assert api.get(api.order_url(key), "staff").status_code == 404
    elif action != "retrieve":
        assert api.order(key)["modified"] != before["modified"]


def create_body(api: Api, offering: str = "slurm", **extra: Any) -> dict[str, Any]:
    off = api.url("offerings", offering)
    plan = api.backend.offerings[api.uuid("offerings", offering)].plans[0].uuid
    return {"project": api.url("projects", "consumer-main"), "offering": off,
            "plan": f"{off}plans/{plan}/", "attributes": {"name": "perm"}, **extra}


CREATE_EXPECTED = {
    "staff": 201, "cons_owner": 201, "proj_admin": 201, "proj_manager": 201, "proj_member": 201,
    "support": 403,  # sees the project, lacks ORDER.CREATE
    "prov_owner": 400, "off_manager": 400, "plain_user": 400,  # project not visible: hyperlink
}


@pytest.mark.parametrize("role", ROLES)
def test_create_cell(api: Api, role: str) -> None:
    count = int(api.head(ORDERS, "staff").headers["x-result-count"])
    r = api.post(ORDERS, role, json=create_body(api))
    assert r.status_code == CREATE_EXPECTED[role], r.text
    if r.status_code == 400:
        assert r.json() == {"project": ["Invalid hyperlink - Object does not exist."]}
    if r.status_code == 403:
        assert r.json() == {"detail": "You do not have permission to perform this action."}
    grown = int(api.head(ORDERS, "staff").headers["x-result-count"])
    assert grown == count + (1 if r.status_code == 201 else 0)


def test_list_visibility(api: Api) -> None:
    staff = int(api.head(ORDERS, "staff").headers["x-result-count"])
    assert int(api.head(ORDERS, "support").headers["x-result-count"]) == staff
    r = api.get(ORDERS, "plain_user")
    assert r.status_code == 200 and r.json() == [] and r.headers["x-result-count"] == "0"
    # the offering manager sees exactly the Slurm offering's orders
    slurm = api.uuid("offerings", "slurm")
    mine = api.get(ORDERS + "?page_size=300", "off_manager").json()
    assert mine and {o["offering_uuid"] for o in mine} == {slurm}
    all_slurm = api.head(f"{ORDERS}?offering_uuid={slurm}", "staff").headers["x-result-count"]
    assert str(len(mine)) == all_slurm


# -- order of checks (§2.3) ---------------------------------------------------------------------


def test_unlink_403_before_404(api: Api) -> None:
    missing = ORDERS + "f" * 32 + "/unlink/"
    assert api.post(missing, "plain_user").status_code == 403
    assert api.post(ORDERS + "not-a-uuid/unlink/", "cons_owner").status_code == 403
    r = api.post(missing, "staff")
    assert r.status_code == 404


def test_403_wins_over_409(api: Api) -> None:
    r = api.action("ord-done-slurm", "approve_by_consumer", "prov_owner")
    assert r.status_code == 403
    r = api.action("ord-done-slurm", "approve_by_consumer", "cons_owner")
    assert r.status_code == 409
    assert r.json() == {"detail": "Valid states for operation: pending-consumer."}


def test_400_blocked_organization_before_409(api: Api) -> None:
    # ord-blocked is pending-consumer: approve_by_provider's state check would say 409
    r = api.action("ord-blocked", "approve_by_provider", "staff")
    assert r.status_code == 400
    assert r.json() == ["Blocked organization is not available."]
    r = api.action("ord-archived", "reject_by_provider", "staff")
    assert r.status_code == 400
    assert r.json() == ["Archived organization is not available."]
    assert api.order("ord-archived")["state"] == "pending-provider"


def test_expired_project_400(api: Api) -> None:
    r = api.action("ord-expired", "approve_by_consumer", "staff")
    assert r.status_code == 400
    assert r.json() == ["Project 'Expired Project' is expired."]


def test_409_before_405(api: Api) -> None:
    # cancel on Slurm: state validator first (terminal -> 409), then offering type (405)
    r = api.action("ord-done-slurm", "cancel", "staff")
    assert r.status_code == 409
    assert r.json() == {"detail": "Valid states for operation: pending-consumer, "
                                  "pending-provider, executing."}
    r = api.action("ord-pc-slurm", "cancel", "staff")
    assert r.status_code == 405
    assert r.json() == {"detail": 'Method "The order\'s offering with Marketplace.Slurm type '
                                  'does not support this action" not allowed.'}
    assert api.order("ord-pc-slurm")["state"] == "pending-consumer"


def test_404_before_body_validation(api: Api) -> None:
    # DRF validates the body inside the action, after the lookup and permission checks
    r = api.post(ORDERS + "0" * 32 + "/set_backend_id/", "staff", json={})
    assert r.status_code == 404
    r = api.action("ord-exec-slurm", "set_backend_id", "cons_owner", json={})
    assert r.status_code == 403
    r = api.action("ord-exec-slurm", "set_backend_id", "prov_owner", json={})
    assert r.status_code == 400
    assert r.json() == {"backend_id": ["This field is required."]}
