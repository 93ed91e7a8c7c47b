"""Rules of the site agent's area, without HTTP, one module per topic gathered here: common.py
(who may see and write what, the bodies' field errors), registration.py (identities, services,
processors), resources.py (provider-resource actions, teams, offering users), usages.py.
Every function takes the session's backend (OrdersBackend: world, lock, clock) and the acting
User first and raises mockserver.orders.exceptions.ApiError subclasses.

Identifiers of new records are uuid5 of what makes them unique (e.g. the identity of an
offering's agent by name), so a replayed registration or usage report updates the same record
(the real server's get-or-create / upsert) and the same requests give the same uuids.
"""

from mockserver.agent.common import manages, new_uuid, sees
from mockserver.agent.registration import (
    create_identity,
    get_identity,
    get_processor,
    get_service,
    identity_services,
    list_identities,
    register_processor,
    register_service,
    service_identity,
    service_processors,
    update_identity,
)
from mockserver.agent.resources import (
    get_offering_user,
    list_offering_users,
    project_team,
    provider_offering,
    provider_resource,
    refresh_last_sync,
    seed_offering_users,
    set_as_erred,
    set_as_ok,
    set_backend_id,
    set_backend_metadata,
    set_limits,
    set_membership_sync_statuses,
    team,
)
from mockserver.agent.usages import (
    billing_period,
    get_usage,
    list_usages,
    list_user_usages,
    set_usage,
    set_user_usages,
)

__all__ = [
    "billing_period", "create_identity", "get_identity", "get_offering_user", "get_processor",
    "get_service", "get_usage", "identity_services", "list_identities", "list_offering_users",
    "list_usages", "list_user_usages", "manages", "new_uuid", "project_team", "provider_offering",
    "provider_resource", "refresh_last_sync", "register_processor", "register_service", "sees",
    "seed_offering_users", "service_identity", "service_processors", "set_as_erred",
    "set_as_ok", "set_backend_id", "set_backend_metadata", "set_limits",
    "set_membership_sync_statuses", "set_usage", "set_user_usages", "team", "update_identity",
]
