"""Every hyperlink in the stub's answers leads somewhere: starting from every list of the served
spec (every area), each absolute URL found in a body is fetched as the same user and must answer
200 - for a user who can see the object that carries it. (issue 10: "every hyperlink found in
any response of the stub answers 200".)

Links whose path no area serves yet are collected and listed by the second test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from mockserver import fastroutes, spec
from mockserver.app import allowed_methods
from tests.conftest import BASE, Api

USERS = ("staff", "cons_owner", "prov_owner", "proj_manager")


def _lists() -> list[str]:
    """Every GET path of the served spec without path parameters."""
    return [path for path, item in spec.load_spec()["paths"].items()
            if "get" in item and "{" not in path]


def _links(body: Any) -> Iterator[str]:
    if isinstance(body, dict):
        for value in body.values():
            yield from _links(value)
    elif isinstance(body, list):
        for value in body:
            yield from _links(value)
    elif isinstance(body, str) and body.startswith(BASE + "/api/"):
        yield body


def _walk(api: Api, user: str) -> tuple[dict[str, int], set[str]]:
    """(link -> status, links whose path is not served) for one user."""
    seen: dict[str, int] = {}
    unserved: set[str] = set()
    todo = [link for path in _lists()
            for link in _links(api.get(path + "?page_size=50", user).json())]
    while todo:
        link = todo.pop()
        path = link.removeprefix(BASE).split("?", 1)[0]
        if link in seen or path in unserved:
            continue
        if allowed_methods(path) is None:
            unserved.add(path)
            continue
        r = api.get(link.removeprefix(BASE), user)
        seen[link] = r.status_code
        if r.status_code == 200 and r.headers.get("content-type") == "application/json":
            todo.extend(_links(r.json()))
    return seen, unserved


@pytest.mark.parametrize("user", USERS)
def test_every_served_hyperlink_answers_200(api: Api, user: str) -> None:
    seen, _unserved = _walk(api, user)
    assert len(seen) >= 3
    assert {link: status for link, status in seen.items() if status != 200} == {}


def test_the_walk_follows_structure_links(api: Api) -> None:
    seen, _ = _walk(api, "cons_owner")
    assert any("/api/customers/" in link for link in seen)
    assert any("/api/projects/" in link for link in seen)
    assert any("/api/users/" in link for link in seen)
    assert fastroutes.routes()  # (the walk also exercised the fast path)


def test_links_into_areas_not_served_yet(api: Api) -> None:
    """Informational until every area is merged: the paths no contract serves yet."""
    _, unserved = _walk(api, "staff")
    prefixes = sorted({"/".join(p.split("/")[:3]) + "/" for p in unserved})
    if prefixes:
        pytest.skip(f"links into unserved areas: {', '.join(prefixes)}")
