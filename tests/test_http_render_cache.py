"""The render cache (mockserver/orders/rendercache.py) never serves a stale order: every mutation
is visible at once in retrieve and list, after both were served (and cached) before it."""

from __future__ import annotations

from typing import Any

from mockserver.orders.rendercache import RenderCache
from mockserver.orders.serializers import render_order
from tests.conftest import BASE, ORDERS, Api


def seen(api: Api, key: str, user: str = "staff") -> tuple[dict[str, Any], dict[str, Any]]:
    """(retrieve, the same order in a list page filtered by its resource)."""
    one = api.order(key, user)
    r = api.get(ORDERS, user, params={"resource_uuid": one["marketplace_resource_uuid"]})
    assert r.status_code == 200, r.text
    listed = [o for o in r.json() if o["uuid"] == one["uuid"]]
    assert len(listed) == 1
    return one, listed[0]


def test_action_is_visible_at_once(api: Api) -> None:
    before, _ = seen(api, "ord-pc-basic")
    assert api.action("ord-pc-basic", "approve_by_consumer").status_code == 200
    one, listed = seen(api, "ord-pc-basic")
    assert one == listed and one["state"] != before["state"]
    assert one["modified"] > before["modified"]


def test_put_patch_are_visible_at_once(api: Api) -> None:
    seen(api, "ord-pc-basic")
    url = api.order_url("ord-pc-basic")
    assert api.request("PATCH", url, "staff",
                       json={"attributes": {"name": "renamed"}}).status_code == 200
    one, listed = seen(api, "ord-pc-basic")
    assert one["attributes"] == listed["attributes"] == {"name": "renamed"}
    assert api.request("PUT", url, "staff",
                       json={"limits": {"quota": 4}, "attributes": {}}).status_code == 200
    one, listed = seen(api, "ord-pc-basic")
    assert one["limits"] == listed["limits"] == {"quota": 4}


def test_set_backend_id_is_visible_at_once(api: Api) -> None:
    seen(api, "ord-exec-slurm")
    r = api.action("ord-exec-slurm", "set_backend_id", "prov_owner", json={"backend_id": "b-9"})
    assert r.status_code == 200
    one, listed = seen(api, "ord-exec-slurm")
    assert one["backend_id"] == listed["backend_id"] == "b-9"


def test_attachment_is_visible_at_once(api: Api) -> None:
    assert seen(api, "ord-pc-basic")[0]["attachment"] is None
    r = api.post(api.order_url("ord-pc-basic", "update_attachment"), "proj_admin",
                 files={"attachment": ("a.pdf", b"%PDF", "application/pdf")})
    assert r.status_code == 200
    one, listed = seen(api, "ord-pc-basic")
    assert one["attachment"] == listed["attachment"] == r.json()["attachment"]
    assert api.post(api.order_url("ord-pc-basic", "delete_attachment"),
                    "proj_admin").status_code == 204
    one, listed = seen(api, "ord-pc-basic")
    assert one["attachment"] is None and listed["attachment"] is None


def test_force_state_is_visible_at_once(api: Api) -> None:
    seen(api, "ord-pc-basic")
    uuid = api.uuid("orders", "ord-pc-basic")
    r = api.post(f"/__mock__/orders/{uuid}/state",
                 json={"state": "erred", "error_message": "disk full",
                       "error_traceback": "Traceback"})
    assert r.status_code == 200, r.text
    one, listed = seen(api, "ord-pc-basic")
    assert one == listed
    assert (one["state"], one["error_message"], one["error_traceback"]) == (
        "erred", "disk full", "Traceback")


def test_reset_and_state_import_are_visible_at_once(api: Api) -> None:
    original, _ = seen(api, "ord-pc-basic")
    saved = api.get("/__mock__/state").content
    assert api.action("ord-pc-basic", "approve_by_consumer").status_code == 200
    changed, _ = seen(api, "ord-pc-basic")
    assert api.post("/__mock__/reset").status_code == 200
    assert seen(api, "ord-pc-basic") == (original, original)
    # back to the changed state by import, then to the original one by import
    assert api.action("ord-pc-basic", "approve_by_consumer").status_code == 200
    changed_state = api.get("/__mock__/state").content
    assert api.request("PUT", "/__mock__/state", content=saved).status_code == 200
    assert seen(api, "ord-pc-basic") == (original, original)
    assert api.request("PUT", "/__mock__/state", content=changed_state).status_code == 200
    assert seen(api, "ord-pc-basic") == (changed, changed)


def test_viewer_class_and_base_url_are_part_of_the_key(api: Api) -> None:
    uuid = api.uuid("orders", "ord-erred-slurm")
    staff, _ = seen(api, "ord-erred-slurm", "staff")
    assert "error_traceback" in staff
    other = api.order("ord-erred-slurm", "proj_admin")
    assert "error_traceback" not in other
    r = api.get(f"{ORDERS}{uuid}/", "staff", headers={"Host": "other.example:8080"})
    assert r.json()["offering"].startswith("http://other.example:8080/")
    assert api.order("ord-erred-slurm")["offering"].startswith(BASE)


def test_sparse_fields_from_the_cache_match_a_fresh_render(api: Api) -> None:
    full, _ = seen(api, "ord-pc-basic")
    url = api.order_url("ord-pc-basic")
    r = api.get(url, "staff", params=[("field", "state"), ("field", "uuid"), ("field", "x")])
    assert list(r.json()) == ["uuid", "state"] and r.json()["state"] == full["state"]
    assert api.get(url, "staff", params={"field": "nope"}).json() == full


def test_resource_changes_by_other_orders_refresh_the_entry(api: Api) -> None:
    backend = api.backend
    order = backend.orders[api.uuid("orders", "ord-update-slurm")]
    staff = backend.user_by_username("staff")
    cache = RenderCache()
    first = cache.get(order, staff, BASE)[0]
    assert cache.get(order, staff, BASE)[0] is first  # a hit
    order.resource.limits = {k: v * 2 for k, v in order.resource.limits.items()}
    again = cache.get(order, staff, BASE)[0]
    assert again is not first
    assert again == render_order(order, staff, BASE)
