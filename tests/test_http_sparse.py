"""Sparse fieldsets (`?field=`, reference §5) on the order's offering and resource, as on
retrieve: serializer order, names not in the serializer dropped, none left -> all fields."""

from __future__ import annotations

from tests.conftest import Api


def test_offering_fields(api: Api) -> None:
    url = api.order_url("ord-pc-slurm", "offering")
    full = api.get(url, "proj_member").json()
    r = api.get(url + "?field=type&field=bogus&field=uuid", "proj_member")
    assert r.status_code == 200
    # serializer order, not the order of the query
    assert list(r.json()) == ["uuid", "type"]
    assert r.json() == {"uuid": api.uuid("offerings", "slurm"), "type": "Marketplace.Slurm"}
    assert full["plans"] and api.get(url + "?field=plans", "proj_member").json() == {
        "plans": full["plans"]}


def test_offering_no_known_field_gives_all(api: Api) -> None:
    url = api.order_url("ord-pc-slurm", "offering")
    full = api.get(url, "proj_member").json()
    assert len(full) > 20
    for query in ("?field=bogus", "?field=", "?field=bogus&field=nope", "?fields=uuid"):
        assert api.get(url + query, "proj_member").json() == full, query


def test_resource_fields(api: Api) -> None:
    url = api.order_url("ord-done-slurm", "resource")
    r = api.get(url + "?field=state&field=name&field=offering_uuid", "prov_owner")
    assert r.status_code == 200
    full = api.get(url, "prov_owner").json()
    assert list(r.json()) == [k for k in full if k in ("state", "name", "offering_uuid")]
    assert r.json() == {"state": "OK", "name": full["name"],
                        "offering_uuid": api.uuid("offerings", "slurm")}


def test_resource_error_traceback_is_not_a_field_for_others(api: Api) -> None:
    url = api.order_url("ord-done-slurm", "resource")
    full = api.get(url, "prov_owner").json()
    assert "error_traceback" not in full
    # not in this viewer's serializer: dropped, none left -> all fields, still without it
    assert api.get(url + "?field=error_traceback", "prov_owner").json() == full
    staff = api.get(url + "?field=error_traceback&field=uuid", "staff").json()
    assert list(staff) == ["uuid", "error_traceback"]


def test_resource_unrendered_schema_key_gives_all(api: Api) -> None:
    """`parent_uuid` is in the schema but never rendered (no value, not nullable)."""
    url = api.order_url("ord-done-slurm", "resource")
    full = api.get(url, "staff").json()
    assert "parent_uuid" not in full
    assert api.get(url + "?field=parent_uuid", "staff").json() == full


def test_sparse_does_not_hide_errors(api: Api) -> None:
    for kind in ("offering", "resource"):
        url = api.order_url("ord-pc-slurm", kind) + "?field=uuid"
        assert api.get(url, "plain_user").status_code == 404
        assert api.get(url).status_code == 401
