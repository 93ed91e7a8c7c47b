"""Another project's test that uses the `waldur_mock` pytest fixture (docs/installing.md).

Installing waldur-orders-mock registers the fixture: no import, no conftest.py, no server to
start. tests/test_packaging.py runs this file in a throw-away project against the built wheel.
"""

import httpx

ORDERS = "/api/marketplace-orders/"


def test_create_and_approve_an_order(waldur_mock):
    # an existing SLURM order of the consumer project tells the project, offering and plan URLs
    with waldur_mock.client("proj_manager") as manager:
        orders = manager.get(ORDERS, params={"offering_type": "Marketplace.Slurm",
                                             "page_size": 100}).json()
        seen = next(o for o in orders if o["project_name"] == "Consumer Project")
        created = manager.post(ORDERS, json={
            "project": f"{waldur_mock.url}/api/projects/{seen['project_uuid']}/",
            "offering": seen["offering"],
            "plan": seen["plan"],
            "attributes": {"name": "my-allocation"},
        })
    assert created.status_code == 201, created.text
    order = created.json()
    assert order["state"] == "pending-consumer"

    approve = f"{ORDERS}{order['uuid']}/approve_by_consumer/"
    r = httpx.post(waldur_mock.url + approve, headers=waldur_mock.auth("cons_owner"))
    assert r.status_code == 200, r.text
    approve = f"{ORDERS}{order['uuid']}/approve_by_provider/"
    r = httpx.post(waldur_mock.url + approve, headers=waldur_mock.auth("prov_owner"))
    assert r.status_code == 200, r.text

    r = httpx.get(f"{waldur_mock.url}{ORDERS}{order['uuid']}/", headers=waldur_mock.auth("staff"))
    assert r.json()["state"] == "executing"


def test_each_test_starts_from_the_seed(waldur_mock):
    r = httpx.get(waldur_mock.url + ORDERS, params={"resource_name": "my-allocation"},
                  headers=waldur_mock.auth("staff"))
    assert r.status_code == 200 and r.json() == []
