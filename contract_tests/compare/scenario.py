"""The compare scenario, as data: one list of steps, run in the same order on both sides.

Placeholders in paths, params and bodies are filled per side: `{A}` .. `{F}` the uuid of the
order that side created under that name, `{project}` / `{offering}` / `{plan}` the side's URLs,
`{project_uuid}` / `{offering_uuid}` their uuids. Roles (`--token-for ROLE=KEY`):

  staff     the primary token (cleans up with `unlink`, sees everything)
  creator   a project manager or admin of the project (creates orders that wait for the consumer)
  consumer  an owner of the project's organization (approves / rejects as consumer)
  provider  an owner of the offering's organization (approves, sets states)
  outsider  a user with no role on the project or the offering (sees nothing)
  anonymous no token at all

The offering must be a `Marketplace.Slurm` one (the site agent's type): every action of the
agent (executing, done, erred) is allowed on it, and `cancel` is its 405. The steps that need
a `Marketplace.Basic` offering (a successful cancel) run only when one is given
(`{basic_offering}` / `{basic_plan}`); otherwise they are skipped and the report says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ORDERS = "/api/marketplace-orders/"
NO_BODY: Any = object()  # a step without a request body
JSON_NULL: Any = object()  # the JSON body `null`
ROLES: tuple[str, ...] = ("staff", "creator", "consumer", "provider", "outsider")
MISSING_UUID = "0" * 32  # stands for an order a side failed to create (its requests get 404)


@dataclass(frozen=True)
class Step:
    """One request. `name` is stable: it is part of every difference key of the step.
    `saves`: a 201 of this step is the order of that name. `items`: how two list pages are
    compared: "set" (the same scenario orders), "sequence" (in the same order), "count"."""

    name: str
    role: str
    method: str
    path: str
    body: Any = NO_BODY
    params: dict[str, Any] = field(default_factory=dict)
    saves: str | None = None
    items: str = "set"
    needs: str | None = None  # a reference the real side may lack ("basic_offering"): skipped


def create(name: str, role: str = "creator", needs: str | None = None, **extra: Any) -> Step:
    body = {
        "project": "{project}",
        "offering": "{offering}",
        "plan": "{plan}",
        "attributes": {"name": f"contract-compare-{name.lower()}"},
        **extra,
    }
    return Step(f"create-{name}-as-{role}", role, "POST", ORDERS, body=body, saves=name,
                needs=needs)


def get(order: str, role: str, tag: str = "", needs: str | None = None) -> Step:
    return Step(f"get-{order}-as-{role}{tag}", role, "GET", f"{ORDERS}{{{order}}}/", needs=needs)


def act(order: str, action: str, role: str, body: Any = NO_BODY, tag: str = "",
        needs: str | None = None) -> Step:
    return Step(f"{action}-{order}-as-{role}{tag}", role, "POST",
                f"{ORDERS}{{{order}}}/{action}/", body, needs=needs)


def delete(order: str, role: str, tag: str = "", needs: str | None = None) -> Step:
    return Step(f"delete-{order}-as-{role}{tag}", role, "DELETE", f"{ORDERS}{{{order}}}/",
                needs=needs)


BASIC = "basic_offering"


def listing(name: str, role: str = "staff", items: str = "set", method: str = "GET",
            **params: Any) -> Step:
    scope = {"project_uuid": "{project_uuid}", "offering_uuid": "{offering_uuid}"}
    return Step(f"list-{name}-as-{role}", role, method, ORDERS, params={**scope, **params},
                items=items)


ERRED = {"error_message": "contract-compare: erred", "error_traceback": "Traceback: compare"}

# The expected outcome of each step (on Waldur) is in its comment; the comparison never uses it.
SCENARIO: tuple[Step, ...] = (
    # A: consumer approval, provider approval, the agent's executing -> done
    create("A"),                                                  # 201 pending-consumer
    get("A", "creator"),
    get("A", "outsider"),                                         # 404 invisible
    get("A", "anonymous"),                                        # 401
    act("A", "approve_by_provider", "provider", tag="-early"),    # 409 wrong state
    act("A", "approve_by_consumer", "creator"),                   # 403 a manager may not approve
    act("A", "approve_by_consumer", "outsider"),                  # 404
    act("A", "approve_by_consumer", "consumer"),                  # 200 -> pending-provider
    act("A", "approve_by_consumer", "consumer", tag="-again"),    # 409
    act("A", "set_state_done", "provider", tag="-early"),         # 409
    act("A", "approve_by_provider", "consumer"),                  # 403
    act("A", "approve_by_provider", "provider"),                  # 200 -> executing
    get("A", "provider"),
    act("A", "cancel", "creator"),                                # 405 Slurm cannot cancel
    act("A", "set_state_done", "consumer"),                       # 403
    act("A", "set_backend_id", "provider", {"backend_id": "compare-a"}),
    act("A", "set_backend_id", "provider", {"backend_id": "compare-a"}, tag="-same"),
    act("A", "set_state_done", "provider"),                       # 200 -> done
    get("A", "consumer"),
    Step("offering-A-as-consumer", "consumer", "GET", f"{ORDERS}{{A}}/offering/"),
    Step("resource-A-as-provider", "provider", "GET", f"{ORDERS}{{A}}/resource/"),
    Step("resource-A-as-outsider", "outsider", "GET", f"{ORDERS}{{A}}/resource/"),  # 404
    act("A", "cancel", "creator", tag="-done"),                   # 409
    delete("A", "creator"),                                       # 409
    act("A", "unlink", "creator"),                                # 403 staff only
    # B: rejected by the consumer
    create("B"),
    act("B", "reject_by_provider", "provider"),                   # 409
    act("B", "reject_by_consumer", "outsider"),                   # 404
    act("B", "reject_by_consumer", "consumer", {"consumer_rejection_comment": "compare"}),
    get("B", "creator"),
    act("B", "approve_by_consumer", "consumer"),                  # 409
    # C: rejected by the provider
    create("C"),
    act("C", "approve_by_consumer", "consumer"),
    act("C", "reject_by_provider", "consumer"),                   # 403
    act("C", "reject_by_provider", "provider", {"provider_rejection_comment": "compare"}),
    get("C", "consumer"),
    # D: erred by the agent, back to executing, done
    create("D"),
    act("D", "approve_by_consumer", "consumer"),
    act("D", "set_state_executing", "provider"),                  # 200 from pending-provider
    act("D", "set_state_erred", "provider", ERRED),
    get("D", "provider"),
    get("D", "staff"),
    act("D", "set_state_executing", "provider", tag="-from-erred"),
    act("D", "set_state_done", "provider"),
    act("D", "retry", "provider"),                                # 409 only from erred
    # E: deleted while pending
    create("E"),
    Step("update-E-as-creator", "creator", "PATCH", f"{ORDERS}{{E}}/",
         body={"attributes": {"name": "contract-compare-e2"}}),   # 403 (405 on older Waldur)
    Step("update-E-as-consumer", "consumer", "PATCH", f"{ORDERS}{{E}}/",
         body={"attributes": {"name": "contract-compare-e2"}}),
    delete("E", "outsider"),                                      # 404
    delete("E", "creator"),                                       # 204
    get("E", "creator"),                                          # 404
    delete("E", "creator", tag="-again"),                         # 404
    # F: created by the consumer owner (consumer review recorded at once)
    create("F", "consumer"),                                      # 201 pending-provider
    get("F", "consumer"),
    act("F", "reject_by_consumer", "consumer"),                   # 409
    # G: canceled while pending (a Marketplace.Basic offering: Slurm orders cannot be canceled)
    create("G", needs=BASIC, offering="{basic_offering}", plan="{basic_plan}"),
    act("G", "cancel", "outsider", needs=BASIC),                   # 404
    act("G", "cancel", "creator", needs=BASIC),                    # 202 -> canceled
    get("G", "creator", needs=BASIC),
    act("G", "cancel", "creator", tag="-again", needs=BASIC),      # 409
    delete("G", "creator", needs=BASIC),                           # 409
    # H: rejected by the consumer with the JSON body `null` (Waldur: 200)
    create("H"),
    act("H", "reject_by_consumer", "consumer", JSON_NULL, tag="-null-body"),
    get("H", "creator"),
    # bad bodies and paths
    Step("create-plan-of-another-offering", "creator", "POST", ORDERS, needs=BASIC,
         body={"project": "{project}", "offering": "{offering}", "plan": "{basic_plan}"}),
    Step("create-empty-body", "creator", "POST", ORDERS, body={}),
    Step("create-attributes-text", "creator", "POST", ORDERS,
         body={"project": "{project}", "offering": "{offering}", "plan": "{plan}",
               "attributes": "text"}),
    Step("create-project-not-a-url", "creator", "POST", ORDERS,
         body={"project": "not a url", "offering": "{offering}", "plan": "{plan}"}),
    act("A", "set_backend_id", "provider", {}, tag="-empty"),      # 400
    act("A", "set_backend_id", "provider", {"backend_id": ""}, tag="-blank"),
    act("A", "set_state_erred", "provider", {"error_message": ["x"]}, tag="-list"),
    act("B", "reject_by_consumer", "consumer", {"consumer_rejection_comment": None},
        tag="-null"),
    # DRF answers OPTIONS with its metadata (200) on any order URL, visible or not
    Step("options-A-as-consumer", "consumer", "OPTIONS", f"{ORDERS}{{A}}/"),
    Step("options-A-as-outsider", "outsider", "OPTIONS", f"{ORDERS}{{A}}/"),
    Step("options-list-as-creator", "creator", "OPTIONS", ORDERS),
    Step("options-list-as-anonymous", "anonymous", "OPTIONS", ORDERS),    # 401
    Step("get-not-a-uuid", "staff", "GET", f"{ORDERS}not-a-uuid/"),
    Step("get-unknown-uuid", "staff", "GET", f"{ORDERS}{'f' * 32}/"),
    Step("approve-unknown-uuid", "consumer", "POST",
         f"{ORDERS}{'f' * 32}/approve_by_consumer/"),
    # filters and pages, over the scenario's own orders in the project and offering
    listing("all", items="set"),
    listing("done", state="done"),
    listing("rejected-page-1", items="count", state="rejected", page_size=1),
    listing("rejected-page-2", items="count", state="rejected", page_size=1, page=2),
    # the stub dates an API-made order from its uuid (deterministic), not from the moment of
    # creation: `o=-created` is compared by count, not by sequence
    listing("newest-first", items="count", o="-created"),
    listing("two-states", state=["rejected", "pending-provider"], o="state"),
    listing("as-creator", role="creator"),
    listing("as-outsider", role="outsider"),
    listing("count", method="HEAD", state="done"),
    listing("bad-page", page=99),                                  # 404 Invalid page
)
