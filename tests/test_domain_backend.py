"""OrdersBackend: permissions (role x action), initial states, side effects, create validation,
failed requests change nothing, concurrency."""

from __future__ import annotations

import json
import threading

import pytest

from mockserver.orders.exceptions import ApiError
from mockserver.orders.models import OrdersBackend
from mockserver.settings import DEFAULT_FIXTURES
from mockserver.world.fixtures import load_fixtures
from mockserver.world.generate import build_world

DOC = load_fixtures(DEFAULT_FIXTURES)
BASE = "http://testserver"


def make(**policy) -> OrdersBackend:
    return OrdersBackend.from_world(build_world(DOC, seed=1, orders=0), **policy)


@pytest.fixture
def b() -> OrdersBackend:
    return make()


def U(b: OrdersBackend, name: str):
    user = b.user_by_username(name)
    assert user is not None
    return user


def key(b: OrdersBackend, kind: str, name: str) -> str:
    return b.world.keys[kind][name]


def outcome(fn, *args) -> int:
    try:
        result = fn(*args)
    except ApiError as exc:
        return exc.status
    return getattr(result, "status", 200)


def snapshot(b: OrdersBackend) -> str:
    return json.dumps(b.export_state(), sort_keys=True)


# ---------------------------------------------------------------------------------------------
USERS = ("staff", "support", "cons_owner", "proj_admin", "proj_manager", "proj_member",
         "prov_owner", "off_manager", "sp_manager", "plain_user")
# (action, order key) -> expected status per user, in USERS order.
PERMISSION_CELLS = {
    ("approve_by_consumer", "ord-pc-slurm"): (200, 403, 200, 403, 403, 403, 403, 403, 403, 404),
    ("reject_by_consumer", "ord-pc-slurm"): (200, 403, 200, 403, 200, 403, 403, 403, 403, 404),
    ("approve_by_provider", "ord-pp-slurm"): (200, 403, 403, 403, 403, 403, 200, 200, 200, 404),
    ("reject_by_provider", "ord-pp-slurm"): (200, 403, 403, 403, 403, 403, 200, 200, 200, 404),
    ("cancel", "ord-pc-basic"): (202, 403, 202, 202, 202, 403, 403, 404, 403, 404),
    ("set_state_done", "ord-exec-slurm"): (200, 403, 403, 403, 403, 403, 200, 200, 403, 404),
    ("set_state_erred", "ord-exec-slurm"): (200, 403, 403, 403, 403, 403, 200, 200, 200, 404),
    ("set_backend_id", "ord-exec-slurm"): (200, 403, 403, 403, 403, 403, 200, 200, 200, 404),
    ("destroy", "ord-pc-slurm"): (204, 403, 204, 204, 204, 403, 403, 403, 403, 404),
    ("unlink", "ord-pc-slurm"): (204, 403, 403, 403, 403, 403, 403, 403, 403, 403),
}


def run(b: OrdersBackend, user, action: str, uuid: str) -> int:
    if action in ("destroy", "unlink"):
        fn = b.destroy_order if action == "destroy" else b.unlink_order
        status = outcome(fn, user, uuid)
        return 204 if status == 200 else status
    data = {"backend_id": "x-1"} if action == "set_backend_id" else None
    return outcome(b.run_action, user, uuid, action, data)


@pytest.mark.parametrize(("action", "order"), list(PERMISSION_CELLS))
@pytest.mark.parametrize("user_index", range(len(USERS)))
def test_permission_cell(action: str, order: str, user_index: int) -> None:
    b = make()
    user = U(b, USERS[user_index])
    expected = PERMISSION_CELLS[(action, order)][user_index]
    before = snapshot(b)
    got = run(b, user, action, key(b, "orders", order))
    assert got == expected
    assert (key(b, "orders", order) in b.orders) is (expected != 204)
    if expected >= 400:
        assert snapshot(b) == before


