"""List filters, their 400 messages and ordering (reference §5)."""

from __future__ import annotations

import uuid as uuid_mod

import pytest

from mockserver.orders.exceptions import ApiError
from mockserver.orders.models import OrdersBackend
from mockserver.orders.statemachine import STATE_DB_INT
from mockserver.settings import DEFAULT_FIXTURES
from mockserver.world.fixtures import load_fixtures
from mockserver.world.generate import build_world

DOC = load_fixtures(DEFAULT_FIXTURES)


@pytest.fixture(scope="module")
def b() -> OrdersBackend:
    return OrdersBackend.from_world(build_world(DOC, seed=3, orders=300))


def q(b: OrdersBackend, user: str = "staff", **params) -> list:
    query = {k: v if isinstance(v, list) else [v] for k, v in params.items()}
    u = b.user_by_username(user)
    assert u is not None
    return list(b.list_orders(u, query))


def err(b: OrdersBackend, **params) -> object:
    with pytest.raises(ApiError) as exc:
        q(b, **params)
    assert exc.value.status == 400
    return exc.value.body


def test_default_ordering_is_created_ascending_with_uuid_tiebreak(b) -> None:
    orders = q(b)
    assert len(orders) == len(b.orders)
    keys = [(o.created, o.uuid) for o in orders]
    assert keys == sorted(keys)


def test_state_filter_repeatable_and_validated(b) -> None:
    got = q(b, state=["pending-provider", "executing"])
    assert got and {o.state for o in got} == {"pending-provider", "executing"}
    assert err(b, state=["executing", "bogus"]) == {
        "state": ["Select a valid choice. bogus is not one of the available choices."]}
    assert err(b, state="executing,done") == {"state": [
        "Select a valid choice. executing,done is not one of the available choices."]}


def test_type_filter(b) -> None:
    got = q(b, type="Update")
    assert got and all(o.type == "Update" for o in got)
    assert err(b, type="update") == {
        "type": ["Select a valid choice. update is not one of the available choices."]}


@pytest.mark.parametrize("name", ["project_uuid", "offering_uuid", "customer_uuid",
                                  "provider_uuid", "category_uuid", "resource_uuid"])
def test_uuid_filters_accept_hex_and_dashed_and_reject_junk(b, name) -> None:
    sample = q(b)[5]
    value = {"project_uuid": sample.project.uuid, "offering_uuid": sample.offering.uuid,
             "customer_uuid": sample.project.customer.uuid,
             "provider_uuid": sample.offering.customer.uuid,
             "category_uuid": sample.offering.category.uuid,
             "resource_uuid": sample.resource.uuid}[name]
    by_hex = q(b, **{name: value})
    assert sample in by_hex
    assert q(b, **{name: str(uuid_mod.UUID(value))}) == by_hex
    assert len(by_hex) < len(b.orders) or name == "provider_uuid"
    assert err(b, **{name: "nope"}) == {name: ["Enter a valid UUID."]}


def test_several_errors_collected(b) -> None:
    body = err(b, project_uuid="x", created="yesterday", o="foo")
    assert body == {"project_uuid": ["Enter a valid UUID."],
                    "created": ["Enter a valid date/time."],
                    "o": ["Select a valid choice. foo is not one of the available choices."]}


