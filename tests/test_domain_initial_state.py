"""§2.1 initial-state rules on a small purpose-built world (each rule isolated)."""

from __future__ import annotations

import pytest

from mockserver.orders.models import OrdersBackend
from mockserver.world.fixtures import validate_fixtures
from mockserver.world.generate import build_world

BASE = "http://t"
TOKENS = iter(f"{i:040x}" for i in range(1, 100))


def world(offering_type: str = "Marketplace.Script", **offering) -> OrdersBackend:
    raw = {
        "customers": [{"key": "prov", "service_provider": True}, {"key": "cons"}],
        "categories": [{"key": "cat"}],
        "projects": [{"key": "prov-proj", "customer": "prov"},
                     {"key": "cons-proj", "customer": "cons"}],
        "offerings": [{"key": "off", "type": offering_type, "customer": "prov",
                       "category": "cat", **offering}],
        "users": [
            {"username": "prov_admin", "token": next(TOKENS),
             "roles": [{"role": "PROJECT.ADMIN", "project": "prov-proj"}]},
            {"username": "prov_owner", "token": next(TOKENS),
             "roles": [{"role": "CUSTOMER.OWNER", "customer": "prov"},
                       {"role": "PROJECT.MEMBER", "project": "cons-proj"}]},
            {"username": "cons_admin", "token": next(TOKENS),
             "roles": [{"role": "PROJECT.ADMIN", "project": "cons-proj"}]},
        ],
    }
    return OrdersBackend.from_world(build_world(validate_fixtures(raw), seed=5, orders=0),
                                    process_delay=None)


def create(b: OrdersBackend, user: str, project: str, **extra):
    data = {"project": f"{BASE}/api/projects/{b.world.keys['projects'][project]}/",
            "offering": f"{BASE}/api/marketplace-public-offerings/"
                        f"{b.world.keys['offerings']['off']}/",
            "attributes": {}, **extra}
    return b.create_order(b.user_by_username(user), data)


def test_plain_project_admin_needs_consumer_review() -> None:
    assert create(world(), "cons_admin", "cons-proj").state == "pending-consumer"


@pytest.mark.parametrize(("options", "state"), [
    ({"auto_approve_in_service_provider_projects": True}, "executing"),
    ({"auto_approve_in_service_provider_projects": True, "disable_autoapprove": True},
     "pending-consumer"),
    ({}, "pending-consumer"),
])
def test_auto_approve_in_service_provider_projects(options, state) -> None:
    b = world(plugin_options=options)
    order = create(b, "prov_admin", "prov-proj")
    assert order.state == state
    assert order.auto_approved is (state == "executing")


def test_rule_needs_the_providers_own_project() -> None:
    b = world(plugin_options={"auto_approve_in_service_provider_projects": True})
    assert create(b, "cons_admin", "cons-proj").state == "pending-consumer"


def test_private_offering_with_approve_private() -> None:
    b = world(shared=False)
    assert create(b, "prov_admin", "prov-proj").state == "executing"


def test_terminate_by_provider_owner() -> None:
    b = world()
    assert create(b, "prov_owner", "cons-proj").state == "pending-consumer"
    assert create(b, "prov_owner", "cons-proj", type="Terminate").state == "executing"


@pytest.mark.parametrize(("offering_type", "state"), [
    ("Marketplace.Slurm", "pending-provider"), ("Marketplace.Basic", "pending-provider"),
    ("Support.OfferingTemplate", "executing"), ("OpenStack.Instance", "executing"),
])
def test_provider_review_by_type(offering_type, state) -> None:
    b = world(offering_type, shared=False)
    assert create(b, "prov_admin", "prov-proj").state == state


def test_remote_offering_auto_approve_option() -> None:
    b = world("Waldur.RemoteOffering", shared=False)
    assert create(b, "prov_admin", "prov-proj").state == "pending-provider"
    b = world("Waldur.RemoteOffering", shared=False,
              plugin_options={"auto_approve_remote_orders": True})
    assert create(b, "prov_admin", "prov-proj").state == "executing"