def test_unlink_checks_staff_before_lookup(b) -> None:
    assert outcome(b.unlink_order, U(b, "plain_user"), "not-a-uuid") == 403
    assert outcome(b.unlink_order, U(b, "staff"), "0" * 32) == 404


def test_malformed_uuid_is_not_found_with_drf_text(b) -> None:
    with pytest.raises(ApiError) as exc:
        b.get_order(U(b, "staff"), "xyz")
    assert exc.value.status == 404
    assert exc.value.body == {"detail": "No Order matches the given query."}
    with pytest.raises(ApiError) as exc:
        b.get_order(U(b, "staff"), "f" * 32)
    assert exc.value.body == {"detail": "No Order matches the given query."}


def test_dashed_uuid_lookup(b) -> None:
    import uuid as u

    hex_ = key(b, "orders", "ord-pc-slurm")
    assert b.get_order(U(b, "staff"), str(u.UUID(hex_))).uuid == hex_


def test_blocked_and_archived_and_expired_validators(b) -> None:
    owner = U(b, "blocked_owner")
    with pytest.raises(ApiError) as exc:
        b.run_action(owner, key(b, "orders", "ord-blocked"), "approve_by_consumer")
    assert (exc.value.status, exc.value.body) == (400, ["Blocked organization is not available."])
    with pytest.raises(ApiError) as exc:
        b.run_action(U(b, "prov_owner"), key(b, "orders", "ord-archived"), "approve_by_provider")
    assert exc.value.body == ["Archived organization is not available."]
    with pytest.raises(ApiError) as exc:
        b.run_action(U(b, "staff"), key(b, "orders", "ord-expired"), "approve_by_consumer")
    assert exc.value.body == ["Project 'Expired Project' is expired."]


def test_403_wins_over_409(b) -> None:
    # prov_owner approve_by_consumer on a done order -> 403 (§11)
    assert outcome(b.run_action, U(b, "prov_owner"), key(b, "orders", "ord-done-slurm"),
                   "approve_by_consumer") == 403


def test_authenticate(b) -> None:
    assert b.authenticate("683be672492af986cde636bbd6ff5bed2ea12966").username == "prov_owner"
    for token, text in (("0" * 40, "Invalid token."),
                        ("a9baa093d934044890f4500092ba9d7dcbff5e9b", "User inactive or deleted.")):
        with pytest.raises(ApiError) as exc:
            b.authenticate(token)
        assert exc.value.status == 401 and exc.value.body == {"detail": text}


# -- visibility ---------------------------------------------------------------------------------
def test_visibility(b) -> None:
    staff_all = b.list_orders(U(b, "staff"), {})
    assert len(b.list_orders(U(b, "support"), {})) == len(staff_all)
    assert b.list_orders(U(b, "plain_user"), {}) == []
    main = key(b, "projects", "consumer-main")
    member = b.list_orders(U(b, "proj_member"), {})
    assert member and all(o.project.uuid == main for o in member)
    slurm = key(b, "offerings", "slurm")
    managed = b.list_orders(U(b, "off_manager"), {})
    assert managed and all(o.offering.uuid == slurm for o in managed)
    prov = b.list_orders(U(b, "prov_owner"), {})
    assert {o.offering.customer.key for o in prov} == {"provider"}
    assert any(o.project.customer.key == "provider" for o in prov)
    assert outcome(b.get_order, U(b, "plain_user"), key(b, "orders", "ord-pc-slurm")) == 404


# -- create -------------------------------------------------------------------------------------
def body(b: OrdersBackend, offering="slurm", project="consumer-main", **extra):
    data = {
        "project": f"{BASE}/api/projects/{key(b, 'projects', project)}/",
        "offering": f"{BASE}/api/marketplace-public-offerings/{key(b, 'offerings', offering)}/",
        "attributes": {"name": "new-one"},
    }
    data.update(extra)
    return data


