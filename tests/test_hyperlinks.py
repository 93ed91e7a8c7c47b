"""Every hyperlink in the stub's answers leads somewhere: starting from every list of the served
spec (every area), each absolute URL found in a body is fetched as the same user and must answer
200 - for a user who can see the object that carries it. (issue 10: "every hyperlink found in
any response of the stub answers 200".) The one exception is the real server's role filter on
organizations and projects: an offering names its provider's organization and a provider resource
its consumer's project, and those answer 404 to a user without a role there (docs/behaviour.md).

Links whose path no area serves yet are collected and listed by the second test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from mockserver import fastroutes, spec
from mockserver.app import allowed_methods
from mockserver.structure import models as structure
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


def _role_filtered(api: Api, user: str) -> set[str]:
    """Links to the organizations and projects the user holds no role in (the real server's
    GenericRoleFilter answers 404 there)."""
    backend, who = api.backend, api.backend.user_by_username(user)
    customers = {c.uuid for c in structure.visible_customers(backend, who)}
    projects = {p.uuid for p in structure.visible_projects(backend, who)}
    return ({f"{BASE}/api/customers/{c.uuid}/" for c in backend.world.customers
             if c.uuid not in customers}
            | {f"{BASE}/api/projects/{p.uuid}/" for p in backend.world.projects
               if p.uuid not in projects})


@pytest.mark.parametrize("user", USERS)
def test_every_served_hyperlink_answers_200(api: Api, user: str) -> None:
    seen, _unserved = _walk(api, user)
    assert len(seen) >= 3
    hidden = _role_filtered(api, user)
    assert {link: status for link, status in seen.items()
            if status != 200 and link not in hidden} == {}
    # ...and a role-filtered organization or project is a 404, never a 200 or another error
    assert {status for link, status in seen.items() if link in hidden} <= {404}


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
