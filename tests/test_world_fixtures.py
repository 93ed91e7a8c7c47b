"""Fixture loading: the default file is valid; broken files give clear FixtureErrors."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from mockserver.orders.statemachine import STATE_DB_INT
from mockserver.settings import DEFAULT_FIXTURES
from mockserver.world.fixtures import FixtureError, load_fixtures
from mockserver.world.generate import build_world

RAW = yaml.safe_load(DEFAULT_FIXTURES.read_text())


def test_default_fixture_world_is_complete() -> None:
    world = build_world(DEFAULT_FIXTURES, seed=1, orders=0)
    names = {u.username for u in world.users}
    assert {"staff", "support", "cons_owner", "proj_admin", "proj_manager", "proj_member",
            "prov_owner", "off_manager", "plain_user"} <= names
    assert {o.state for o in world.orders} == set(STATE_DB_INT)
    assert {o.type for o in world.orders} >= {"Create", "Update", "Terminate"}
    types = {o.type for o in world.offerings}
    assert {"Marketplace.Basic", "Marketplace.Slurm", "Support.OfferingTemplate",
            "Marketplace.Script"} <= types
    assert any(not o.shared for o in world.offerings)
    assert any(o.terms_of_service for o in world.offerings)
    assert any(o.plugin_options.get("enable_provider_consumer_messaging")
               for o in world.offerings)
    assert any(c.blocked for c in world.customers) and any(c.archived for c in world.customers)
    assert all(len(u.token) == 40 for u in world.users)


def broken(tmp_path: Path, mutate) -> str:
    data = copy.deepcopy(RAW)
    mutate(data)
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(FixtureError) as exc:
        load_fixtures(path)
    message = str(exc.value)
    assert message.startswith(f"{path}: ")
    return message


def _users(data):
    return data["users"]


def test_unknown_key(tmp_path) -> None:
    msg = broken(tmp_path, lambda d: _users(d)[3].update(colour="blue"))
    assert "users[proj_admin]" in msg and "unknown key 'colour'" in msg


def test_missing_required_key(tmp_path) -> None:
    msg = broken(tmp_path, lambda d: _users(d)[2].pop("token"))
    assert "users[cons_owner]" in msg and "missing required key 'token'" in msg


def test_missing_key_named_by_index(tmp_path) -> None:
    msg = broken(tmp_path, lambda d: d["orders"][1].pop("key"))
    assert "orders[1]" in msg and "missing required key 'key'" in msg


def test_wrong_type(tmp_path) -> None:
    msg = broken(tmp_path, lambda d: _users(d)[0].update(is_staff="yes"))
    assert "users[staff].is_staff" in msg and "wrong type" in msg and "boolean" in msg


def test_unknown_reference(tmp_path) -> None:
    msg = broken(tmp_path, lambda d: d["orders"][0].update(project="nowhere"))
    assert "orders[ord-pc-slurm].project" in msg and "unknown reference" in msg


def test_unknown_plan_of_offering(tmp_path) -> None:
    msg = broken(tmp_path, lambda d: d["orders"][0].update(plan="large"))
    assert "orders[ord-pc-slurm].plan" in msg and "has no plan 'large'" in msg


def test_duplicate_token(tmp_path) -> None:
    def dup(d):
        _users(d)[1]["token"] = _users(d)[0]["token"]

    msg = broken(tmp_path, dup)
    assert "users[support]" in msg and "duplicate token" in msg


def test_duplicate_key_and_bad_token_and_enum(tmp_path) -> None:
    assert "duplicate key 'ord-pc-slurm'" in broken(
        tmp_path, lambda d: d["orders"][1].update(key="ord-pc-slurm"))
    assert "40 lowercase hex" in broken(tmp_path, lambda d: _users(d)[0].update(token="abc"))
    assert "invalid value 'half-done'" in broken(
        tmp_path, lambda d: d["orders"][0].update(state="half-done"))


def test_role_scope_checked(tmp_path) -> None:
    msg = broken(tmp_path, lambda d: _users(d)[2]["roles"][0].update(
        role="PROJECT.ADMIN"))
    assert "users[cons_owner].roles[0]" in msg and "takes a 'project' scope" in msg


def test_bad_price_and_date(tmp_path) -> None:
    assert "prices" in broken(tmp_path, lambda d: d["offerings"][0]["plans"][0]["prices"].update(
        gpu="1"))
    assert "projects[consumer-future].start_date" in broken(
        tmp_path, lambda d: d["projects"][1].update(start_date="next year"))


def test_not_yaml_and_not_mapping(tmp_path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("users: [unclosed\n")
    with pytest.raises(FixtureError, match="not valid YAML"):
        load_fixtures(path)
    path.write_text("- 1\n- 2\n")
    with pytest.raises(FixtureError, match="top level"):
        load_fixtures(path)
    with pytest.raises(FixtureError, match="cannot read"):
        load_fixtures(tmp_path / "missing.yaml")


def test_enums_are_the_specs(tmp_path) -> None:
    """A plan unit outside the spec's BillingUnit ("year") would render an invalid plan_unit."""
    msg = broken(tmp_path, lambda d: d["offerings"][0]["plans"][0].update(unit="year"))
    assert "invalid value 'year'" in msg and "quantity" in msg
    assert "invalid value 'Gone'" in broken(
        tmp_path, lambda d: d["offerings"][0].update(state="Gone"))
