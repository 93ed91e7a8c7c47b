"""mockserver.world.cache: a world loaded from the cache answers byte-identically to a built one;
a changed input is a new key (a stale entry is never read); a damaged entry or an unwritable
directory only costs a rebuild."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mockserver.world import cache
from mockserver.world.generate import build_world

ORDERS = "/api/marketplace-orders/"


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "cache"
    monkeypatch.setenv("WALDUR_MOCK_CACHE_DIR", str(directory))
    monkeypatch.setattr(cache, "MIN_ORDERS", 10)
    return directory


def _answers(orders: int) -> list[tuple[int, bytes]]:
    from starlette.testclient import TestClient

    from mockserver import create_app
    from mockserver.settings import Settings

    app = create_app(Settings(orders=orders))
    backend = app.registry.get(None)
    staff = {"Authorization": f"Token {backend.user_by_username('staff').token}"}
    out = []
    with TestClient(app) as client:
        page = client.get(ORDERS, headers=staff, params={"page_size": 50})
        out.append((page.status_code, page.content))
        for order in json.loads(page.content)[:10]:
            r = client.get(f"{ORDERS}{order['uuid']}/", headers=staff)
            out.append((r.status_code, r.content))
        out.append((0, json.dumps(backend.export_state(), sort_keys=True).encode()))
    return out


def test_cached_world_answers_byte_identically(cache_dir: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WALDUR_MOCK_CACHE", "0")
    built = _answers(60)
    monkeypatch.setenv("WALDUR_MOCK_CACHE", "1")
    first = _answers(60)  # builds and stores
    assert len(list(cache_dir.glob("world-*.pickle"))) == 1
    loaded = _answers(60)  # loads
    assert built == first == loaded


def test_cache_is_read_and_keyed_on_its_inputs(cache_dir: Path, tmp_path: Path) -> None:
    from mockserver.settings import DEFAULT_FIXTURES

    calls: list[int] = []

    def build() -> Any:
        calls.append(1)
        return build_world(DEFAULT_FIXTURES, seed=1, orders=20)

    a = cache.load_or_build(DEFAULT_FIXTURES, 1, 20, build)
    b = cache.load_or_build(DEFAULT_FIXTURES, 1, 20, build)
    assert len(calls) == 1  # the second came from the cache
    assert [o.uuid for o in a.orders] == [o.uuid for o in b.orders]
    other = tmp_path / "fixtures.yaml"
    other.write_bytes(DEFAULT_FIXTURES.read_bytes() + b"\n# changed\n")
    keys = {cache.key(DEFAULT_FIXTURES, 1, 20), cache.key(DEFAULT_FIXTURES, 2, 20),
            cache.key(DEFAULT_FIXTURES, 1, 21), cache.key(other, 1, 20)}
    assert len(keys) == 4  # seed, orders and fixtures bytes are all in the key
    cache._code_digest.cache_clear()
    try:
        original = cache._SOURCES
        cache._SOURCES = (*original, "spec.py")  # other code: another key
        assert cache.key(DEFAULT_FIXTURES, 1, 20) not in keys
    finally:
        cache._SOURCES = original
        cache._code_digest.cache_clear()


def test_damaged_or_unwritable_cache_only_rebuilds(cache_dir: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from mockserver.settings import DEFAULT_FIXTURES

    calls: list[int] = []

    def build() -> Any:
        calls.append(1)
        return build_world(DEFAULT_FIXTURES, seed=1, orders=20)

    cache_dir.mkdir()
    path = cache_dir / f"world-{cache.key(DEFAULT_FIXTURES, 1, 20)}.pickle"
    path.write_bytes(b"not a pickle")
    assert cache.load_or_build(DEFAULT_FIXTURES, 1, 20, build) is not None
    assert calls == [1] and path.read_bytes() != b"not a pickle"  # rebuilt and replaced
    blocked = tmp_path / "file-not-dir"
    blocked.write_text("x")
    monkeypatch.setenv("WALDUR_MOCK_CACHE_DIR", str(blocked / "sub"))
    assert cache.load_or_build(DEFAULT_FIXTURES, 1, 20, build) is not None
    assert calls == [1, 1]


def test_library_stamp_changes_with_the_installed_copy(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The caches' keys name each library's installed copy (no importlib.metadata at start-up):
    another version of the library (another file) gives another stamp."""
    pkg = tmp_path / "stampedlib"
    pkg.mkdir()
    init = pkg / "__init__.py"
    init.write_text("VERSION = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    first = cache.library_stamp(("stampedlib",))
    assert str(init).encode() in first
    assert cache.library_stamp(("stampedlib",)) == first
    init.write_text("VERSION = 22\n")  # an upgrade rewrites the file
    assert cache.library_stamp(("stampedlib",)) != first
    assert cache.library_stamp(("no_such_library_here",)).endswith(b"|no_such_library_here=?")
