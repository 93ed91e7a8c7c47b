"""The order state machine, as data (reference §1, §2).

`TRANSITIONS` maps every order action to: the source states its state validator allows (in the
order the real validator lists them: that order is the 409 text), the target, the offering types
its offering-type validator allows (405 otherwise), the permission rule (a key of
`permissions.ACTION_RULES`) and the validators, in the order the real view runs them.

Dynamic targets start with "@" and are resolved by the backend:
  @after_consumer_approval  pending-project / executing / pending-start-date / pending-provider
  @after_provider_approval  executing / pending-start-date
  @erred_unless_terminal    erred; a terminal order keeps its state (observed in §11 on `done`)
"""

from __future__ import annotations

from dataclasses import dataclass

# ---------------------------------------------------------------------------------------------
# States (§1): wire name -> DB integer (ordering by `o=state` sorts by this number).
PENDING_CONSUMER = "pending-consumer"
PENDING_PROVIDER = "pending-provider"
PENDING_PROJECT = "pending-project"
PENDING_START_DATE = "pending-start-date"
EXECUTING = "executing"
DONE = "done"
ERRED = "erred"
CANCELED = "canceled"
REJECTED = "rejected"

STATE_DB_INT: dict[str, int] = {
    PENDING_CONSUMER: 1,
    EXECUTING: 2,
    DONE: 3,
    ERRED: 4,
    CANCELED: 5,
    REJECTED: 6,
    PENDING_PROVIDER: 7,
    PENDING_PROJECT: 8,
    PENDING_START_DATE: 9,
}
TERMINAL_STATES: frozenset[str] = frozenset({DONE, ERRED, CANCELED, REJECTED})
PENDING_STATES: tuple[str, ...] = (PENDING_CONSUMER, PENDING_PROVIDER)

# Order types (§1): wire name -> DB integer.
ORDER_TYPE_DB_INT: dict[str, int] = {"Create": 1, "Update": 2, "Terminate": 3, "Restore": 4}

# ---------------------------------------------------------------------------------------------
# Offering types and how their orders are processed (§2.1, §11).
BASIC = "Marketplace.Basic"
SLURM = "Marketplace.Slurm"
SUPPORT = "Support.OfferingTemplate"
SCRIPT = "Marketplace.Script"
REMOTE = "Waldur.RemoteOffering"


@dataclass(frozen=True)
class OfferingTypeRules:
    """provider_review: orders need pending-provider ("remote" = only without
    auto_approve_remote_orders and unless the creator is the provider owner / offering manager).
    auto_complete: an executing order goes to done by itself (the backend processor).
    scope_type: the plugin resource type that appears as `resource_type` once processing starts."""

    provider_review: bool | str
    auto_complete: bool
    scope_type: str | None = None


OFFERING_TYPES: dict[str, OfferingTypeRules] = {
    BASIC: OfferingTypeRules(provider_review=True, auto_complete=True),
    SLURM: OfferingTypeRules(
        provider_review=True, auto_complete=False, scope_type="SLURM.Allocation"
    ),
    SUPPORT: OfferingTypeRules(provider_review=False, auto_complete=False),
    SCRIPT: OfferingTypeRules(provider_review=False, auto_complete=True),
    REMOTE: OfferingTypeRules(provider_review="remote", auto_complete=False),
}
DEFAULT_TYPE_RULES = OfferingTypeRules(provider_review=False, auto_complete=True)


def type_rules(offering_type: str) -> OfferingTypeRules:
    return OFFERING_TYPES.get(offering_type, DEFAULT_TYPE_RULES)


# ---------------------------------------------------------------------------------------------
# Validators, by name; the backend implements each (models.OrdersBackend._validate_*).
V_CUSTOMER = "customer_not_blocked"  # 400 bare list: Blocked/Archived organization ...
V_PROJECT_END = "project_not_expired"  # 400 bare list: Project '<name>' is expired.
V_STATE = "state"  # 409 Valid states for operation: ...
V_OFFERING_TYPE = "offering_type"  # 405 Method "The order's offering with T type ..." not allowed.
V_MESSAGING = "messaging_enabled"  # 409 (action body)


@dataclass(frozen=True)
class Transition:
    action: str
    sources: tuple[str, ...] | None  # None: no state validator
    target: str | None  # None: no state change; "@...": resolved by the backend
    offering_types: tuple[str, ...] | None  # None: no offering-type validator
    permission: str  # key of permissions.ACTION_RULES
    validators: tuple[str, ...]


def _t(
    action: str,
    sources: tuple[str, ...] | None,
    target: str | None,
    types: tuple[str, ...] | None,
    permission: str,
    validators: tuple[str, ...],
) -> Transition:
    return Transition(action, sources, target, types, permission, validators)


_PC_PP = (PENDING_CONSUMER, PENDING_PROVIDER)

TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in (
        _t("approve_by_consumer", (PENDING_CONSUMER,), "@after_consumer_approval", None,
           "approve_by_consumer", (V_CUSTOMER, V_PROJECT_END, V_STATE)),
        _t("approve_by_provider", (PENDING_PROVIDER,), "@after_provider_approval", None,
           "approve_by_provider", (V_CUSTOMER, V_STATE)),
        _t("reject_by_consumer", (PENDING_CONSUMER,), REJECTED, None,
           "reject_by_consumer", (V_CUSTOMER, V_STATE)),
        _t("reject_by_provider", (PENDING_PROVIDER,), REJECTED, None,
           "reject_by_provider", (V_CUSTOMER, V_STATE)),
        _t("cancel", (PENDING_CONSUMER, PENDING_PROVIDER, EXECUTING), CANCELED, (BASIC, SUPPORT),
           "cancel", (V_STATE, V_OFFERING_TYPE)),
        _t("set_state_executing", (PENDING_CONSUMER, PENDING_PROVIDER, ERRED), EXECUTING, (SLURM,),
           "set_state", (V_STATE, V_OFFERING_TYPE)),
        _t("set_state_done", (EXECUTING,), DONE, (SLURM, BASIC, SUPPORT),
           "set_state", (V_STATE, V_OFFERING_TYPE)),
        # §11: no state validator; a done order answered 200 and kept `done` (message stored).
        _t("set_state_erred", None, "@erred_unless_terminal", (SLURM,),
           "set_state_erred", (V_OFFERING_TYPE,)),
        _t("retry", (ERRED,), EXECUTING, (SLURM, BASIC),
           "set_state", (V_STATE, V_OFFERING_TYPE)),
        _t("destroy", _PC_PP, None, None, "destroy", (V_STATE, V_CUSTOMER)),
        _t("unlink", None, None, None, "unlink", ()),
        _t("set_backend_id", None, None, None, "set_backend_id", (V_CUSTOMER,)),
        _t("set_consumer_info", (PENDING_PROVIDER,), None, None,
           "set_consumer_info", (V_STATE, V_MESSAGING)),
        _t("set_provider_info", (PENDING_PROVIDER,), None, None,
           "set_provider_info", (V_STATE, V_MESSAGING)),
        _t("update_attachment", _PC_PP, None, None, "attachment", (V_STATE,)),
        _t("delete_attachment", _PC_PP, None, None, "attachment", (V_STATE,)),
        _t("update", _PC_PP, None, None, "update", (V_STATE,)),
    )
}

# Actions reachable through `run_action` (POST /{uuid}/<action>/); the others have their own
# backend methods (destroy_order, unlink_order, update_order, set_attachment).
POST_ACTIONS: tuple[str, ...] = (
    "approve_by_consumer",
    "approve_by_provider",
    "reject_by_consumer",
    "reject_by_provider",
    "cancel",
    "set_state_executing",
    "set_state_done",
    "set_state_erred",
    "retry",
    "set_backend_id",
    "set_consumer_info",
    "set_provider_info",
)


def offering_type_message(offering_type: str) -> str:
    """405 text. §2.3 (source) has the bare sentence; §11 (observed) shows DRF's MethodNotAllowed
    wrapping: we follow §11."""
    inner = f"The order's offering with {offering_type} type does not support this action"
    return f'Method "{inner}" not allowed.'


def can_terminate(offering_type: str, state: str) -> bool:
    """§7: true only if the offering type can cancel and the order is in a cancellable state."""
    cancel = TRANSITIONS["cancel"]
    assert cancel.offering_types is not None and cancel.sources is not None
    return offering_type in cancel.offering_types and state in cancel.sources


# §2.4: marketplace resource state after the order reaches a state, by order type.
# None: unchanged. "Creating" etc. apply when an order (re)starts executing (retry).
RESOURCE_EFFECTS: dict[tuple[str, str], str | None] = {
    ("Create", DONE): "OK",
    ("Create", ERRED): "Erred",
    ("Create", CANCELED): "Terminated",
    ("Create", REJECTED): "Terminated",
    ("Update", DONE): "OK",
    ("Update", ERRED): "Erred",
    ("Update", CANCELED): "OK",
    ("Update", REJECTED): "OK",
    ("Terminate", DONE): "Terminated",
    ("Terminate", ERRED): "OK",
    ("Terminate", CANCELED): "OK",
    ("Terminate", REJECTED): "OK",
    ("Restore", DONE): "OK",
    ("Restore", ERRED): "Erred",
    ("Restore", CANCELED): "Terminated",
    ("Restore", REJECTED): "Terminated",
    ("Create", EXECUTING): "Creating",
    ("Update", EXECUTING): "Updating",
    ("Terminate", EXECUTING): "Terminating",
    ("Restore", EXECUTING): "Creating",
}
