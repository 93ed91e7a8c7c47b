"""The transition table against every (action, state, offering type) cell of the reference."""

from __future__ import annotations

import pytest

from mockserver.orders import statemachine as sm
from mockserver.orders.exceptions import ApiError
from mockserver.orders.models import OrdersBackend
from mockserver.settings import DEFAULT_FIXTURES
from mockserver.world.fixtures import load_fixtures
from mockserver.world.generate import build_world

DOC = load_fixtures(DEFAULT_FIXTURES)
ALL_STATES = tuple(sm.STATE_DB_INT)
PC, PP, EX, ER = "pending-consumer", "pending-provider", "executing", "erred"

# Reference §2.2 (typed from the reference, independently of the table under test).
REFERENCE_SOURCES: dict[str, tuple[str, ...] | None] = {
    "approve_by_consumer": (PC,),
    "approve_by_provider": (PP,),
    "reject_by_consumer": (PC,),
    "reject_by_provider": (PP,),
    "cancel": (PC, PP, EX),
    "set_state_executing": (PC, PP, ER),
    "set_state_done": (EX,),
    "set_state_erred": None,
    "retry": (ER,),
    "destroy": (PC, PP),
    "set_consumer_info": (PP,),
    "set_provider_info": (PP,),
    "update": (PC, PP),
    "update_attachment": (PC, PP),
    "delete_attachment": (PC, PP),
    "set_backend_id": None,
    "unlink": None,
}
REFERENCE_TYPES: dict[str, tuple[str, ...] | None] = {
    "cancel": ("Marketplace.Basic", "Support.OfferingTemplate"),
    "set_state_executing": ("Marketplace.Slurm",),
    "set_state_done": ("Marketplace.Slurm", "Marketplace.Basic", "Support.OfferingTemplate"),
    "set_state_erred": ("Marketplace.Slurm",),
    "retry": ("Marketplace.Slurm", "Marketplace.Basic"),
}
# One order per offering type, created by proj_manager/proj_admin (so consumer review is needed).
ORDERS_BY_TYPE = {
    "Marketplace.Slurm": "ord-pc-slurm",
    "Marketplace.Basic": "ord-pc-basic",
    "Support.OfferingTemplate": "ord-pp-support",
}


def test_table_covers_every_action_of_the_reference() -> None:
    assert set(sm.TRANSITIONS) == set(REFERENCE_SOURCES)


@pytest.mark.parametrize("action", sorted(REFERENCE_SOURCES))
def test_sources_match_reference_in_validator_order(action: str) -> None:
    assert sm.TRANSITIONS[action].sources == REFERENCE_SOURCES[action]
    assert sm.TRANSITIONS[action].offering_types == REFERENCE_TYPES.get(action)


def test_state_db_ints_follow_reference() -> None:
    assert sm.STATE_DB_INT == {PC: 1, EX: 2, "done": 3, ER: 4, "canceled": 5, "rejected": 6,
                               PP: 7, "pending-project": 8, "pending-start-date": 9}


def test_validators_run_state_before_offering_type() -> None:
    for t in sm.TRANSITIONS.values():
        if sm.V_STATE in t.validators and sm.V_OFFERING_TYPE in t.validators:
            assert t.validators.index(sm.V_STATE) < t.validators.index(sm.V_OFFERING_TYPE)
    assert sm.TRANSITIONS["approve_by_consumer"].validators == (
        sm.V_CUSTOMER, sm.V_PROJECT_END, sm.V_STATE)


def test_can_terminate() -> None:
    assert sm.can_terminate("Marketplace.Basic", EX)
    assert not sm.can_terminate("Marketplace.Basic", "done")
    assert not sm.can_terminate("Marketplace.Slurm", PC)


def force_state(backend: OrdersBackend, uuid: str, state: str) -> None:
    order = backend.orders[uuid]
    old = order.state
    order.state = state
    if state == PC:
        order.consumer_reviewed_by = order.consumer_reviewed_at = None
    backend.index.state_changed(order, old)


def call(backend: OrdersBackend, action: str, uuid: str) -> tuple[int, object]:
    staff = backend.user_by_username("staff")
    assert staff is not None
    try:
        if action == "destroy":
            backend.destroy_order(staff, uuid)
            return 204, None
        if action == "unlink":
            backend.unlink_order(staff, uuid)
            return 204, None
        if action == "update":
            backend.update_order(staff, uuid, {"attributes": {"name": "n"}}, partial=True)
            return 200, None
        if action == "update_attachment":
            backend.set_attachment(staff, uuid, "po.pdf", "application/pdf", b"%PDF-1.4")
            return 200, None
        if action == "delete_attachment":
            backend.set_attachment(staff, uuid, None, None, None)
            return 204, None
        data = {"backend_id": "b-1"} if action == "set_backend_id" else None
        result = backend.run_action(staff, uuid, action, data)
        return result.status, result.body
    except ApiError as exc:
        return exc.status, exc.body


CELLS = [(a, s, t) for a in sorted(REFERENCE_SOURCES) for s in ALL_STATES for t in ORDERS_BY_TYPE]


@pytest.fixture(scope="module")
def world_factory():
    return lambda: OrdersBackend.from_world(build_world(DOC, seed=1, orders=0))


@pytest.mark.parametrize(("action", "state", "offering_type"), CELLS)
def test_transition_cell(world_factory, action: str, state: str, offering_type: str) -> None:
    backend = world_factory()
    uuid = backend.world.keys["orders"][ORDERS_BY_TYPE[offering_type]]
    force_state(backend, uuid, state)
    status, body = call(backend, action, uuid)
    sources = REFERENCE_SOURCES[action]
    types = REFERENCE_TYPES.get(action)
    if action.endswith("_info") and offering_type != "Support.OfferingTemplate" and (
            sources is None or state in sources):
        assert status == 409  # messaging disabled on this offering
        assert body == {"detail": "Provider-consumer messaging is not enabled for this offering."}
    elif sources is not None and state not in sources:
        assert status == 409
        assert body == {"detail": f"Valid states for operation: {', '.join(sources)}."}
    elif types is not None and offering_type not in types:
        assert status == 405
        assert body == {"detail": f'Method "The order\'s offering with {offering_type} type '
                                  'does not support this action" not allowed.'}
    else:
        assert status in (200, 202, 204), body
        if action in ("destroy", "unlink"):
            assert uuid not in backend.orders


def test_409_text_lists_states_in_validator_order(world_factory) -> None:
    backend = world_factory()
    uuid = backend.world.keys["orders"]["ord-done-slurm"]
    assert call(backend, "cancel", uuid) == (
        409, {"detail": "Valid states for operation: pending-consumer, pending-provider, "
                        "executing."})
    assert call(backend, "destroy", uuid) == (
        409, {"detail": "Valid states for operation: pending-consumer, pending-provider."})


def test_domain_states_and_types_are_exactly_the_spec_enums() -> None:
    """The domain's state/type tables (with their DB integers) cover the spec's enums, no more."""
    from mockserver import spec

    assert set(sm.STATE_DB_INT) == set(spec.enum_values("OrderState"))
    assert set(sm.ORDER_TYPE_DB_INT) == set(spec.enum_values("RequestTypes"))
    for transition in sm.TRANSITIONS.values():
        states = set(transition.sources or ())
        if transition.target is not None and not transition.target.startswith("@"):
            states.add(transition.target)
        assert states <= set(spec.enum_values("OrderState")), transition