@pytest.mark.parametrize(("user", "offering", "project", "extra", "state"), [
    ("proj_manager", "slurm", "consumer-main", {}, "pending-consumer"),
    ("proj_member", "slurm", "consumer-main", {}, "pending-consumer"),
    ("cons_owner", "slurm", "consumer-main", {}, "pending-provider"),
    ("staff", "basic", "consumer-main", {}, "pending-provider"),
    ("cons_owner", "support", "consumer-main", {}, "executing"),
    ("cons_owner", "script", "consumer-main", {}, "done"),  # auto-processed, delay 0
    ("proj_manager", "private-basic", "consumer-main", {}, "pending-provider"),  # APPROVE_PRIVATE
    ("proj_manager", "slurm", "consumer-future", {}, "pending-consumer"),
    ("cons_owner", "slurm", "consumer-future", {}, "pending-project"),
    ("cons_owner", "script", "consumer-main", {"start_date": "2027-03-01"}, "pending-start-date"),
])
def test_initial_state(b, user, offering, project, extra, state) -> None:
    order = b.create_order(U(b, user), body(b, offering, project, **extra))
    assert order.state == state
    reviewed = state != "pending-consumer"
    assert (order.consumer_reviewed_by is not None) is reviewed
    assert order.auto_approved is reviewed
    if reviewed:
        assert order.consumer_reviewed_by is U(b, user)
        assert order.consumer_reviewed_at is not None


def test_script_order_stays_executing_in_manual_mode() -> None:
    b = make(process_delay=None)
    order = b.create_order(U(b, "cons_owner"), body(b, "script"))
    assert order.state == "executing" and order.completed_at is None


def test_basic_processing_delay_and_callback() -> None:
    b = make(process_delay=2.5)
    seen: list[tuple[str, float]] = []
    b.on_executing.append(lambda uuid, delay: seen.append((uuid, delay)))
    uuid = key(b, "orders", "ord-pp-basic")
    b.run_action(U(b, "prov_owner"), uuid, "approve_by_provider")
    order = b.orders[uuid]
    assert order.state == "executing" and seen == [(uuid, 2.5)] and uuid in b.due
    assert b.complete_processing(uuid) is True
    assert order.state == "done" and order.completed_at == order.modified
    assert order.resource.state == "OK"
    assert b.complete_processing(uuid) is False


def test_basic_done_immediately_and_slurm_stays_executing(b) -> None:
    basic, slurm = key(b, "orders", "ord-pp-basic"), key(b, "orders", "ord-pp-slurm")
    b.run_action(U(b, "prov_owner"), basic, "approve_by_provider")
    b.run_action(U(b, "prov_owner"), slurm, "approve_by_provider")
    assert b.orders[basic].state == "done"
    assert b.orders[slurm].state == "executing"
    assert b.orders[slurm].scope_type == "SLURM.Allocation"
    assert b.orders[slurm].provider_reviewed_by is U(b, "prov_owner")


def expect_400(fn, *args):
    with pytest.raises(ApiError) as exc:
        fn(*args)
    assert exc.value.status == 400
    return exc.value.body


