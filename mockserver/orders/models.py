"""OrdersBackend: every order operation as a method taking the acting User first. No HTTP.

Check order of a detail action (reference §2.3): 404 (invisible / missing / malformed uuid) ->
403 (permission) -> the transition's validators in table order (400 blocked customer, 400
expired project, 409 state, 405 offering type) -> the body (400) -> apply. Everything is
validated before anything is mutated, under one RLock, so a failed request changes nothing and
of two racing transitions exactly one wins (the other then meets the 409).
"""

from __future__ import annotations

import hashlib
import json
import pickle
import threading
import uuid as uuid_mod
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mockserver.memory import untrack
from mockserver.orders import statemachine as sm
from mockserver.orders.entities import (
    Attachment,
    Category,
    Customer,
    Offering,
    Order,
    Plan,
    Project,
    Resource,
    User,
    World,
)
from mockserver.orders.exceptions import (
    IncorrectState,
    MethodNotAllowed,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    ValidationError,
    detail,
)
from mockserver.orders.fields import (
    NOT_NULL,
    FieldErrors,
    body_dict,
    body_fields,
    char_field,
    date_field,
    dict_error,
    field_error,
    py_type,
    strings,
)
from mockserver.orders.filters import FilterContext, OrderIndex, parse_uuid
from mockserver.orders.filters import apply as apply_filters
from mockserver.orders.hyperlinks import detail_from_path, hyperlink_field, plan_from_path
from mockserver.orders.permissions import ACTION_RULES, PermissionIndex, allowed
from mockserver.orders.rendercache import RenderCache
from mockserver.orders.snapshot import export_world, import_world
from mockserver.world import packing
from mockserver.world.clock import Clock
from mockserver.world.generate import NAMESPACE, plan_cost, slugify

# Re-exported for callers that import the dataclasses from here.
__all__ = [
    "ActionResult", "Attachment", "Category", "Customer", "Offering", "Order", "OrdersBackend",
    "Plan", "Project", "Resource", "User", "World",
]

NOT_FOUND_MALFORMED = detail("Not found.")
DEFAULT_MAX_ATTACHMENT = 5 * 1024 * 1024
INFO_TEXTS = {
    "approve_by_consumer": "Order has been approved by consumer.",
    "approve_by_provider": "Order has been approved by provider.",
    "set_consumer_info": "Consumer info has been updated.",
    "set_provider_info": "Provider info has been updated.",
}
MESSAGING_DISABLED = "Provider-consumer messaging is not enabled for this offering."


@dataclass(frozen=True)
class ActionResult:
    """What the HTTP layer sends back: status and body (None = empty body)."""

    status: int
    body: dict[str, Any] | None = None


