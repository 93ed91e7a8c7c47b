"""Wire representations: key sets and order (§11 examples), formats (§8), spec conformance."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from mockserver import spec
from mockserver.orders.models import OrdersBackend
from mockserver.orders.serializers import (
    CREATE_FIELDS,
    render_dashboard_order,
    render_offering,
    render_order,
    render_resource,
)
from mockserver.settings import DEFAULT_FIXTURES
from mockserver.world.clock import format_instant
from mockserver.world.fixtures import load_fixtures
from mockserver.world.generate import build_world

DOC = load_fixtures(DEFAULT_FIXTURES)
BASE = "http://127.0.0.1:8080"
HEX = re.compile(r"^[0-9a-f]{32}$")


@pytest.fixture(scope="module")
def b() -> OrdersBackend:
    return OrdersBackend.from_world(build_world(DOC, seed=1, orders=40))


def U(b, name):
    return b.user_by_username(name)


def order(b, name):
    return b.orders[b.world.keys["orders"][name]]


def validator(schema_name: str):
    fast = pytest.importorskip("mockserver.fastvalidation")
    full = spec.load_spec()
    return fast.compiled({"$ref": f"#/components/schemas/{schema_name}",
                          "components": full["components"]})


def test_every_order_conforms_to_order_details(b) -> None:
    v = validator("OrderDetails")
    for viewer in ("staff", "prov_owner"):
        for o in b.orders.values():
            doc = render_order(o, U(b, viewer), BASE)
            assert v.is_valid(doc), (o.uuid, next(iter(v.iter_errors(doc))).message)


def test_create_representation_conforms_and_matches_example_1(b) -> None:
    v = validator("OrderCreated")
    o = order(b, "ord-pc-slurm")
    doc = render_order(o, U(b, "proj_manager"), BASE, "create")
    assert tuple(doc) == tuple(k for k in CREATE_FIELDS if k not in (
        "error_traceback", "consumer_reviewed_by_full_name", "consumer_reviewed_by_username"))
    assert v.is_valid(doc)
    assert doc["url"] == f"{BASE}/api/marketplace-orders/{o.uuid}/"
    assert doc["project"] == f"{BASE}/api/projects/{o.project.uuid}/"
    assert doc["created_by"] == f"{BASE}/api/users/{o.created_by.uuid}/"
    assert doc["created_by_username"] == "proj_manager"
    assert doc["consumer_reviewed_by"] is None and doc["cost"] == "0.0000000000"
    assert "error_traceback" in render_order(o, U(b, "staff"), BASE, "create")
    reviewed = render_order(order(b, "ord-pp-slurm"), U(b, "cons_owner"), BASE, "create")
    assert reviewed["consumer_reviewed_by"].startswith(f"{BASE}/api/users/")


def test_detail_keys_follow_spec_order_and_examples(b) -> None:
    o = order(b, "ord-erred-slurm")  # consumer + provider reviewed
    doc = render_order(o, U(b, "prov_owner"), BASE)
    spec_keys = spec.schema_properties("OrderDetails")
    assert list(doc) == [k for k in spec_keys if k in doc]
    for absent in ("url", "project", "created_by", "created_by_username", "error_traceback"):
        assert absent not in doc
    assert doc["consumer_reviewed_by"] == "staff"
    assert doc["provider_reviewed_by"] == "prov_owner"
    assert doc["error_message"] == "Slurm account creation failed"
    assert render_order(o, U(b, "support"), BASE)["error_traceback"].startswith("Traceback")


def test_unreviewed_sides_omit_reviewer_keys(b) -> None:
    pc = render_order(order(b, "ord-pc-slurm"), U(b, "staff"), BASE)
    for k in ("consumer_reviewed_by", "consumer_reviewed_by_full_name",
              "provider_reviewed_by", "provider_reviewed_by_full_name"):
        assert k not in pc
    assert pc["consumer_reviewed_at"] is None and pc["provider_reviewed_at"] is None
    pp = render_order(order(b, "ord-pp-slurm"), U(b, "staff"), BASE)
    assert pp["consumer_reviewed_by"] == "cons_owner" and "provider_reviewed_by" not in pp


def test_formats(b) -> None:
    o = order(b, "ord-pp-basic")
    doc = render_order(o, U(b, "staff"), BASE)
    assert all(HEX.match(doc[k]) for k in ("uuid", "offering_uuid", "project_uuid",
                                           "customer_uuid", "marketplace_resource_uuid"))
    assert re.match(r"^\d+\.\d{10}$", doc["cost"]) and doc["cost"] == "50.0000000000"
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z$", doc["created"])
    assert doc["plan"] == (f"{BASE}/api/marketplace-public-offerings/{o.offering.uuid}/plans/"
                           f"{o.plan.uuid}/")
    assert doc["can_terminate"] is True and doc["state"] == "pending-provider"
    assert format_instant(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2026-01-02T03:04:05Z"
    assert format_instant(datetime(2026, 1, 2, 3, 4, 5, 120, tzinfo=UTC)) == (
        "2026-01-02T03:04:05.000120Z")
    # remembered per instant: the same instant in another zone (an equal key) reads as UTC
    # whichever zone asked first
    plus_two = timezone(timedelta(hours=2))
    assert format_instant(datetime(2026, 1, 2, 7, 4, 5, tzinfo=plus_two)) == "2026-01-02T05:04:05Z"
    assert format_instant(datetime(2026, 1, 2, 5, 4, 5, tzinfo=UTC)) == "2026-01-02T05:04:05Z"
    assert format_instant(datetime(2026, 1, 2, 4, 4, 6, tzinfo=timezone(timedelta(hours=-1)))) \
        == "2026-01-02T05:04:06Z"


def test_sparse_fieldsets(b) -> None:
    o = order(b, "ord-pc-slurm")
    assert list(render_order(o, U(b, "staff"), BASE, fields=["state", "uuid", "nope"])) == [
        "uuid", "state"]
    assert render_order(o, U(b, "staff"), BASE, fields=["nope"]) == render_order(
        o, U(b, "staff"), BASE)
    assert list(render_order(o, U(b, "prov_owner"), BASE, fields=["error_traceback"])) == list(
        render_order(o, U(b, "prov_owner"), BASE))


def test_offering_resource_and_dashboard_conform(b) -> None:
    o = order(b, "ord-done-slurm")
    off = render_offering(o.offering, U(b, "staff"), BASE)
    assert validator("PublicOfferingDetails").is_valid(off)
    assert off["type"] == "Marketplace.Slurm" and len(off["plans"]) == 2
    assert [c["type"] for c in off["components"]] == ["cpu", "ram", "storage"]
    res = render_resource(o.resource, U(b, "prov_owner"), BASE)
    assert validator("Resource").is_valid(res)
    assert res["state"] == "OK" and res["uuid"] == o.resource.uuid
    dash = render_dashboard_order(o)
    assert validator("DashboardMyOrder").is_valid(dash) and dash["type"] == "create"
