"""The mechanism of API areas (docs/architecture.md, "Adding an API area"): per-area contracts
composed into the served spec, handlers found per area, generic rendering in the contract's
order, the shared filters / ordering / lookup."""

from __future__ import annotations

from pathlib import Path

import pytest

from mockserver import spec
from mockserver.listing import Filters, Ordering, lookup
from mockserver.orders.exceptions import NotFound, ValidationError
from mockserver.rendering import Links, render


def _doc(module: str, paths: dict, schemas: dict | None = None) -> dict:
    return {"openapi": "3.0.3", "info": {"title": module, "version": "1"},
            "x-handler-module": module, "paths": paths,
            "components": {"schemas": schemas or {}}}


def _op(op_id: str) -> dict:
    return {"get": {"operationId": op_id, "responses": {"200": {"description": "ok"}}}}


def test_every_area_file_is_composed_orders_first() -> None:
    names = [p.name for p in spec.area_files()]
    assert names[0] == "marketplace-orders.yaml"
    assert "structure.yaml" in names
    assert "mock-control.yaml" not in names and "docs-inventory.yaml" not in names
    served = spec.load_spec()
    for path in spec.load_spec(spec.OPENAPI_DIR / "structure.yaml")["paths"]:
        assert path in served["paths"]
    assert "/api/marketplace-orders/" in served["paths"]


def test_each_operation_is_routed_to_its_area_module() -> None:
    paths = spec.load_spec()["paths"]
    assert paths["/api/customers/"]["get"]["x-openapi-router-controller"] == \
        "mockserver.structure.responses"
    assert paths["/api/marketplace-orders/"]["get"]["x-openapi-router-controller"] == \
        "mockserver.orders.responses"


def test_a_path_in_two_files_is_refused() -> None:
    with pytest.raises(spec.SpecError, match="path /a/ is already in one.yaml"):
        spec.compose([("one.yaml", _doc("m1", {"/a/": _op("a")})),
                      ("two.yaml", _doc("m2", {"/a/": _op("b")}))])


def test_an_operation_id_in_two_files_is_refused() -> None:
    with pytest.raises(spec.SpecError, match="operationId a is already in one.yaml"):
        spec.compose([("one.yaml", _doc("m1", {"/a/": _op("a")})),
                      ("two.yaml", _doc("m2", {"/b/": _op("a")}))])


def test_a_component_name_is_shared_only_when_identical() -> None:
    same = {"X": {"type": "string"}}
    doc = spec.compose([("one.yaml", _doc("m1", {"/a/": _op("a")}, same)),
                        ("two.yaml", _doc("m2", {"/b/": _op("b")}, dict(same)))])
    assert doc["components"]["schemas"] == same
    with pytest.raises(spec.SpecError, match="components/schemas/X differs"):
        spec.compose([("one.yaml", _doc("m1", {"/a/": _op("a")}, same)),
                      ("two.yaml", _doc("m2", {"/b/": _op("b")}, {"X": {"type": "integer"}}))])


def test_a_file_without_handler_module_is_not_an_area(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("openapi: 3.0.3\nx-handler-module: m\npaths: {}\n")
    (tmp_path / "b.yaml").write_text("openapi: 3.0.3\npaths: {}\n")
    assert [p.name for p in spec.area_files(tmp_path)] == ["a.yaml"]


def test_render_follows_the_contract_order_and_refuses_unknown_values() -> None:
    body = render("Customer", {"name": "N", "uuid": "u", "url": "x"})
    assert list(body) == ["url", "uuid", "name"]
    assert render("Customer", {"name": "N", "uuid": "u"}, ["uuid", "nope"]) == {"uuid": "u"}
    assert render("Customer", {"name": "N"}, ["nope"]) == {"name": "N"}  # none left: all
    with pytest.raises(KeyError, match="no_such_field"):
        render("Customer", {"no_such_field": 1})


def test_links_come_from_the_spec_paths() -> None:
    assert Links("http://h:1/").url("customers_retrieve", uuid="abc") == \
        "http://h:1/api/customers/abc/"


def test_ordering_strict_and_lenient() -> None:
    items = [{"n": "b"}, {"n": "a"}, {"n": "c"}]
    strict = Ordering(keys={"n": lambda x: x["n"]}, strict=True)
    assert [x["n"] for x in strict.apply(items, [("o", "-n")])] == ["c", "b", "a"]
    assert [x["n"] for x in strict.apply(items, [("o", "x"), ("o", "n")])] == ["a", "b", "c"]
    with pytest.raises(ValidationError) as err:
        strict.apply(items, [("o", "bogus")])
    assert err.value.body == {"o": ["Select a valid choice. bogus is not one of the available "
                                    "choices."]}
    lenient = Ordering(keys={"n": lambda x: x["n"]}, default=("n",))
    assert [x["n"] for x in lenient.apply(items, [("o", "bogus")])] == ["a", "b", "c"]


def test_filters_collect_errors_and_ignore_empty_values() -> None:
    items = [{"n": "Alpha", "u": "a" * 32}, {"n": "beta", "u": "b" * 32}]
    got = Filters([("name", "ALP"), ("u", "")]).text("name", lambda x: x["n"]) \
        .uuids("u", lambda x: x["u"]).apply(items)
    assert got == items[:1]
    with pytest.raises(ValidationError) as err:
        Filters([("u", "zz")]).uuids("u", lambda x: x["u"]).apply(items)
    assert err.value.body == {"u": ["Enter a valid UUID."]}
    dashed = "bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb"
    assert Filters([("u", dashed)]).uuids("u", lambda x: x["u"]).apply(items) == items[1:]


def test_lookup_bodies() -> None:
    table = {"a" * 32: "obj"}
    assert lookup(table, "a" * 32, "Thing") == "obj"
    with pytest.raises(NotFound) as err:
        lookup(table, "zz", "Thing")  # malformed: as a real server, the model's text too
    assert err.value.body == {"detail": "No Thing matches the given query."}
    with pytest.raises(NotFound) as err:
        lookup(table, "a" * 32, "Thing", lambda _o: False)
    assert err.value.body == {"detail": "No Thing matches the given query."}


def test_memo_recomputes_when_the_stamp_changes_and_per_backend() -> None:
    from mockserver.memo import memo, rendered

    class Backend:
        pass

    a, b = Backend(), Backend()
    calls = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    assert memo(a, "k", 0, compute) == 1
    assert memo(a, "k", 0, compute) == 1  # remembered
    assert memo(a, "k", 1, compute) == 2  # stamp changed
    assert memo(b, "k", 1, compute) == 3  # another backend (session world)
    entry = rendered(a, ("X", "u"), 0, lambda: {"a": 1})
    assert entry.body == {"a": 1} and entry.encoded == b'{"a":1}'
    assert rendered(a, ("X", "u"), 0, lambda: {"a": 2}) is entry
