"""The marketplace rules without HTTP (mockserver/marketplace/models.py): visibility, filters,
derived objects. The HTTP behaviour is in test_marketplace_http.py."""

from __future__ import annotations

import pytest

from mockserver import spec
from mockserver.marketplace.models import ORDERINGS, Marketplace, for_backend
from mockserver.orders.exceptions import NotFound, ValidationError
from mockserver.orders.models import OrdersBackend
from mockserver.world.generate import build_world

FIXTURES = spec.OPENAPI_DIR.parent / "fixtures" / "default.yaml"


@pytest.fixture(scope="module")
def backend() -> OrdersBackend:
    return OrdersBackend.from_world(build_world(FIXTURES, seed=1, orders=50))


@pytest.fixture(scope="module")
def rules(backend: OrdersBackend) -> Marketplace:
    return for_backend(backend)


def user(backend: OrdersBackend, name: str):  # noqa: ANN201
    found = backend.user_by_username(name)
    assert found is not None
    return found


def key(backend: OrdersBackend, kind: str, name: str) -> str:
    return backend.world.keys[kind][name]


def test_one_rules_object_per_world(backend: OrdersBackend, rules: Marketplace) -> None:
    assert for_backend(backend) is rules
    other = OrdersBackend.from_snapshot(backend.snapshot())
    assert for_backend(other) is not rules and for_backend(other).world is other.world


def test_resources_are_read_live(backend: OrdersBackend) -> None:
    fresh = OrdersBackend.from_snapshot(backend.snapshot())
    rules = for_backend(fresh)
    staff = user(fresh, "staff")
    before = len(rules.resources_list(staff, []))
    slurm = fresh.offerings[key(fresh, "offerings", "slurm")]
    project = fresh.projects[key(fresh, "projects", "consumer-main")]
    order = fresh.create_order(staff, {
        "offering": f"http://x/api/marketplace-public-offerings/{slurm.uuid}/",
        "project": f"http://x/api/projects/{project.uuid}/", "attributes": {"name": "n"}})
    after = rules.resources_list(staff, [])
    assert len(after) == before + 1
    assert rules.resource(staff, order.resource.uuid) is order.resource


def test_created_resources_are_merged_into_the_sorted_table(
        backend: OrdersBackend, monkeypatch: pytest.MonkeyPatch) -> None:
    """The resources in created order after creates equal a full sort of the table, and the
    table is not sorted again as a whole (only the new resources are)."""
    from mockserver.marketplace import models as marketplace_models

    fresh = OrdersBackend.from_snapshot(backend.snapshot())
    rules = for_backend(fresh)
    staff = user(fresh, "staff")
    first = rules._resources_by_created()
    slurm = fresh.offerings[key(fresh, "offerings", "slurm")]
    project = fresh.projects[key(fresh, "projects", "consumer-main")]
    made = [fresh.create_order(staff, {
        "offering": f"http://x/api/marketplace-public-offerings/{slurm.uuid}/",
        "project": f"http://x/api/projects/{project.uuid}/", "attributes": {"name": f"n{i}"}})
        for i in range(5)]
    sorted_sizes: list[int] = []
    real_sorted = sorted

    def counting_sorted(items, **kwargs):  # noqa: ANN001, ANN202
        out = real_sorted(items, **kwargs)
        sorted_sizes.append(len(out))
        return out

    monkeypatch.setattr(marketplace_models, "sorted", counting_sorted, raising=False)
    merged = rules._resources_by_created()
    assert sorted_sizes == [5]  # the five new ones, not the whole table
    assert merged == tuple(real_sorted(fresh.resources.values(), key=marketplace_models._created))
    assert len(merged) == len(first) + 5 and {o.resource for o in made} <= set(merged)
    assert rules._resources_by_created() is merged  # unchanged table: the same tuple


def test_public_visibility_follows_state_and_sharing(backend: OrdersBackend,
                                                     rules: Marketplace) -> None:
    off = {o.key: o for o in backend.world.offerings}
    plain, member = user(backend, "plain_user"), user(backend, "proj_member")
    assert rules.public_visible(plain, off["paused-basic"])
    assert not rules.public_visible(plain, off["draft-slurm"])
    assert not rules.public_visible(plain, off["private-basic"])
    assert rules.public_visible(member, off["private-basic"])
    assert rules.public_visible(user(backend, "support"), off["draft-slurm"])
    with pytest.raises(NotFound) as exc:
        rules.public_offering(plain, off["draft-slurm"].uuid)
    assert exc.value.body == {"detail": "No Offering matches the given query."}
    with pytest.raises(NotFound) as exc:
        rules.public_offering(plain, "zzz")
    assert exc.value.body == {"detail": "No Offering matches the given query."}


