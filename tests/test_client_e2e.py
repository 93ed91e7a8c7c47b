"""The published client `waldur-api-client` (8.1.3) against a real uvicorn server, as the API
documentation page uses it: every operation of the page, full lifecycles, counting, sync_all."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any
from uuid import UUID

import httpx
import pytest
from waldur_api_client.api.marketplace_orders import (
    marketplace_orders_approve_by_consumer,
    marketplace_orders_approve_by_provider,
    marketplace_orders_cancel,
    marketplace_orders_count,
    marketplace_orders_create,
    marketplace_orders_dashboard_my_orders_list,
    marketplace_orders_delete_attachment,
    marketplace_orders_destroy,
    marketplace_orders_list,
    marketplace_orders_offering_retrieve,
    marketplace_orders_reject_by_consumer,
    marketplace_orders_reject_by_provider,
    marketplace_orders_resource_retrieve,
    marketplace_orders_retrieve,
    marketplace_orders_retry,
    marketplace_orders_set_backend_id,
    marketplace_orders_set_state_done,
    marketplace_orders_set_state_erred,
    marketplace_orders_set_state_executing,
    marketplace_orders_unlink,
    marketplace_orders_update_attachment,
)
from waldur_api_client.client import AuthenticatedClient
from waldur_api_client.errors import UnexpectedStatus
from waldur_api_client.models.order_approve_by_provider_request import (
    OrderApproveByProviderRequest,
)
from waldur_api_client.models.order_attachment_request import OrderAttachmentRequest
from waldur_api_client.models.order_attachment_request_multipart import (
    OrderAttachmentRequestMultipart,
)
from waldur_api_client.models.order_backend_id_request import OrderBackendIDRequest
from waldur_api_client.models.order_create_request import OrderCreateRequest
from waldur_api_client.models.order_error_details_request import OrderErrorDetailsRequest
from waldur_api_client.models.order_provider_rejection_request import (
    OrderProviderRejectionRequest,
)
from waldur_api_client.models.order_state import OrderState
from waldur_api_client.types import File


class Env:
    def __init__(self, live: Any) -> None:
        self.live = live
        self.backend = live.app.registry.get(None)
        self.keys = self.backend.world.keys

    def client(self, user: str) -> AuthenticatedClient:
        return AuthenticatedClient(base_url=self.live.url, token=self.live.token(user))

    def order(self, key: str) -> UUID:
        return UUID(self.keys["orders"][key])

    def create_body(self, offering: str = "slurm", name: str = "e2e") -> OrderCreateRequest:
        off_uuid = self.keys["offerings"][offering]
        plan = self.backend.offerings[off_uuid].plans[0].uuid
        off = f"{self.live.url}/api/marketplace-public-offerings/{off_uuid}/"
        return OrderCreateRequest.from_dict({
            "offering": off,
            "project": f"{self.live.url}/api/projects/{self.keys['projects']['consumer-main']}/",
            "plan": f"{off}plans/{plan}/",
            "attributes": {"name": name},
        })


@pytest.fixture
def env(live: Any) -> Env:
    return Env(live)


def test_list_retrieve_count(env: Env) -> None:
    staff = env.client("staff")
    page = marketplace_orders_list.sync(client=staff)
    assert len(page) == 10
    assert all(isinstance(o.state, OrderState) for o in page)
    total = marketplace_orders_count.sync(client=staff)
    assert total == len(env.backend.orders)
    everything = marketplace_orders_list.sync_all(client=staff)
    assert len(everything) == total
    assert len({o.uuid for o in everything}) == total
    pending = marketplace_orders_list.sync_all(
        client=staff, state=[OrderState.PENDING_PROVIDER, OrderState.EXECUTING])
    assert pending and {o.state for o in pending} == {OrderState.PENDING_PROVIDER,
                                                      OrderState.EXECUTING}
    assert marketplace_orders_count.sync(
        client=staff, state=[OrderState.PENDING_PROVIDER, OrderState.EXECUTING]) == len(pending)
    one = marketplace_orders_retrieve.sync(uuid=env.order("ord-done-slurm"), client=staff)
    assert one.uuid == env.order("ord-done-slurm")
    assert one.state == OrderState.DONE
    assert one.offering_type == "Marketplace.Slurm"
    assert marketplace_orders_list.sync(client=env.client("plain_user")) == []


def test_full_lifecycle(env: Env) -> None:
    creator, owner, provider = (env.client(u) for u in ("proj_manager", "cons_owner",
                                                        "prov_owner"))
    order = marketplace_orders_create.sync(client=creator, body=env.create_body())
    assert order.state == OrderState.PENDING_CONSUMER
    uuid = order.uuid
    assert isinstance(uuid, UUID)
    info = marketplace_orders_approve_by_consumer.sync(uuid=uuid, client=owner)
    assert info.detail
    got = marketplace_orders_retrieve.sync(uuid=uuid, client=owner)
    assert got.state == OrderState.PENDING_PROVIDER
    assert got.consumer_reviewed_by == "cons_owner"
    info = marketplace_orders_approve_by_provider.sync(
        uuid=uuid, client=provider, body=OrderApproveByProviderRequest())
    assert info.detail
    assert marketplace_orders_retrieve.sync(uuid=uuid, client=owner).state == \
        OrderState.EXECUTING
    status = marketplace_orders_set_backend_id.sync(
        uuid=uuid, client=provider, body=OrderBackendIDRequest(backend_id="slurm-77"))
    assert status.status == "Order backend_id has been changed."
    r = marketplace_orders_set_state_done.sync_detailed(uuid=uuid, client=provider)
    assert r.status_code == HTTPStatus.OK and r.parsed is None
    done = marketplace_orders_retrieve.sync(uuid=uuid, client=provider)
    assert done.state == OrderState.DONE
    assert done.backend_id == "slurm-77"
    assert done.completed_at is not None
    resource = marketplace_orders_resource_retrieve.sync(uuid=uuid, client=provider)
    assert str(resource.state) in ("OK", "ResourceState.OK")
    offering = marketplace_orders_offering_retrieve.sync(uuid=uuid, client=provider)
    assert offering.uuid == UUID(env.keys["offerings"]["slurm"])


def test_rejected_paths(env: Env) -> None:
    owner, provider = env.client("cons_owner"), env.client("prov_owner")
    order = marketplace_orders_create.sync(client=env.client("proj_admin"),
                                           body=env.create_body(name="rej"))
    r = marketplace_orders_reject_by_consumer.sync_detailed(
        uuid=order.uuid, client=owner, body=OrderErrorDetailsRequest())
    assert r.status_code == HTTPStatus.OK
    assert marketplace_orders_retrieve.sync(uuid=order.uuid, client=owner).state == \
        OrderState.REJECTED
    r = marketplace_orders_reject_by_provider.sync_detailed(
        uuid=env.order("ord-pp-slurm"), client=provider,
        body=OrderProviderRejectionRequest(provider_rejection_comment="full"))
    assert r.status_code == HTTPStatus.OK
    # the client treats 409 as a non-error for approve_by_provider and returns None
    again = marketplace_orders_approve_by_provider.sync(
        uuid=env.order("ord-pp-slurm"), client=provider, body=OrderApproveByProviderRequest())
    assert again is None


def test_erred_path_and_retry(env: Env) -> None:
    provider = env.client("prov_owner")
    uuid = env.order("ord-exec-slurm")
    r = marketplace_orders_set_state_erred.sync_detailed(
        uuid=uuid, client=provider,
        body=OrderErrorDetailsRequest(error_message="disk full", error_traceback="tb"))
    assert r.status_code == HTTPStatus.OK
    erred = marketplace_orders_retrieve.sync(uuid=uuid, client=provider)
    assert erred.state == OrderState.ERRED and erred.error_message == "disk full"
    staff_view = marketplace_orders_retrieve.sync(uuid=uuid, client=env.client("staff"))
    assert staff_view.error_traceback == "tb"
    r = marketplace_orders_retry.sync_detailed(uuid=uuid, client=provider)
    assert r.status_code == HTTPStatus.OK
    assert marketplace_orders_retrieve.sync(uuid=uuid, client=provider).state == \
        OrderState.EXECUTING
    erred = env.order("ord-erred-slurm")
    r = marketplace_orders_set_state_executing.sync_detailed(uuid=erred, client=provider)
    assert r.status_code == HTTPStatus.OK
    assert marketplace_orders_retrieve.sync(uuid=erred, client=provider).state == \
        OrderState.EXECUTING


def test_cancel_destroy_unlink(env: Env) -> None:
    admin = env.client("proj_admin")
    r = marketplace_orders_cancel.sync_detailed(uuid=env.order("ord-pc-basic"), client=admin)
    assert r.status_code == HTTPStatus.ACCEPTED
    r = marketplace_orders_destroy.sync_detailed(uuid=env.order("ord-pc-slurm"), client=admin)
    assert r.status_code == HTTPStatus.NO_CONTENT
    with pytest.raises(UnexpectedStatus) as err:
        marketplace_orders_retrieve.sync(uuid=env.order("ord-pc-slurm"), client=admin)
    assert err.value.status_code == 404
    r = marketplace_orders_unlink.sync_detailed(uuid=env.order("ord-done-basic"), client=admin)
    assert r.status_code == HTTPStatus.FORBIDDEN
    r = marketplace_orders_unlink.sync_detailed(uuid=env.order("ord-done-basic"),
                                                client=env.client("staff"))
    assert r.status_code == HTTPStatus.NO_CONTENT


def test_attachments(env: Env) -> None:
    admin = env.client("proj_admin")
    uuid = env.order("ord-pc-basic")
    body = OrderAttachmentRequestMultipart(
        attachment=File(payload=b"%PDF-1.4 po", file_name="po.pdf", mime_type="application/pdf"))
    att = marketplace_orders_update_attachment.sync(uuid=uuid, client=admin, body=body)
    assert att.attachment and att.attachment.endswith("/po.pdf")
    got = httpx.get(att.attachment)
    assert got.content == b"%PDF-1.4 po"
    # the documentation page's example: an empty JSON request keeps the file
    same = marketplace_orders_update_attachment.sync(uuid=uuid, client=admin,
                                                     body=OrderAttachmentRequest())
    assert same.attachment == att.attachment
    r = marketplace_orders_delete_attachment.sync_detailed(uuid=uuid, client=admin)
    assert r.status_code == HTTPStatus.NO_CONTENT
    assert marketplace_orders_retrieve.sync(uuid=uuid, client=admin).attachment is None


def test_dashboard(env: Env) -> None:
    mine = marketplace_orders_dashboard_my_orders_list.sync(client=env.client("proj_manager"))
    assert mine and all(isinstance(o.uuid, UUID) for o in mine)