def test_create_validation_messages(b) -> None:
    pm = U(b, "proj_manager")
    before = snapshot(b)
    assert expect_400(b.create_order, pm, {}) == {
        "project": ["This field is required."], "offering": ["This field is required."]}
    assert expect_400(b.create_order, pm, body(b, project="consumer-main", offering="slurm") | {
        "offering": key(b, "offerings", "slurm")}) == {
        "offering": ["Invalid hyperlink - No URL match."]}
    assert expect_400(b.create_order, pm, body(b) | {"project": 7}) == {
        "project": ["Incorrect type. Expected URL string, received int."]}
    assert expect_400(b.create_order, pm, body(b) | {
        "offering": f"{BASE}/api/marketplace-public-offerings/{'a' * 32}/"}) == {
        "offering": ["Invalid hyperlink - Object does not exist."]}
    assert expect_400(b.create_order, U(b, "plain_user"), body(b)) == {
        "project": ["Invalid hyperlink - Object does not exist."]}
    no_attrs = body(b)
    del no_attrs["attributes"]
    assert expect_400(b.create_order, pm, no_attrs) == {"non_field_errors": ["No data provided"]}
    assert expect_400(b.create_order, pm, body(b, limits={"gpu": 1})) == {
        "limits": ["Invalid types: gpu"]}
    assert "limits" in expect_400(b.create_order, pm, body(b, limits={"cpu": "many"}))
    assert expect_400(b.create_order, pm, body(b, "basic-tos")) == {"non_field_errors": [
        "Terms of service for offering 'Licensed Basic offering' have not been accepted."]}
    slurm = b.offerings[key(b, "offerings", "slurm")]
    basic = b.offerings[key(b, "offerings", "basic")]
    plan_url = f"{BASE}/api/marketplace-plans/{slurm.plans[0].uuid}/"
    assert expect_400(b.create_order, pm, body(b, plan=plan_url)) == {
        "plan": ["Invalid hyperlink - Incorrect URL match."]}
    other = f"{BASE}/api/marketplace-public-offerings/{basic.uuid}/plans/{basic.plans[0].uuid}/"
    assert expect_400(b.create_order, pm, body(b, plan=other)) == {
        "plan": ["This plan is not available for selected offering."]}
    assert expect_400(b.create_order, pm, body(b, project="consumer-expired")) == {
        "project": ["Invalid hyperlink - Object does not exist."]}  # pm has no role there
    assert expect_400(b.create_order, U(b, "proj_admin"), body(b, project="consumer-expired")) == [
        "Project 'Expired Project' is expired."]
    assert expect_400(b.create_order, U(b, "blocked_owner"), body(b, project="blocked-project")) \
        == ["Blocked organization is not available."]
    assert snapshot(b) == before


def test_create_terms_accepted_and_plan_cost(b) -> None:
    tos = b.offerings[key(b, "offerings", "basic-tos")]
    plan_url = f"{BASE}/api/marketplace-public-offerings/{tos.uuid}/plans/{tos.plans[0].uuid}/"
    order = b.create_order(U(b, "proj_manager"), body(
        b, "basic-tos", accepting_terms_of_service=True, plan=plan_url, limits={"seats": 4}))
    assert order.cost == "13.0000000000" and order.plan is tos.plans[0]
    assert order.resource.state == "Creating" and order.type == "Create"


def test_create_permission_denied_for_reader_without_create() -> None:
    b = make()
    # support sees every project (so no 400) but holds no ORDER.CREATE -> 403
    assert outcome(b.create_order, U(b, "support"), body(b)) == 403


# -- side effects -------------------------------------------------------------------------------
def test_done_erred_retry_effects(b) -> None:
    prov = U(b, "prov_owner")
    uuid = key(b, "orders", "ord-exec-slurm")
    b.run_action(prov, uuid, "set_state_erred", {"error_message": "boom", "error_traceback": "tb"})
    order = b.orders[uuid]
    assert order.state == "erred" and order.error_message == "boom"
    assert order.error_updated_at == order.modified and order.resource.state == "Erred"
    b.run_action(prov, uuid, "retry")
    assert order.state == "executing" and order.error_message == "" == order.error_traceback
    assert order.completed_at is None and order.resource.state == "Creating"
    b.run_action(prov, uuid, "set_state_done")
    assert order.state == "done" and order.completed_at == order.modified
    assert order.resource.state == "OK"
    # §11: set_state_erred on a done order -> 200, state kept, message stored
    b.run_action(prov, uuid, "set_state_erred", {"error_message": "late"})
    assert order.state == "done" and order.error_message == "late"


def test_set_state_erred_rejects_non_string(b) -> None:
    assert expect_400(b.run_action, U(b, "prov_owner"), key(b, "orders", "ord-exec-slurm"),
                      "set_state_erred", {"error_message": ["x"]}) == {
        "error_message": ["Not a valid string."]}


