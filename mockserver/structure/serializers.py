"""Users, organizations and projects as wire dicts: the values only; `rendering.render` puts
them in the contract's property order (openapi/structure.yaml) and applies `?field=`."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from mockserver.orders.entities import Customer, Project, User
from mockserver.rendering import Links, render
from mockserver.structure import models
from mockserver.world.clock import format_date, format_instant


def _date(value: Any) -> str | None:
    return format_date(value) if value is not None else None


def _instant(value: Any) -> str | None:
    return format_instant(value) if value is not None else None


def date_joined(backend: Any, user: User) -> str:
    """Users carry no join date in the world: a fixed one derived from the uuid (within the
    year before the anchor), so that it is the same in every run and every session."""
    days = 30 + int(user.uuid[:4], 16) % 330
    return format_instant(backend.world.anchor - timedelta(days=days))


def user(backend: Any, viewer: User, obj: User, links: Links, *,
         me: bool = False) -> dict[str, Any]:
    """A user record; `token` and `permissions` only in the caller's own (users/me)."""
    first, _, last = obj.full_name.partition(" ")
    joined = date_joined(backend, obj)
    values: dict[str, Any] = {
        "url": links.url("users_retrieve", uuid=obj.uuid),
        "uuid": obj.uuid,
        "username": obj.username,
        "slug": obj.username,
        "full_name": obj.full_name,
        "native_name": "",
        "job_title": "",
        "email": obj.email,
        "phone_number": "",
        "organization": "",
        "civil_number": obj.civil_number,
        "description": "",
        "is_staff": obj.is_staff,
        "is_active": obj.is_active,
        "is_support": obj.is_support,
        "registration_method": "default",
        "date_joined": joined,
        "agreement_date": joined,
        "notifications_enabled": True,
        "preferred_language": "",
        "first_name": first,
        "last_name": last,
        "image": None,
        "has_usable_password": True,
    }
    if me or viewer is obj:
        values["token"] = obj.token
        values["token_lifetime"] = None
        values["token_expires_at"] = None
    if me:
        values["permissions"] = list(models.permissions(backend, obj))
    return render("User", values)


def customer(backend: Any, obj: Customer, links: Links) -> dict[str, Any]:
    return render("Customer", {
        "url": links.url("customers_retrieve", uuid=obj.uuid),
        "uuid": obj.uuid,
        "created": _instant(obj.created),
        "display_name": obj.name,
        "backend_id": "",
        "image": None,
        "blocked": obj.blocked,
        "archived": obj.archived,
        "projects_count": models.projects_count(backend, obj),
        "users_count": models.users_count(backend, obj),
        "name": obj.name,
        "slug": obj.slug,
        "native_name": "",
        "abbreviation": obj.abbreviation,
        "description": obj.description,
        "contact_details": "",
        "agreement_number": "",
        "email": "",
        "phone_number": "",
        "registration_code": "",
        "homepage": "",
        "domain": "",
        "vat_code": "",
        "address": "",
        "payment_profiles": [],
        "customer_credit": None,
        "customer_unallocated_credit": None,
        "is_service_provider": obj.is_service_provider,
    })


def project(backend: Any, obj: Project, links: Links) -> dict[str, Any]:
    c = obj.customer
    return render("Project", {
        "url": links.url("projects_retrieve", uuid=obj.uuid),
        "uuid": obj.uuid,
        "name": obj.name,
        "slug": obj.slug,
        "customer": links.url("customers_retrieve", uuid=c.uuid),
        "customer_uuid": c.uuid,
        "customer_name": c.name,
        "customer_slug": c.slug,
        "customer_native_name": "",
        "customer_abbreviation": c.abbreviation,
        "description": obj.description,
        "customer_display_billing_info_in_projects": False,
        "created": _instant(obj.created),
        "type": None,
        "type_name": None,
        "type_uuid": None,
        "backend_id": "",
        "start_date": _date(obj.start_date),
        "end_date": _date(obj.end_date),
        "end_date_requested_by": None,
        "is_industry": False,
        "image": None,
        "resources_count": models.resources_count(backend, obj),
        "kind": "default",
        "is_removed": False,
        "grace_period_days": None,
        "effective_end_date": _date(obj.end_date),
        "is_in_grace_period": False,
    })


def role(backend: Any, obj: models.Role, links: Links) -> dict[str, Any]:
    return render("RoleDetails", {
        "uuid": obj.uuid,
        "name": obj.name,
        "description": obj.description,
        "permissions": list(obj.permissions),
        "is_system_role": True,
        "is_active": True,
        "users_count": models.role_users_count(backend, obj),
        "content_type": obj.content_type,
    })