def test_created_modified_ranges(b) -> None:
    orders = q(b)
    pivot = orders[len(orders) // 2].created
    after = q(b, created=pivot.isoformat())
    before = q(b, created_before=pivot.isoformat())
    assert len(after) + len(before) == len(orders)
    assert all(o.created >= pivot for o in after) and all(o.created < pivot for o in before)
    assert q(b, modified="2030-01-01") == []
    assert err(b, modified_before="31/12/2026") == {"modified_before": ["Enter a valid date/time."]}


def test_offering_type_loose_and_offering_slug_list(b) -> None:
    slurm = q(b, offering_type="Marketplace.Slurm")
    assert slurm and all(o.offering.type == "Marketplace.Slurm" for o in slurm)
    assert q(b, offering_type="No.Such") == []
    slugs = {o.offering.slug for o in q(b)}
    two = sorted(slugs)[:2]
    got = q(b, offering_slug=",".join(two))
    assert got and {o.offering.slug for o in got} == set(two)


def test_offering_and_resource_url_filters(b) -> None:
    sample = q(b)[0]
    url = f"http://h/api/marketplace-provider-offerings/{sample.offering.uuid}/"
    got = q(b, offering=url)
    assert got and all(o.offering is sample.offering for o in got)
    public = f"http://h/api/marketplace-public-offerings/{sample.offering.uuid}/"
    assert q(b, offering=public) == []  # wrong URL form: empty list, no error
    assert q(b, resource=f"http://h/api/marketplace-resources/{sample.resource.uuid}/")
    assert q(b, resource="garbage") == []


def test_query_by_uuid_and_by_name(b) -> None:
    sample = q(b)[7]
    assert q(b, query=sample.uuid) == [sample]
    by_project = q(b, query="future project")
    assert by_project and all("future project" in o.project.name.lower()
                              or "future project" in o.resource_name.lower()
                              for o in by_project)


def test_can_approve_as_consumer(b) -> None:
    pc = q(b, state="pending-consumer")
    assert q(b, can_approve_as_consumer="false") == pc  # any value restricts the state
    assert q(b, can_approve_as_consumer="maybe") == q(b)  # unparseable: ignored
    mine = q(b, "cons_owner", can_approve_as_consumer="true")
    assert mine and all(o.state == "pending-consumer"
                        and o.project.customer.key == "consumer" for o in mine)
    assert q(b, "proj_manager", can_approve_as_consumer="true") == []


def test_can_approve_as_provider(b) -> None:
    got = q(b, "prov_owner", can_approve_as_provider="1")
    assert got and all(o.state == "pending-provider" and o.offering.customer.key == "provider"
                       for o in got)
    assert q(b, "cons_owner", can_approve_as_provider="true") == [
        o for o in q(b, "cons_owner", state="pending-provider")
        if o.offering.customer.key == "consumer"]


def test_was_auto_approved_and_service_manager(b) -> None:
    auto = q(b, was_auto_approved="true")
    assert auto and all(o.auto_approved for o in auto)
    assert len(auto) + len(q(b, was_auto_approved="false")) == len(b.orders)
    off_manager = b.user_by_username("off_manager")
    managed = q(b, service_manager_uuid=off_manager.uuid)
    assert managed and all(o.offering.key == "slurm" for o in managed)
    assert q(b, service_manager_uuid="junk") == []


def test_ordering(b) -> None:
    by_state = q(b, o="state")
    ints = [STATE_DB_INT[o.state] for o in by_state]
    assert ints == sorted(ints)  # DB integer, not alphabetical
    desc = q(b, o="-created")
    assert [o.uuid for o in desc] == [o.uuid for o in reversed(q(b))]
    # repeated key: the last value wins
    assert q(b, o=["state", "-created"]) == desc
    cost = q(b, o="-cost")
    values = [float(o.cost) for o in cost if o.cost is not None]
    assert values == sorted(values, reverse=True)
    reviewed = q(b, o="consumer_reviewed_at")
    nones = [o.consumer_reviewed_at is None for o in reviewed]
    assert nones == sorted(nones)  # nulls last ascending
    assert err(b, o="-foo") == {
        "o": ["Select a valid choice. -foo is not one of the available choices."]}


def test_filters_never_reveal_invisible_orders(b) -> None:
    member = {o.uuid for o in q(b, "proj_member")}
    assert {o.uuid for o in q(b, "proj_member", state="executing")} <= member
    assert q(b, "plain_user", query=q(b)[0].uuid) == []


def test_unknown_params_ignored(b) -> None:
    assert q(b, bogus="1", page="2", field="uuid") == q(b)


def test_results_follow_changes() -> None:
    b = OrdersBackend.from_world(build_world(DOC, seed=3, orders=0))
    staff = b.user_by_username("staff")
    pp = b.world.keys["orders"]["ord-pp-slurm"]
    before = {o.uuid for o in q(b, state="executing")}
    b.run_action(staff, pp, "approve_by_provider")
    assert {o.uuid for o in q(b, state="executing")} == before | {pp}
    b.unlink_order(staff, pp)
    assert {o.uuid for o in q(b, state="executing")} == before


# -- the indexed/lazy path agrees with a naive scan ----------------------------------------------
NAIVE_QUERIES = [
    {}, {"state": ["executing"]}, {"state": ["done", "erred"], "o": ["-created"]},
    {"type": ["Create"], "o": ["state"]}, {"offering_type": ["Marketplace.Basic"]},
    {"o": ["cost"]}, {"o": ["-consumer_reviewed_at"]}, {"state": ["pending-consumer"],
                                                        "o": ["-state,created"]},
]


def naive(b: OrdersBackend, user: str, query: dict) -> list:
    u = b.user_by_username(user)
    rows = [o for o in b.orders.values() if b.can_see(u, o)]
    if "state" in query:
        rows = [o for o in rows if o.state in query["state"]]
    if "type" in query:
        rows = [o for o in rows if o.type in query["type"]]
    if "offering_type" in query:
        rows = [o for o in rows if o.offering.type in query["offering_type"]]
    rows.sort(key=lambda o: (o.created, o.uuid))
    terms = query.get("o", ["created"])[-1].split(",")
    keys = {"created": lambda o: (o.created, o.uuid),
            "state": lambda o: STATE_DB_INT[o.state],
            "cost": lambda o: (o.cost is None, float(o.cost or 0)),
            "consumer_reviewed_at": lambda o: (o.consumer_reviewed_at is None,
                                               o.consumer_reviewed_at or 0)}
    for term in reversed(terms):
        rows.sort(key=keys[term.lstrip("-")], reverse=term.startswith("-"))
    return rows


@pytest.mark.parametrize("user", ["staff", "cons_owner", "off_manager", "proj_member"])
@pytest.mark.parametrize("index", range(len(NAIVE_QUERIES)))
def test_indexed_path_matches_naive_scan(b, user, index) -> None:
    query = NAIVE_QUERIES[index]
    got = b.list_orders(b.user_by_username(user), query)
    expected = naive(b, user, query)
    assert len(got) == len(expected)
    assert [o.uuid for o in got[:10]] == [o.uuid for o in expected[:10]]
    assert [o.uuid for o in got[20:35]] == [o.uuid for o in expected[20:35]]
    assert [o.uuid for o in got] == [o.uuid for o in expected]


def test_page_of_large_result_is_not_materialized() -> None:
    b = OrdersBackend.from_world(build_world(DOC, seed=3, orders=3000))
    result = b.list_orders(b.user_by_username("cons_owner"), {"state": ["executing", "done"]})
    assert len(result) > 200 and len(result[:10]) == 10
    assert getattr(result, "_full", "list") is None  # LazyOrders: count and page, no full list