def test_update_order_done_copies_plan_and_limits(b) -> None:
    uuid = key(b, "orders", "ord-update-slurm")
    prov = U(b, "prov_owner")
    b.run_action(prov, uuid, "approve_by_provider")
    b.run_action(prov, uuid, "set_state_done")
    order = b.orders[uuid]
    assert order.resource.plan is order.plan and order.resource.limits == {"cpu": 2000, "ram": 8000}


def test_cancel_and_reject_effects(b) -> None:
    cancel = key(b, "orders", "ord-pc-basic")
    assert b.run_action(U(b, "cons_owner"), cancel, "cancel").status == 202
    assert b.orders[cancel].state == "canceled" and b.orders[cancel].resource.state == "Terminated"
    term = key(b, "orders", "ord-terminate-basic")
    b.run_action(U(b, "cons_owner"), term, "reject_by_consumer",
                 {"consumer_rejection_comment": "not now"})
    assert b.orders[term].state == "rejected" and b.orders[term].resource.state == "OK"
    assert b.orders[term].consumer_rejection_comment == "not now"
    pp = key(b, "orders", "ord-pp-slurm")
    b.run_action(U(b, "prov_owner"), pp, "reject_by_provider", {"provider_rejection_comment": "no"})
    assert b.orders[pp].provider_rejection_comment == "no"
    assert b.orders[pp].provider_reviewed_by is U(b, "prov_owner")


def test_reject_by_consumer_own_400s(b) -> None:
    uuid = key(b, "orders", "ord-pc-slurm")
    order = b.orders[uuid]
    order.consumer_reviewed_by = U(b, "cons_owner")
    assert expect_400(b.run_action, U(b, "cons_owner"), uuid, "reject_by_consumer") == [
        "Order is already reviewed by consumer."]
    order.consumer_reviewed_by = None
    order.created_by = U(b, "staff")  # a creator who could have auto-approved
    assert expect_400(b.run_action, U(b, "cons_owner"), uuid, "reject_by_consumer") == [
        "Review of order by consumer is not required."]
    assert order.state == "pending-consumer"


def test_set_backend_id(b) -> None:
    prov, uuid = U(b, "prov_owner"), key(b, "orders", "ord-exec-slurm")
    assert b.run_action(prov, uuid, "set_backend_id", {"backend_id": "abc"}).body == {
        "status": "Order backend_id has been changed."}
    assert b.run_action(prov, uuid, "set_backend_id", {"backend_id": "abc"}).body == {
        "status": "Order backend_id is not changed."}
    for data, message in (({}, "This field is required."),
                          ({"backend_id": None}, "This field may not be null."),
                          ({"backend_id": "  "}, "This field may not be blank."),
                          ({"backend_id": "x" * 256},
                           "Ensure this field has no more than 255 characters.")):
        assert expect_400(b.run_action, prov, uuid, "set_backend_id", data) == {
            "backend_id": [message]}
    assert b.orders[uuid].backend_id == "abc"


def test_messaging(b) -> None:
    uuid = key(b, "orders", "ord-pp-support")
    r = b.run_action(U(b, "prov_owner"), uuid, "set_provider_info",
                     {"provider_message": "hi", "provider_message_url": "https://x.example/a"})
    assert r.status == 200 and "detail" in r.body
    order = b.orders[uuid]
    assert order.provider_message == "hi" and order.provider_message_updated_at == order.modified
    r = b.run_action(U(b, "cons_owner"), uuid, "set_consumer_info", {"consumer_message": "ok"})
    assert order.consumer_message == "ok"


def test_attachment_cap_and_roundtrip() -> None:
    b = make(max_attachment_bytes=10)
    uuid = key(b, "orders", "ord-pc-slurm")
    pm = U(b, "proj_manager")
    body_ = expect_400(b.set_attachment, pm, uuid, "po.pdf", "application/pdf", b"x" * 11)
    assert list(body_) == ["attachment"]
    b.set_attachment(pm, uuid, "po.pdf", "application/pdf", b"%PDF-1.4")
    assert b.orders[uuid].attachment.content == b"%PDF-1.4"
    snap = b.export_state()
    again = OrdersBackend.import_state(json.loads(json.dumps(snap)))
    assert again.orders[uuid].attachment.content == b"%PDF-1.4"
    b.set_attachment(pm, uuid, None, None, None)
    assert b.orders[uuid].attachment is None


