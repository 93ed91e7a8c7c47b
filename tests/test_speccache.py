"""mockserver.speccache and mockserver.resolvedspec: the served spec and Connexion's resolved
Specification from the cache are identical to parsing and resolving the YAML; a changed file is
a new entry; a damaged entry, an unwritable directory or a cache turned off only cost a parse;
the app's API really gets the cached Specification."""

from __future__ import annotations

import copy
import pickle
from pathlib import Path
from typing import Any

import pytest
import yaml
from connexion import AsyncApp
from connexion.spec import Specification

from mockserver import resolvedspec, spec, speccache


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "cache"
    monkeypatch.setenv("WALDUR_MOCK_CACHE_DIR", str(directory))
    monkeypatch.setenv("WALDUR_MOCK_CACHE", "1")
    return directory


def _counting(build: Any) -> tuple[list[int], Any]:
    calls: list[int] = []

    def counted() -> Any:
        calls.append(1)
        return build()

    return calls, counted


def test_served_spec_from_cache_is_the_parsed_yaml(cache_dir: Path) -> None:
    parsed = spec.compose_files()
    calls, build = _counting(spec.compose_files)
    first = speccache.load("spec", spec.spec_inputs(), build)  # parses and stores
    assert calls == [1] and len(list(cache_dir.glob("spec-*.pickle"))) == 1
    second = speccache.load("spec", spec.spec_inputs(), build)  # read back, no parse
    assert calls == [1]
    assert first == second == parsed
    # same types all the way down (a YAML int key, a date, a float stay what they were)
    assert pickle.dumps(second) == pickle.dumps(parsed)
    # what the code uses (load_spec is memoised per process: its undecorated body)
    assert spec.load_spec.__wrapped__() == parsed


def test_a_changed_file_is_a_new_entry(cache_dir: Path, tmp_path: Path) -> None:
    source = tmp_path / "area.yaml"
    source.write_text("openapi: 3.0.3\ninfo: {title: one}\n")

    def parse() -> Any:
        return yaml.safe_load(source.read_text())

    assert speccache.load("t", [source], parse)["info"]["title"] == "one"
    source.write_text("openapi: 3.0.3\ninfo: {title: two}\n")
    calls, build = _counting(parse)
    assert speccache.load("t", [source], build)["info"]["title"] == "two"
    assert calls == [1]  # the old entry was not read
    assert speccache.load("t", [source], build)["info"]["title"] == "two"
    assert calls == [1]  # the new one is
    # the composing code is part of the key as well
    assert spec.spec_inputs()[0] == Path(spec.__file__)


def test_damaged_entry_unwritable_dir_and_off_only_cost_a_parse(
        cache_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = tmp_path / "area.yaml"
    source.write_text("a: 1\n")
    calls, build = _counting(lambda: {"a": 1})
    cache_dir.mkdir()
    entry = cache_dir / f"t-{speccache.key('t', [source])}.pickle"
    entry.write_bytes(b"not a pickle")
    assert speccache.load("t", [source], build) == {"a": 1}
    assert calls == [1] and pickle.loads(entry.read_bytes()) == {"a": 1}  # replaced
    entry.write_bytes(b"not a pickle")
    blob, value = speccache.load_blob("t", [source], build)
    assert pickle.loads(blob) == value == {"a": 1} and calls == [1, 1]
    assert speccache.load_blob("t", [source], build) == (blob, value) and calls == [1, 1]

    blocked = tmp_path / "file-not-dir"
    blocked.write_text("x")
    monkeypatch.setenv("WALDUR_MOCK_CACHE_DIR", str(blocked / "sub"))
    assert speccache.load("t", [source], build) == {"a": 1}
    assert calls == [1, 1, 1]

    monkeypatch.setenv("WALDUR_MOCK_CACHE_DIR", str(cache_dir))
    monkeypatch.setenv("WALDUR_MOCK_CACHE", "0")
    entry.unlink()
    assert speccache.load("t", [source], build) == {"a": 1}
    assert calls == [1, 1, 1, 1] and not entry.exists()


def test_old_entries_are_pruned(cache_dir: Path, tmp_path: Path) -> None:
    source = tmp_path / "area.yaml"
    for i in range(speccache.KEEP + 3):
        source.write_text(f"a: {i}\n")
        speccache.load("t", [source], lambda: 1)
    assert len(list(cache_dir.glob("t-*.pickle"))) == speccache.KEEP


def _same(a: Specification, b: Specification) -> None:
    assert type(a) is type(b)
    assert vars(a).keys() == vars(b).keys()  # Connexion added no state we would not carry
    assert a.raw == b.raw and a.spec == b.spec and a.base_path == b.base_path
    assert pickle.dumps(a.spec) == pickle.dumps(b.spec)


def test_resolved_spec_from_cache_is_what_connexion_builds(
        cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    built = Specification.load(copy.deepcopy(spec.load_spec()))  # validated, as Connexion does
    monkeypatch.setattr(resolvedspec, "_cached", resolvedspec._cached.__wrapped__)
    first = resolvedspec.fresh()  # builds and stores
    assert len(list(cache_dir.glob("connexion-spec-*.pickle"))) == 1
    second = resolvedspec.fresh()  # from the cache
    _same(first, built)
    _same(second, built)
    _same(resolvedspec.shared(), built)
    assert first is not second and first.spec["paths"] is not second.spec["paths"]


def test_app_api_gets_the_cached_specification(monkeypatch: pytest.MonkeyPatch) -> None:
    from mockserver.app import create_app

    given: list[Specification] = []
    fresh = resolvedspec.fresh

    def spy() -> Specification:
        given.append(fresh())
        return given[-1]

    monkeypatch.setattr(resolvedspec, "fresh", spy)
    app = create_app()
    (api,) = app.middleware.apis
    assert len(given) == 1 and api.specification is given[0]
    _same(api.specification, resolvedspec.build())


def test_served_as_leaves_other_specs_alone() -> None:
    raw = {"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {}}
    other = copy.deepcopy(raw)
    mine = Specification.load(copy.deepcopy(raw))
    app = AsyncApp(__name__)
    original = Specification.__dict__["load"]
    with resolvedspec.served_as(raw, mine):
        app.add_api(raw)
        app.add_api(other, base_path="/other")
    first, second = app.middleware.apis
    assert first.specification is mine
    assert second.specification is not mine and second.specification.raw["info"] == raw["info"]
    assert Specification.__dict__["load"] is original  # restored
    assert Specification.load(raw) is not mine