def test_resource_views(backend: OrdersBackend, rules: Marketplace) -> None:
    res = backend.resources[key(backend, "resources", "res-slurm-alloc")]
    assert rules.resource_visible(user(backend, "proj_member"), res, "consumer")
    assert not rules.resource_visible(user(backend, "proj_member"), res, "provider")
    assert rules.resource_visible(user(backend, "off_manager"), res, "provider")
    assert not rules.resource_visible(user(backend, "off_manager"), res, "consumer")
    assert not rules.resource_visible(user(backend, "prov_owner"), res, "consumer")
    assert not rules.resource_visible(user(backend, "plain_user"), res, "consumer")


def test_filter_errors_are_collected(rules: Marketplace, backend: OrdersBackend) -> None:
    with pytest.raises(ValidationError) as exc:
        rules.resources_list(user(backend, "staff"), [
            ("state", "OK"), ("state", "Nope"), ("project_uuid", "x"), ("o", "nope")])
    assert exc.value.body == {
        "state": ["Select a valid choice. Nope is not one of the available choices."],
        "project_uuid": ["Enter a valid UUID."],
        "o": ["Select a valid choice. nope is not one of the available choices."]}


@pytest.mark.parametrize("operation", sorted(ORDERINGS))
def test_ordering_keys_are_the_contracts(operation: str) -> None:
    method, path = spec.operations()[operation]
    params = spec.load_spec()["paths"][path][method.lower()]["parameters"]
    resolved = [spec.load_spec()["components"]["parameters"][spec.ref_name(p["$ref"])]
                if "$ref" in p else p for p in params]
    o = next(p for p in resolved if p["name"] == "o")
    keys = set(ORDERINGS[operation].keys)
    assert set(o["schema"]["items"]["enum"]) == keys | {f"-{k}" for k in keys}


def test_unparseable_boolean_is_ignored(rules: Marketplace, backend: OrdersBackend) -> None:
    staff = user(backend, "staff")
    assert rules.public_offerings(staff, [("shared", "maybe")]) == rules.public_offerings(
        staff, [])
    assert all(o.shared for o in rules.public_offerings(staff, [("shared", "TRUE")]))


def test_service_providers_are_stable(backend: OrdersBackend, rules: Marketplace) -> None:
    again = for_backend(OrdersBackend.from_world(build_world(FIXTURES, seed=1, orders=5)))
    assert [s.uuid for s in again.service_providers] == [s.uuid for s in rules.service_providers]
    other_seed = for_backend(OrdersBackend.from_world(build_world(FIXTURES, seed=2, orders=5)))
    assert [s.uuid for s in other_seed.service_providers] != [
        s.uuid for s in rules.service_providers]


def test_plugins_cover_the_world(rules: Marketplace, backend: OrdersBackend) -> None:
    types = [p.offering_type for p in rules.plugins()]
    assert types == sorted(set(types))
    assert {o.type for o in backend.world.offerings} <= set(types)


def test_resource_stamp_sees_every_change(backend: OrdersBackend) -> None:
    """The stamp that keeps a resource's rendering: equal while nothing changed; different after
    a field is assigned or a container is changed in place (also when a container is not a
    dict)."""
    from mockserver.marketplace.responses import resource_stamp

    resource = next(iter(backend.resources.values()))
    before = resource_stamp(resource)
    assert resource_stamp(resource) == before
    resource.limits["cpu"] = resource.limits.get("cpu", 0) + 1  # in place
    changed = resource_stamp(resource)
    assert changed != before
    resource.name = resource.name + "-renamed"
    assert resource_stamp(resource) != changed
    resource.options = [1, 2]  # type: ignore[assignment]  # not a dict: the slow snapshot
    listed = resource_stamp(resource)
    resource.options.append(3)  # type: ignore[attr-defined]
    assert resource_stamp(resource) != listed