class OrdersBackend:
    def __init__(
        self,
        world: World,
        *,
        process_delay: float | None = 0.0,
        max_attachment_bytes: int = DEFAULT_MAX_ATTACHMENT,
        create_counts: Mapping[str, int] | None = None,
    ) -> None:
        self.world = world
        self.seed = world.seed
        self.clock = Clock(world.anchor)
        self.lock = threading.RLock()
        self.process_delay = process_delay
        self.max_attachment_bytes = max_attachment_bytes
        self.users = {u.uuid: u for u in world.users}
        self.tokens = {u.token: u for u in world.users}
        self.customers = {c.uuid: c for c in world.customers}
        self.projects = {p.uuid: p for p in world.projects}
        self.offerings = {o.uuid: o for o in world.offerings}
        self.plans = {p.uuid: p for o in world.offerings for p in o.plans}
        self.resources = {r.uuid: r for r in world.resources}
        untrack(world.orders, world.resources)  # acyclic: no collector passes over them
        self.perms = PermissionIndex(world.grants)
        self.index = OrderIndex(world.orders)
        self.create_counts: dict[str, int] = dict(create_counts or {})
        self.due: dict[str, float] = {}  # executing orders waiting for complete_processing
        self.on_executing: list[Callable[[str, float], None]] = []
        self._visible_cache: dict[str, tuple[int, set[str]]] = {}
        self._list_cache: OrderedDict[tuple, tuple[int, Sequence[Order]]] = OrderedDict()
        self.render_cache = RenderCache()  # rendered orders, checked against Order.rev

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def from_world(cls, world: World, **policy: Any) -> OrdersBackend:
        return cls(world, **policy)

    @classmethod
    def from_settings(cls, settings: Any) -> OrdersBackend:
        from mockserver.world import cache
        from mockserver.world.generate import build_world

        world = cache.load_or_build(
            settings.fixtures, settings.seed, settings.orders,
            lambda: build_world(settings.fixtures, seed=settings.seed, orders=settings.orders))
        return cls(world, process_delay=settings.process_delay,
                   max_attachment_bytes=settings.max_attachment_bytes)

    @property
    def orders(self) -> dict[str, Order]:
        return self.index.orders

    def export_state(self) -> dict[str, Any]:
        """The whole world + orders as a JSON-able dict (stable, sorted)."""
        with self.lock:
            self.world.orders = list(self.index.by_created)
            self.world.resources = list(self.resources.values())
            extra = {
                "create_counts": dict(sorted(self.create_counts.items())),
                "process_delay": self.process_delay,
                "max_attachment_bytes": self.max_attachment_bytes,
            }
            return export_world(self.world, extra)

    @classmethod
    def import_state(cls, data: dict[str, Any]) -> OrdersBackend:
        world, extra = import_world(data)
        return cls(world, process_delay=extra.get("process_delay", 0.0),
                   max_attachment_bytes=extra.get("max_attachment_bytes", DEFAULT_MAX_ATTACHMENT),
                   create_counts=extra.get("create_counts"))

    def snapshot(self) -> bytes:
        """The world and policy as pickle bytes, for `from_snapshot` (the registry's reset
        snapshot of a fresh backend: smaller and faster both ways than export_state's dict)."""
        with self.lock:
            policy = {"process_delay": self.process_delay,
                      "max_attachment_bytes": self.max_attachment_bytes,
                      "create_counts": dict(self.create_counts)}
            return pickle.dumps((packing.dumps(self.world), policy),
                                protocol=pickle.HIGHEST_PROTOCOL)

    @classmethod
    def from_snapshot(cls, blob: bytes) -> OrdersBackend:
        world, policy = pickle.loads(blob)  # noqa: S301 - our own bytes, never a client's
        return cls(packing.loads(world), **policy)

    # -- authentication & lookup --------------------------------------------------------------
    def authenticate(self, key: str) -> User:
        user = self.tokens.get(key)
        if user is None:
            raise NotAuthenticated(detail("Invalid token."))
        if not user.is_active:
            raise NotAuthenticated(detail("User inactive or deleted."))
        return user

    def user_by_username(self, username: str) -> User | None:
        return next((u for u in self.world.users if u.username == username), None)

    def visible_ids(self, user: User) -> set[str] | None:
        """Uuids of the orders the user may see; None = all (staff, support)."""
        if user.is_staff or user.is_support:
            return None
        cached = self._visible_cache.get(user.uuid)
        if cached is not None and cached[0] == self.index.membership:
            return cached[1]
        p, idx, uid = self.perms, self.index, user.uuid
        ids = (idx.ids("project", p.scopes(uid, "ORDER.LIST", "project"))
               | idx.ids("customer", p.scopes(uid, "ORDER.LIST", "customer"))
               | idx.ids("provider", p.scopes(uid, "ORDER.LIST", "customer"))
               | idx.ids("offering", p.scopes(uid, "ORDER.LIST", "offering"))
               | idx.ids("provider", p.scopes(uid, "ORDER.LIST", "service_provider")))
        self._visible_cache[user.uuid] = (self.index.membership, ids)
        return ids

    def can_see(self, user: User, order: Order) -> bool:
        if user.is_staff or user.is_support:
            return True
        p, uid = self.perms, user.uuid
        return (p.has(uid, "ORDER.LIST", "project", order.project.uuid)
                or p.has(uid, "ORDER.LIST", "customer", order.customer.uuid)
                or p.has(uid, "ORDER.LIST", "customer", order.provider.uuid)
                or p.has(uid, "ORDER.LIST", "offering", order.offering.uuid)
                or p.has(uid, "ORDER.LIST", "service_provider", order.provider.uuid))

    def _lookup(self, user: User, uuid: str) -> Order:
        # a path segment that is not a uuid is looked up like any other (a real server answers
        # "No Order matches the given query." for it too)
        hex_ = parse_uuid(uuid) if isinstance(uuid, str) else None
        order = self.index.orders.get(hex_) if hex_ is not None else None
        if order is None or not self.can_see(user, order):
            raise NotFound()
        return order

    def get_order(self, user: User, uuid: str) -> Order:
        return self._lookup(user, uuid)

    def order_offering(self, user: User, uuid: str) -> Offering:
        return self._lookup(user, uuid).offering

    def order_resource(self, user: User, uuid: str) -> Resource:
        return self._lookup(user, uuid).resource

    def list_orders(self, user: User, query: Mapping[str, list[str]]) -> Sequence[Order]:
        """Visible orders after filters and ordering. The result is read-only."""
        key = (user.uuid, tuple(sorted((k, tuple(v)) for k, v in query.items()
                                       if k not in ("page", "page_size", "field"))))
        with self.lock:
            hit = self._list_cache.get(key)
            if hit is not None and hit[0] == self.index.version:
                self._list_cache.move_to_end(key)
                return hit[1]
            ctx = FilterContext(user=user, index=self.index, perms=self.perms,
                                offerings=self.offerings, users=self.users,
                                visible=self.visible_ids(user))
            result = apply_filters(query, ctx)
            self._list_cache[key] = (self.index.version, result)
            if len(self._list_cache) > 256:
                self._list_cache.popitem(last=False)
            return result

    def dashboard_my_orders(self, user: User, query: Mapping[str, list[str]]) -> list[Order]:
        """The user's own unfinished orders, newest first (same filters)."""
        orders = self.list_orders(user, query)
        mine = [o for o in orders
                if o.created_by is user and o.state not in sm.TERMINAL_STATES]
        if not query.get("o"):
            mine.sort(key=lambda o: (o.created, o.uuid), reverse=True)
        return mine

    # -- permission & validators --------------------------------------------------------------
    def _scope_of(self, order: Order) -> Callable[[str], str | None]:
        scopes = {
            "project": order.project.uuid,
            "customer": order.customer.uuid,
            "provider": order.provider.uuid,
            "offering": order.offering.uuid,
            "service_provider": order.provider.uuid,
        }
        return scopes.get

    def _check_permission(self, user: User, order: Order, rule_name: str) -> None:
        ok = allowed(ACTION_RULES[rule_name], is_staff=user.is_staff,
                     is_creator=order.created_by is user, user_uuid=user.uuid,
                     index=self.perms, scope_of=self._scope_of(order))
        if not ok:
            raise PermissionDenied()

    def _run_validators(self, order: Order, t: sm.Transition) -> None:
        for name in t.validators:
            if name == sm.V_CUSTOMER:
                self._validate_customer(order.project)
            elif name == sm.V_PROJECT_END:
                self._validate_project_end(order.project)
            elif name == sm.V_STATE:
                assert t.sources is not None
                if order.state not in t.sources:
                    raise IncorrectState.for_states(t.sources)
            elif name == sm.V_OFFERING_TYPE:
                assert t.offering_types is not None
                if order.offering.type not in t.offering_types:
                    raise MethodNotAllowed(detail(sm.offering_type_message(order.offering.type)))
            elif name == sm.V_MESSAGING:
                if not order.offering.plugin_options.get("enable_provider_consumer_messaging"):
                    raise IncorrectState(detail(MESSAGING_DISABLED))

    @staticmethod
    def _validate_customer(project: Project) -> None:
        if project.customer.blocked:
            raise ValidationError(["Blocked organization is not available."])
        if project.customer.archived:
            raise ValidationError(["Archived organization is not available."])

    def _validate_project_end(self, project: Project) -> None:
        if project.end_date is not None and project.end_date < self.clock.today:
            raise ValidationError([f"Project '{project.name}' is expired."])

    def _prepare(self, user: User, uuid: str, action: str) -> tuple[Order, sm.Transition]:
        order = self._lookup(user, uuid)
        t = sm.TRANSITIONS[action]
        self._check_permission(user, order, t.permission)
        self._run_validators(order, t)
        return order, t

    # -- state changes ------------------------------------------------------------------------
    def _touch(self, order: Order) -> datetime:
        order.modified = self.clock.next_change(order.modified)
        order.rev += 1
        self.index.touched()
        return order.modified

    def _set_state(self, order: Order, state: str) -> None:
        old = order.state
        if old == state:
            return
        order.state = state
        self.index.state_changed(order, old)
        effect = sm.RESOURCE_EFFECTS.get((order.type, state))
        if state in sm.TERMINAL_STATES and effect is not None:
            self._resource_effect(order, state, effect)
        if state == sm.EXECUTING:
            self._start_processing(order)

    def _resource_effect(self, order: Order, state: str, new_state: str) -> None:
        res = order.resource
        res.state = new_state
        res.modified = order.modified
        if state == sm.DONE and order.type == "Update":
            res.plan = order.plan
            res.limits = dict(order.limits)
            new_options = order.attributes.get("new_options")
            if isinstance(new_options, dict):
                res.options = {**res.options, **new_options}
        if state == sm.ERRED:
            res.error_message = order.error_message
            res.error_traceback = order.error_traceback

    def _start_processing(self, order: Order) -> None:
        rules = sm.type_rules(order.offering.type)
        if rules.scope_type and order.scope_uuid is None:
            order.scope_uuid = uuid_mod.uuid5(NAMESPACE, f"scope:{order.uuid}").hex
            order.scope_type = rules.scope_type
        if not rules.auto_complete or self.process_delay is None:
            return
        if self.process_delay == 0:
            self._complete(order)
            return
        self.due[order.uuid] = self.process_delay
        for callback in list(self.on_executing):
            callback(order.uuid, self.process_delay)

    def _complete(self, order: Order) -> None:
        self._touch(order)
        order.completed_at = order.modified
        self.due.pop(order.uuid, None)
        self._set_state(order, sm.DONE)

    def complete_processing(self, uuid: str) -> bool:
        """Finish a due executing order (the delayed processor). False if nothing to do."""
        with self.lock:
            order = self.index.orders.get(uuid)
            self.due.pop(uuid, None)
            if order is None or order.state != sm.EXECUTING:
                return False
            self._complete(order)
            return True

    def force_state(self, uuid: str, state: str, *, error_message: str | None = None,
                    error_traceback: str | None = None) -> str:
        """Control API: put an order into `state`, bypassing state machine, permissions, side
        effects and processing. Only state, `modified` and the given error fields change.
        Returns the previous state."""
        if state not in sm.STATE_DB_INT:
            raise field_error("state", f'"{state}" is not a valid choice.')
        with self.lock:
            hex_ = parse_uuid(uuid) if isinstance(uuid, str) else None
            order = self.index.orders.get(hex_) if hex_ else None
            if order is None:
                raise NotFound()
            previous = order.state
            self._touch(order)
            if error_message is not None or error_traceback is not None:
                if error_message is not None:
                    order.error_message = error_message
                if error_traceback is not None:
                    order.error_traceback = error_traceback
                order.error_updated_at = order.modified
            if state != previous:
                order.state = state
                self.index.state_changed(order, previous)
                self.due.pop(order.uuid, None)
            return previous

    def consumer_review_not_needed(self, order: Order, creator: User) -> bool:
        """§2.1 order_should_not_be_reviewed_by_consumer (looks at the creator)."""
        if creator.is_staff:
            return True
        p, uid = self.perms, creator.uuid
        project, offering = order.project, order.offering
        in_consumer = (("project", project.uuid), ("customer", project.customer.uuid))
        if not offering.shared and any(p.has(uid, "ORDER.APPROVE_PRIVATE", k, s)
                                       for k, s in in_consumer):
            return True
        opts = offering.plugin_options
        if (offering.shared and offering.customer is project.customer
                and opts.get("auto_approve_in_service_provider_projects") is True
                and not opts.get("disable_autoapprove")):
            return True
        if order.type == "Terminate" and p.has(uid, "ORDER.APPROVE", "customer",
                                               offering.customer.uuid):
            return True
        return any(p.has(uid, "ORDER.APPROVE", k, s) for k, s in in_consumer)

    def provider_review_not_needed(self, order: Order, user: User) -> bool:
        rules = sm.type_rules(order.offering.type)
        if rules.provider_review == "remote":
            if order.offering.plugin_options.get("auto_approve_remote_orders"):
                return True
            p = self.perms
            return (p.has(user.uuid, "ORDER.APPROVE", "customer", order.provider.uuid)
                    or p.has(user.uuid, "ORDER.APPROVE", "offering", order.offering.uuid))
        return not rules.provider_review

    def _after_consumer_approval(self, order: Order, user: User) -> str:
        project = order.project
        if project.start_date is not None and project.start_date > self.clock.today:
            return sm.PENDING_PROJECT
        if self.provider_review_not_needed(order, user):
            return self._executing_or_start_date(order)
        return sm.PENDING_PROVIDER

    def _executing_or_start_date(self, order: Order) -> str:
        if order.start_date is not None and order.start_date > self.clock.today:
            return sm.PENDING_START_DATE
        return sm.EXECUTING

    # -- actions ------------------------------------------------------------------------------
    def run_action(self, user: User, uuid: str, action: str,
                   data: dict[str, Any] | None = None) -> ActionResult:
        """POST /{uuid}/<action>/ for the actions of statemachine.POST_ACTIONS."""
        if action not in sm.POST_ACTIONS:
            raise NotFound(NOT_FOUND_MALFORMED)
        with self.lock:
            order, t = self._prepare(user, uuid, action)
            body = body_dict(data)
            return getattr(self, f"_do_{action}")(user, order, t, body)

    def _do_approve_by_consumer(self, user: User, order: Order, t: sm.Transition,
                                body: dict[str, Any]) -> ActionResult:
        order.consumer_reviewed_by = user
        order.consumer_reviewed_at = self._touch(order)
        self._set_state(order, self._after_consumer_approval(order, user))
        return ActionResult(200, detail(INFO_TEXTS["approve_by_consumer"]))

    def _do_approve_by_provider(self, user: User, order: Order, t: sm.Transition,
                                body: dict[str, Any]) -> ActionResult:
        attributes = body.get("attributes")
        if "attributes" in body and attributes is None:
            raise field_error("attributes", NOT_NULL)
        if attributes is not None and not isinstance(attributes, dict):
            raise field_error("attributes", dict_error(attributes))
        if attributes:
            order.attributes = {**order.attributes, **attributes}
        order.provider_reviewed_by = user
        order.provider_reviewed_at = self._touch(order)
        self._set_state(order, self._executing_or_start_date(order))
        return ActionResult(200, detail(INFO_TEXTS["approve_by_provider"]))

    def _do_reject_by_consumer(self, user: User, order: Order, t: sm.Transition,
                               body: dict[str, Any]) -> ActionResult:
        fields = strings(body, tuple(body_fields("reject_by_consumer")))
        if self.consumer_review_not_needed(order, order.created_by):
            raise ValidationError(["Review of order by consumer is not required."])
        if order.consumer_reviewed_by is not None:
            raise ValidationError(["Order is already reviewed by consumer."])
        return self._reject(user, order, fields, "consumer")

    def _do_reject_by_provider(self, user: User, order: Order, t: sm.Transition,
                               body: dict[str, Any]) -> ActionResult:
        fields = strings(body, tuple(body_fields("reject_by_provider")))
        return self._reject(user, order, fields, "provider")

    def _reject(self, user: User, order: Order, fields: dict[str, str], side: str) -> ActionResult:
        """Store the rejection body's texts, record `side`'s review and reject the order."""
        for name, value in fields.items():
            setattr(order, name, value)
        setattr(order, f"{side}_reviewed_by", user)
        setattr(order, f"{side}_reviewed_at", self._touch(order))
        self._set_state(order, sm.REJECTED)
        return ActionResult(200)

    def _do_cancel(self, user: User, order: Order, t: sm.Transition,
                   body: dict[str, Any]) -> ActionResult:
        self._touch(order)
        self.due.pop(order.uuid, None)
        self._set_state(order, sm.CANCELED)
        return ActionResult(202)

    def _do_set_state_executing(self, user: User, order: Order, t: sm.Transition,
                                body: dict[str, Any]) -> ActionResult:
        self._touch(order)
        self._set_state(order, sm.EXECUTING)
        return ActionResult(200)

    def _do_set_state_done(self, user: User, order: Order, t: sm.Transition,
                           body: dict[str, Any]) -> ActionResult:
        self._complete(order)
        return ActionResult(200)

    def _do_set_state_erred(self, user: User, order: Order, t: sm.Transition,
                            body: dict[str, Any]) -> ActionResult:
        fields = strings(body, tuple(body_fields("set_state_erred")))
        order.error_message = fields.get("error_message", "")
        order.error_traceback = fields.get("error_traceback", "")
        order.error_updated_at = self._touch(order)
        self.due.pop(order.uuid, None)
        if order.state not in sm.TERMINAL_STATES:  # §11: a done order keeps `done`
            self._set_state(order, sm.ERRED)
        return ActionResult(200)

    def _do_retry(self, user: User, order: Order, t: sm.Transition,
                  body: dict[str, Any]) -> ActionResult:
        order.error_message = ""
        order.error_traceback = ""
        order.completed_at = None
        self._touch(order)
        res = order.resource
        res.error_message = ""
        res.error_traceback = ""
        effect = sm.RESOURCE_EFFECTS.get((order.type, sm.EXECUTING))
        if effect:
            res.state = effect
        self._set_state(order, sm.EXECUTING)
        return ActionResult(200)

    def _do_set_backend_id(self, user: User, order: Order, t: sm.Transition,
                           body: dict[str, Any]) -> ActionResult:
        value = char_field(body, "backend_id", max_length=255, required=True)
        assert value is not None
        if value == order.backend_id:
            return ActionResult(200, {"status": "Order backend_id is not changed."})
        order.backend_id = value
        self._touch(order)
        return ActionResult(200, {"status": "Order backend_id has been changed."})

    def _do_set_consumer_info(self, user: User, order: Order, t: sm.Transition,
                              body: dict[str, Any]) -> ActionResult:
        return self._set_info(order, body, "set_consumer_info", "consumer")

    def _do_set_provider_info(self, user: User, order: Order, t: sm.Transition,
                              body: dict[str, Any]) -> ActionResult:
        return self._set_info(order, body, "set_provider_info", "provider")

    def _set_info(self, order: Order, body: dict[str, Any], action: str,
                  side: str) -> ActionResult:
        """set_consumer_info / set_provider_info: the body's fields as the spec's multipart
        schema lists them (text, URL, file), all field errors at once, then applied."""
        errors = FieldErrors()
        values: dict[str, Any] = {}
        # the multipart form: the JSON form's fields plus the file
        for name, kind in body_fields(action, "multipart/form-data").items():
            if kind == "file":
                values[name] = errors.check(self._attachment_field, body, name)
            else:
                values[name] = errors.check(char_field, body, name, allow_blank=True,
                                            url=kind == "url")
        errors.raise_if_any()
        for name, value in values.items():
            if value is not None:
                setattr(order, name, value)
        setattr(order, f"{side}_message_updated_at", self._touch(order))
        return ActionResult(200, detail(INFO_TEXTS[action]))

    def _attachment_field(self, body: dict[str, Any], name: str) -> Attachment | None:
        value = body.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, Attachment):
            att = value
        elif isinstance(value, bytes | bytearray):
            att = Attachment(f"{name}.pdf", "application/pdf", bytes(value))
        else:
            raise field_error(name, "The submitted data was not a file. Check the encoding "
                                     "type on the form.")
        self._check_size(name, att.content)
        return att

    def _check_size(self, name: str, content: bytes) -> None:
        if len(content) == 0:
            raise field_error(name, "The submitted file is empty.")
        if len(content) > self.max_attachment_bytes:
            raise field_error(name, f"Ensure this file size is not greater than "
                                     f"{self.max_attachment_bytes} bytes "
                                     f"(it is {len(content)} bytes).")

    # -- destroy / unlink / update / attachments ----------------------------------------------
    def destroy_order(self, user: User, uuid: str) -> None:
        with self.lock:
            order, _ = self._prepare(user, uuid, "destroy")
            self._delete(order)

    def unlink_order(self, user: User, uuid: str) -> None:
        """Staff only, checked before the lookup: non-staff get 403 even for unknown uuids."""
        if not user.is_staff:
            raise PermissionDenied()
        with self.lock:
            order = self._lookup(user, uuid)
            self._delete(order)

    def _delete(self, order: Order) -> None:
        self.index.remove(order)
        self.due.pop(order.uuid, None)

    def update_order(self, user: User, uuid: str, data: dict[str, Any] | None,
                     partial: bool) -> Order:
        """PUT/PATCH: limits, attributes, start_date of a pending order."""
        with self.lock:
            order, _ = self._prepare(user, uuid, "update")
            body = body_dict(data)
            changes: dict[str, Any] = {}
            errors = FieldErrors()
            for name in ("limits", "attributes"):
                if name in body and body[name] is None:
                    errors[name] = [NOT_NULL]
            if "limits" in body and body["limits"] is not None:
                limits = errors.check(self._clean_limits, order.offering, body["limits"])
                if limits is not None:
                    changes["limits"] = limits
            if "attributes" in body and body["attributes"] is not None:
                if isinstance(body["attributes"], dict):
                    changes["attributes"] = dict(body["attributes"])
                else:
                    errors["attributes"] = [dict_error(body["attributes"])]
            if "start_date" in body:
                try:
                    changes["start_date"] = date_field(body["start_date"])
                except ValueError as exc:
                    errors["start_date"] = [str(exc)]
            errors.raise_if_any()
            for name, value in changes.items():
                setattr(order, name, value)
            if "limits" in changes:
                order.cost = plan_cost(order.plan, order.limits)
            self._touch(order)
            return order

    def set_attachment(self, user: User, uuid: str, filename: str | None,
                       content_type: str | None, content: bytes | None) -> Order:
        """update_attachment (content given) / delete_attachment (content None)."""
        action = "delete_attachment" if content is None else "update_attachment"
        with self.lock:
            order, _ = self._prepare(user, uuid, action)
            if content is None:
                order.attachment = None
            else:
                self._check_size("attachment", content)
                order.attachment = Attachment(filename or "attachment",
                                              content_type or "application/octet-stream",
                                              bytes(content))
            self._touch(order)
            return order

    # -- create -------------------------------------------------------------------------------
    def create_order(self, user: User, data: dict[str, Any] | None) -> Order:
        """POST /api/marketplace-orders/: validate all, then create in the §2.1 initial state."""
        with self.lock:
            body = body_dict(data)
            project, offering, plan, fields = self._validate_create(user, body)
            canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
            digest = hashlib.sha256(f"{user.uuid}:{canonical}".encode()).hexdigest()[:32]
            k = self.create_counts.get(digest, 0)
            order_uuid = uuid_mod.uuid5(NAMESPACE, f"{self.seed}:{user.uuid}:{canonical}:{k}").hex
            while order_uuid in self.index.orders:  # pragma: no cover - astronomically rare
                k += 1
                order_uuid = uuid_mod.uuid5(
                    NAMESPACE, f"{self.seed}:{user.uuid}:{canonical}:{k}").hex
            self.create_counts[digest] = k + 1
            created = self.clock.created_for(order_uuid)
            attributes = fields["attributes"]
            name = attributes.get("name") if isinstance(attributes.get("name"), str) else ""
            order_type = fields["type"]
            resource = Resource(
                uuid=uuid_mod.uuid5(NAMESPACE, f"resource:{order_uuid}").hex,
                key=f"api:{order_uuid}", name=name, slug=slugify(name or order_uuid[:8]),
                offering=offering, project=project, plan=plan,
                state=sm.RESOURCE_EFFECTS.get((order_type, sm.EXECUTING)) or "Creating",
                limits=dict(fields["limits"]), attributes=dict(attributes),
                created=created, modified=created,
            )
            order = Order(
                uuid=order_uuid, created=created, modified=created, type=order_type,
                state=sm.PENDING_CONSUMER, project=project, offering=offering,
                resource=resource, created_by=user, plan=plan, attributes=attributes,
                limits=fields["limits"], cost=plan_cost(plan, fields["limits"]),
                slug=slugify(name or order_uuid[:8]), callback_url=fields["callback_url"],
                request_comment=fields["request_comment"], start_date=fields["start_date"],
            )
            self.resources[resource.uuid] = resource
            self.index.add(order)
            if self.consumer_review_not_needed(order, user):
                order.consumer_reviewed_by = user
                order.consumer_reviewed_at = self._touch(order)
                order.auto_approved = True
                self._set_state(order, self._after_consumer_approval(order, user))
            return order

    def _validate_create(self, user: User, body: dict[str, Any]
                         ) -> tuple[Project, Offering, Plan | None, dict[str, Any]]:
        errors = FieldErrors()
        fields: dict[str, Any] = {}

        project = hyperlink_field(body, "project", errors, lambda path: detail_from_path(
            path, "projects", self.projects))
        if project is not None and not self._project_visible(user, project):
            errors["project"] = ["Invalid hyperlink - Object does not exist."]
            project = None
        offering = hyperlink_field(body, "offering", errors, lambda path: detail_from_path(
            path, "marketplace-public-offerings", self.offerings))
        if offering is not None and project is not None and not offering.shared \
                and offering.customer is not project.customer and not user.is_staff:
            errors["offering"] = ["Invalid hyperlink - Object does not exist."]
            offering = None
        plan = None
        if body.get("plan") is not None:
            plan = hyperlink_field(body, "plan", errors,
                                   lambda path: plan_from_path(path, self.offerings))
        for name in ("limits", "type", "accepting_terms_of_service"):
            if name in body and body[name] is None:  # DRF fields without allow_null
                errors[name] = [NOT_NULL]
        if "limits" in body and body["limits"] is not None:
            if offering is not None:
                limits = errors.check(self._clean_limits, offering, body["limits"])
                if limits is not None:
                    fields["limits"] = limits
        fields.setdefault("limits", {})
        order_type = body.get("type", "Create")
        from mockserver.orders.filters import type_choices

        if order_type not in type_choices() and "type" not in errors:
            errors["type"] = [f'"{order_type}" is not a valid choice.']
        fields["type"] = order_type
        # Order.callback_url = URLField(null=True, blank=True) (max 200), request_comment =
        # CharField(null=True, blank=True, max_length=255): null and "" are kept, numbers are
        # coerced to text (DRF CharField), other types refused.
        for name, max_length in (("callback_url", 200), ("request_comment", 255)):
            fields[name] = errors.check(
                char_field, body, name, allow_null=True, allow_blank=True, trim=False,
                max_length=max_length, url=name == "callback_url")
        try:
            fields["start_date"] = date_field(body.get("start_date"))
        except ValueError as exc:
            errors["start_date"] = [str(exc)]
        tos = body.get("accepting_terms_of_service", False)
        if not isinstance(tos, bool) and "accepting_terms_of_service" not in errors:
            errors["accepting_terms_of_service"] = ["Must be a valid boolean."]
        errors.raise_if_any()
        assert project is not None and offering is not None
        if plan is not None and plan.offering is not offering:
            # serializer validate(): ValidationError({"plan": ...}) (seen on a real server)
            raise ValidationError({"plan": ["This plan is not available for selected offering."]})
        # `attributes` is a JSON field validated in validate() by the offering type's own
        # serializer, whose errors surface as the body's non_field_errors (seen on a real server)
        attributes = body.get("attributes")
        if attributes is None:
            raise ValidationError({"non_field_errors": ["No data provided"]})
        if not isinstance(attributes, dict):
            raise ValidationError({"non_field_errors": [
                f"Invalid data. Expected a dictionary, but got {py_type(attributes)}."]})
        fields["attributes"] = dict(body["attributes"])
        if offering.terms_of_service and tos is not True:
            raise ValidationError({"non_field_errors": [
                f"Terms of service for offering '{offering.name}' have not been accepted."]})
        if not allowed(ACTION_RULES["create"], is_staff=user.is_staff, is_creator=False,
                       user_uuid=user.uuid, index=self.perms,
                       scope_of={"project": project.uuid,
                                 "customer": project.customer.uuid}.get):
            raise PermissionDenied()
        self._validate_customer(project)
        self._validate_project_end(project)
        if offering.state != "Active":
            raise ValidationError(["Offering is not available."])
        return project, offering, plan, fields

    def _project_visible(self, user: User, project: Project) -> bool:
        if user.is_staff or user.is_support:
            return True
        return any(self.perms.has(user.uuid, perm, kind, uuid)
                   for perm in ("ORDER.LIST", "ORDER.CREATE")
                   for kind, uuid in (("project", project.uuid),
                                      ("customer", project.customer.uuid)))

    def _clean_limits(self, offering: Offering, limits: Any) -> dict[str, int]:
        if not isinstance(limits, dict):
            raise field_error("limits", dict_error(limits))
        valid = {c.type for c in offering.components if c.billing_type == "limit"}
        unknown = [k for k in limits if k not in valid]
        if unknown:
            raise field_error("limits", f"Invalid types: {', '.join(sorted(unknown))}")
        out: dict[str, int] = {}
        for key, value in limits.items():
            if isinstance(value, bool) or not isinstance(value, int):
                raise field_error("limits", f"A valid integer is required for {key}.")
            if value < 0:
                raise field_error("limits", f"Ensure the value of {key} is greater than or "
                                             "equal to 0.")
            out[key] = value
        return out