def test_update_order(b) -> None:
    uuid = key(b, "orders", "ord-pc-basic")
    owner = U(b, "cons_owner")
    order = b.update_order(owner, uuid, {"limits": {"quota": 4}, "start_date": "2027-01-02"}, True)
    assert order.limits == {"quota": 4} and order.cost == "55.0000000000"
    assert expect_400(b.update_order, owner, uuid, {"start_date": "soon"}, True) == {
        "start_date": ["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."]}
    assert outcome(b.update_order, U(b, "proj_manager"), uuid, {}, True) == 403


def test_failed_action_changes_nothing(b) -> None:
    before = snapshot(b)
    for user, uuid, action in (("cons_owner", "ord-done-slurm", "approve_by_consumer"),
                               ("prov_owner", "ord-pc-slurm", "approve_by_provider"),
                               ("prov_owner", "ord-exec-support", "set_state_erred"),
                               ("plain_user", "ord-pc-slurm", "cancel")):
        assert outcome(b.run_action, U(b, user), key(b, "orders", uuid), action) >= 400
    assert snapshot(b) == before


# -- concurrency --------------------------------------------------------------------------------
@pytest.mark.parametrize("round_", range(5))
def test_racing_approve_and_reject_one_wins(round_: int) -> None:
    b = make()
    prov = U(b, "prov_owner")
    uuid = key(b, "orders", "ord-pp-slurm")
    barrier = threading.Barrier(4)
    results: list[int] = []

    def go(action: str) -> None:
        barrier.wait()
        results.append(outcome(b.run_action, prov, uuid, action))

    threads = [threading.Thread(target=go, args=(a,)) for a in
               ("approve_by_provider", "reject_by_provider") * 2]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results).count(200) == 1 and sorted(results).count(409) == 3
    assert b.orders[uuid].state in ("executing", "rejected")


def test_force_state_bypasses_rules_but_not_lookup(b) -> None:
    uuid = key(b, "orders", "ord-done-slurm")
    order = b.orders[uuid]
    before = order.modified
    assert b.force_state(uuid, "pending-consumer", error_message="e") == "done"
    assert order.state == "pending-consumer" and order.error_message == "e"
    assert order.modified > before and order.resource.state == "OK"  # no side effects
    assert uuid in {o.uuid for o in b.list_orders(U(b, "staff"), {"state": ["pending-consumer"]})}
    assert outcome(b.force_state, "f" * 32, "done") == 404
    assert outcome(b.force_state, uuid, "finished") == 400


def test_dashboard_my_orders(b) -> None:
    pm = U(b, "proj_manager")
    mine = b.dashboard_my_orders(pm, {})
    assert mine and all(o.created_by is pm and o.state not in
                        ("done", "erred", "canceled", "rejected") for o in mine)
    keys = [(o.created, o.uuid) for o in mine]
    assert keys == sorted(keys, reverse=True)


def test_offering_and_resource_lookups_follow_visibility(b) -> None:
    uuid = key(b, "orders", "ord-done-slurm")
    assert b.order_offering(U(b, "proj_member"), uuid).key == "slurm"
    assert b.order_resource(U(b, "prov_owner"), uuid).key == "res-slurm-alloc"
    assert outcome(b.order_offering, U(b, "plain_user"), uuid) == 404
    assert outcome(b.order_resource, U(b, "plain_user"), uuid) == 404


def test_unknown_action_and_non_dict_body(b) -> None:
    uuid = key(b, "orders", "ord-pp-slurm")
    assert outcome(b.run_action, U(b, "staff"), uuid, "explode") == 404
    assert expect_400(b.run_action, U(b, "prov_owner"), uuid, "reject_by_provider", [1]) == {
        "non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}
    assert b.orders[uuid].state == "pending-provider"
