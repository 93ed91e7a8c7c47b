"""The harness's pure parts: each domain rule on hand-made inputs (no server, no engine)."""

from __future__ import annotations

import pytest

from contract_tests.checks import error_shape_problem, identifier_problems, pagination_problems
from contract_tests.options import HarnessOptions, parse_role_tokens
from contract_tests.redact import MASK, Redactor
from contract_tests.roles import metadata_problems, replay_problems
from contract_tests.transitions import conformance_problems, expected_states

HOST = "http://127.0.0.1:8000/api/marketplace-orders/"
U1 = "2ee14bab934c4ce09e41c1d2937f8edd"


@pytest.mark.parametrize(
    "body",
    [{"detail": "Not found."}, {"project": ["This field is required."]}, ["Blocked organization."]],
)
def test_error_shapes_accepted(body: object) -> None:
    assert error_shape_problem(body) is None


@pytest.mark.parametrize(
    "body",
    [
        {"type": "about:blank", "title": "Bad Request", "detail": "x", "status": 400},
        {"detail": 3},
        {"project": "required"},
        [],
        "text",
        {},
    ],
)
def test_error_shapes_refused(body: object) -> None:
    assert error_shape_problem(body) is not None


def links(*pairs: tuple[str, str]) -> str:
    return ", ".join(f'<{url}>; rel="{rel}"' for rel, url in pairs)


def test_pagination_consistent_page() -> None:
    link = links(("first", HOST), ("prev", HOST), ("next", HOST + "?page=3"),
                 ("last", HOST + "?page=6"))
    assert pagination_problems(count_header="55", link_header=link, query={"page": ["2"]},
                               items=10) == []


def test_pagination_last_page_and_head() -> None:
    link = links(("first", HOST + "?page_size=20"), ("prev", HOST + "?page=2&page_size=20"),
                 ("last", HOST + "?page=3&page_size=20"))
    q = {"page": ["3"], "page_size": ["20"]}
    assert pagination_problems(count_header="55", link_header=link, query=q, items=15) == []
    assert pagination_problems(count_header="55", link_header=link, query=q, items=None) == []


@pytest.mark.parametrize(
    ("count", "items", "query", "fragment"),
    [
        (None, 3, {}, "X-Result-Count header is missing"),
        ("45", 10, {}, "rel=\"last\" points to page 6"),  # count vs links
        ("3", 10, {}, "should hold 3 items"),
        ("999", 301, {"page_size": ["1000"]}, "exceed the maximum page size 300"),
        ("55", 11, {}, "11 items on a page of size 10"),
    ],
)
def test_pagination_problems(count: str | None, items: int, query: dict, fragment: str) -> None:
    link = links(("first", HOST), ("next", HOST + "?page=2"), ("last", HOST + "?page=6"))
    problems = pagination_problems(count_header=count, link_header=link, query=query, items=items)
    assert any(fragment in p for p in problems), problems


def test_pagination_relative_link_refused() -> None:
    link = links(("first", "/api/marketplace-orders/"), ("last", "/api/marketplace-orders/"))
    problems = pagination_problems(count_header="1", link_header=link, query={}, items=1)
    assert any("not an absolute URL" in p for p in problems)


def test_identifiers() -> None:
    good = {"uuid": U1, "url": HOST + U1 + "/", "project_uuid": U1, "callback_url": "x"}
    assert identifier_problems(good) == []
    bad = [{"uuid": "2ee14bab-934c-4ce0-9e41-c1d2937f8edd", "url": "/api/marketplace-orders/x/"}]
    problems = identifier_problems(bad)
    assert len(problems) == 2 and "32 lowercase hex" in problems[0] and "absolute" in problems[1]


def order(state: str, otype: str = "Marketplace.Slurm", **extra: object) -> dict:
    return {"uuid": U1, "state": state, "offering_type": otype, **extra}


def test_transition_success_from_allowed_state() -> None:
    before = order("pending-consumer")
    assert conformance_problems("approve_by_consumer", 200, {"detail": "ok"}, before,
                                order("pending-provider")) == []


def test_transition_success_from_wrong_state_is_reported() -> None:
    problems = conformance_problems("approve_by_consumer", 200, None, order("done"), order("done"))
    assert any("succeeded (200) from 'done'" in p for p in problems)


def test_transition_wrong_target_is_reported() -> None:
    problems = conformance_problems("reject_by_provider", 200, None, order("pending-provider"),
                                    order("canceled"))
    assert any("expected one of ['rejected']" in p for p in problems)


def test_wrong_state_409_must_change_nothing_and_name_the_states() -> None:
    before = order("done")
    body = {"detail": "Valid states for operation: pending-consumer, pending-provider."}
    assert conformance_problems("destroy", 409, body, before, dict(before)) == []
    changed = order("canceled")
    assert any("changed the order" in p for p in conformance_problems("destroy", 409, body, before,
                                                                      changed))
    assert any("expected 'Valid states" in p
               for p in conformance_problems("destroy", 409, {"detail": "no"}, before, before))


def test_destroy_success_means_gone() -> None:
    assert conformance_problems("destroy", 204, None, order("pending-consumer"), None) == []
    assert conformance_problems("destroy", 204, None, order("pending-consumer"),
                                order("pending-consumer"))


def test_basic_orders_may_finish_by_themselves() -> None:
    assert "done" in (expected_states("approve_by_provider",
                                      order("pending-provider", "Marketplace.Basic")) or set())
    slurm = expected_states("approve_by_provider", order("pending-provider")) or set()
    assert "done" not in slurm


def test_role_replays() -> None:
    ok = dict(role="r", method="GET /api/marketplace-orders/{uuid}/", changed=False)
    assert replay_problems(action=None, visible=False, status=404, **ok) == []
    assert replay_problems(action=None, visible=False, status=200, **ok)
    assert replay_problems(action="cancel", visible=True, status=403, **ok) == []
    assert replay_problems(action="cancel", visible=True, status=404, **ok)
    assert replay_problems(action="unlink", visible=False, status=403, **ok) == []  # staff-only
    assert replay_problems(action="cancel", visible=True, status=401, **ok)


def test_redaction() -> None:
    secret = "02020271f1c2fdc62efe0b48ca5ae06ec6857e0f"
    redact = Redactor([secret])
    text = f"curl -H 'Authorization: Token {secret}' 'http://h/api/?x-auth-token={secret}'"
    out = redact(text)
    assert secret not in out and MASK in out
    assert "abc" not in redact("curl -H 'Authorization: Token abc'")


def test_remote_mutating_needs_project_and_offering() -> None:
    remote = HarnessOptions(base_url="https://waldur.example.com", token="t0ken")
    assert any("--project" in p for p in remote.problems())
    assert remote.with_(read_only=True).problems() == []
    assert remote.with_(project="p", offering="o").problems() == []
    assert HarnessOptions(base_url="https://x").problems()  # no token


def test_role_tokens_parse() -> None:
    assert parse_role_tokens(["owner=abc", "member = def"]) == {"owner": "abc", "member": "def"}
    with pytest.raises(ValueError):
        parse_role_tokens(["owner"])


# ------------------------------------------------------------------------------------------
# DRF takes numbers as text: such "negative" bodies are not defects (checks.drf_text_coercion_only)


def _negative_case(body: object, *mutations: tuple[str, str, str, str],
                   negative_query: bool = False) -> object:
    """A stand-in for a Schemathesis case: (location, pointer, was, became) per mutation."""
    from types import SimpleNamespace

    from schemathesis.core.mutations import Mutation, MutationChannel, OperatorKind
    from schemathesis.core.parameters import ParameterLocation

    muts = [
        Mutation(path=(), parameter_location=ParameterLocation(loc), schema_pointer=pointer,
                 channel=MutationChannel.SCHEMA, operator=OperatorKind.CHANGE_TYPE,
                 keywords=("type",), parameter=None, original_value=was, new_value=became)
        for loc, pointer, was, became in mutations
    ]
    components = {ParameterLocation.BODY: SimpleNamespace(mode=SimpleNamespace(is_negative=True))}
    if negative_query:
        components[ParameterLocation.QUERY] = SimpleNamespace(
            mode=SimpleNamespace(is_negative=True))
    meta = SimpleNamespace(phase=SimpleNamespace(data=SimpleNamespace(mutations=muts)),
                           components=components)
    return SimpleNamespace(meta=meta, body=body)


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        (_negative_case({"error_message": -5, "error_traceback": 1.5},
                        ("body", "/properties/error_message", "string", "integer"),
                        ("body", "/properties/error_traceback", "string", "number")), True),
        (_negative_case({"a": {"b": 3}}, ("body", "/properties/a/properties/b", "string",
                                          "integer")), True),
        (_negative_case({"error_message": True},
                        ("body", "/properties/error_message", "string", "boolean")), False),
        (_negative_case({"error_message": True},  # a bool is refused even when "integer"
                        ("body", "/properties/error_message", "string", "integer")), False),
        (_negative_case({"error_message": {}},
                        ("body", "/properties/error_message", "string", "object")), False),
        (_negative_case({"limits": 5}, ("body", "/properties/limits", "object", "integer")),
         False),
        (_negative_case({"x": 5}, ("body", "/properties/x", "string", "integer"),
                        negative_query=True), False),
        (_negative_case([5], ("body", "/items", "string", "integer")), False),
        (_negative_case({"x": 5}), False),  # no mutations recorded
    ],
)
def test_drf_text_coercion_only(case: object, expected: bool) -> None:
    from contract_tests.checks import drf_text_coercion_only

    assert drf_text_coercion_only(case) is expected


def test_metadata_probe_rules() -> None:
    """OPTIONS is DRF's metadata: the same answer for every valid token, visible order or not."""
    assert metadata_problems(role="plain_user", primary=200, status=200) == []
    assert metadata_problems(role="plain_user", primary=200, status=404) == [
        "as plain_user: OPTIONS answered 404, the primary user got 200 (DRF's metadata answer "
        "does not depend on who may see the object)"]
    assert metadata_problems(role="x", primary=200, status=401) == ["as x: a valid token got 401"]
