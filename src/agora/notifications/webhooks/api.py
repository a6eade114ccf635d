"""Webhook endpoints under /api/v1: a vendor's (its owners and managers) at
/vendors/{vendor_id}/webhooks, the marketplace's own (operators) at /operator/webhooks.

Both routers share the handlers below; only how the owner is found differs. A response
that carries a secret is `Cache-Control: no-store`, which also keeps it out of the
Idempotency-Key store (agora.core.idempotency).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import Router, Status

from agora.accounts.auth import acting_user, bearer, operator
from agora.core.pagination import PageOut
from agora.notifications.webhooks import selectors, services
from agora.notifications.webhooks.schemas import (
    DeliveryOut,
    SecretOut,
    WebhookCreatedOut,
    WebhookIn,
    WebhookOut,
    WebhookPatchIn,
)
from agora.notifications.webhooks.selectors import WebhookOwner

router = Router(tags=["webhooks"])
operator_router = Router(tags=["operator: webhooks"])

VENDOR = "/vendors/{vendor_id}/webhooks"
OPERATOR = "/operator/webhooks"


def _vendor(request: HttpRequest, vendor_id: int) -> WebhookOwner:
    return selectors.webhook_owner_for_vendor(user=acting_user(request), vendor_id=vendor_id)


def _operator(request: HttpRequest) -> WebhookOwner:
    return selectors.webhook_owner_for_operator(user=acting_user(request))


def _secret_bearing(response: HttpResponse) -> None:
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"


# --- the shared handlers -------------------------------------------------------------------


def _create(
    request: HttpRequest, response: HttpResponse, owner: WebhookOwner, payload: WebhookIn
) -> Status[WebhookCreatedOut]:
    checked = services.webhook_endpoint_check(url=payload.url, events=payload.events)
    endpoint = services.webhook_endpoint_create(
        actor=acting_user(request), owner=owner, checked=checked
    )
    _secret_bearing(response)
    return Status(201, WebhookCreatedOut.of(endpoint))


def _list(owner: WebhookOwner, cursor: str | None, limit: int) -> PageOut[WebhookOut]:
    page = selectors.webhook_endpoints(owner=owner, cursor=cursor, limit=limit)
    return PageOut[WebhookOut](
        items=[WebhookOut.of(endpoint) for endpoint in page.items], next_cursor=page.next_cursor
    )


def _patch(
    request: HttpRequest, owner: WebhookOwner, webhook_id: int, payload: WebhookPatchIn
) -> WebhookOut:
    endpoint = services.webhook_endpoint_update(
        actor=acting_user(request),
        owner=owner,
        webhook_id=webhook_id,
        url=payload.url,
        events=payload.events,
        enabled=payload.enabled,
    )
    return WebhookOut.of(endpoint)


def _delete(request: HttpRequest, owner: WebhookOwner, webhook_id: int) -> HttpResponse:
    services.webhook_endpoint_delete(actor=acting_user(request), owner=owner, webhook_id=webhook_id)
    return HttpResponse(status=204)


def _rotate(
    request: HttpRequest, response: HttpResponse, owner: WebhookOwner, webhook_id: int
) -> SecretOut:
    endpoint = services.webhook_secret_rotate(
        actor=acting_user(request), owner=owner, webhook_id=webhook_id
    )
    _secret_bearing(response)
    return SecretOut.of(endpoint)


def _deliveries(
    owner: WebhookOwner, webhook_id: int, cursor: str | None, limit: int
) -> PageOut[DeliveryOut]:
    page = selectors.webhook_deliveries(
        owner=owner, webhook_id=webhook_id, cursor=cursor, limit=limit
    )
    return PageOut[DeliveryOut](
        items=[DeliveryOut.of(delivery) for delivery in page.items], next_cursor=page.next_cursor
    )


def _replay(
    request: HttpRequest, owner: WebhookOwner, webhook_id: int, delivery_id: int
) -> Status[DeliveryOut]:
    delivery = services.webhook_delivery_replay(
        actor=acting_user(request), owner=owner, webhook_id=webhook_id, delivery_id=delivery_id
    )
    return Status(202, DeliveryOut.of(delivery))


# --- a vendor's endpoints ------------------------------------------------------------------


@router.post(
    VENDOR,
    response={201: WebhookCreatedOut},
    auth=bearer,
    summary="Add a webhook endpoint (owner or manager); the secret is shown once",
)
def vendor_webhook_create(
    request: HttpRequest, response: HttpResponse, vendor_id: int, payload: WebhookIn
) -> Status[WebhookCreatedOut]:
    return _create(request, response, _vendor(request, vendor_id), payload)


@router.get(VENDOR, response=PageOut[WebhookOut], auth=bearer, summary="The vendor's webhooks")
def vendor_webhook_list(
    request: HttpRequest, vendor_id: int, cursor: str | None = None, limit: int = 20
) -> PageOut[WebhookOut]:
    return _list(_vendor(request, vendor_id), cursor, limit)


@router.get(VENDOR + "/{webhook_id}", response=WebhookOut, auth=bearer, summary="A webhook")
def vendor_webhook_detail(request: HttpRequest, vendor_id: int, webhook_id: int) -> WebhookOut:
    owner = _vendor(request, vendor_id)
    return WebhookOut.of(selectors.webhook_endpoint_get(owner=owner, webhook_id=webhook_id))


@router.patch(
    VENDOR + "/{webhook_id}",
    response=WebhookOut,
    auth=bearer,
    summary="Change a webhook's URL or events, or enable / disable it",
)
def vendor_webhook_patch(
    request: HttpRequest, vendor_id: int, webhook_id: int, payload: WebhookPatchIn
) -> WebhookOut:
    return _patch(request, _vendor(request, vendor_id), webhook_id, payload)


@router.delete(
    VENDOR + "/{webhook_id}", response={204: None}, auth=bearer, summary="Remove a webhook"
)
def vendor_webhook_delete(request: HttpRequest, vendor_id: int, webhook_id: int) -> HttpResponse:
    return _delete(request, _vendor(request, vendor_id), webhook_id)


@router.post(
    VENDOR + "/{webhook_id}/rotate-secret",
    response=SecretOut,
    auth=bearer,
    summary="New signing secret (shown once); the old one signs too for 24 hours",
)
def vendor_webhook_rotate(
    request: HttpRequest, response: HttpResponse, vendor_id: int, webhook_id: int
) -> SecretOut:
    return _rotate(request, response, _vendor(request, vendor_id), webhook_id)


@router.get(
    VENDOR + "/{webhook_id}/deliveries",
    response=PageOut[DeliveryOut],
    auth=bearer,
    summary="A webhook's deliveries with every attempt, newest first",
)
def vendor_webhook_deliveries(
    request: HttpRequest,
    vendor_id: int,
    webhook_id: int,
    cursor: str | None = None,
    limit: int = 20,
) -> PageOut[DeliveryOut]:
    return _deliveries(_vendor(request, vendor_id), webhook_id, cursor, limit)


@router.post(
    VENDOR + "/{webhook_id}/deliveries/{delivery_id}/replay",
    response={202: DeliveryOut},
    auth=bearer,
    summary="Send a delivery again now, with the same webhook-id",
)
def vendor_webhook_replay(
    request: HttpRequest, vendor_id: int, webhook_id: int, delivery_id: int
) -> Status[DeliveryOut]:
    return _replay(request, _vendor(request, vendor_id), webhook_id, delivery_id)


# --- the operators' endpoints --------------------------------------------------------------


@operator_router.post(
    OPERATOR,
    response={201: WebhookCreatedOut},
    auth=operator,
    summary="Add a marketplace webhook endpoint (any event); the secret is shown once",
)
def operator_webhook_create(
    request: HttpRequest, response: HttpResponse, payload: WebhookIn
) -> Status[WebhookCreatedOut]:
    return _create(request, response, _operator(request), payload)


@operator_router.get(
    OPERATOR, response=PageOut[WebhookOut], auth=operator, summary="The marketplace's webhooks"
)
def operator_webhook_list(
    request: HttpRequest, cursor: str | None = None, limit: int = 20
) -> PageOut[WebhookOut]:
    return _list(_operator(request), cursor, limit)


@operator_router.get(
    OPERATOR + "/{webhook_id}", response=WebhookOut, auth=operator, summary="A webhook"
)
def operator_webhook_detail(request: HttpRequest, webhook_id: int) -> WebhookOut:
    owner = _operator(request)
    return WebhookOut.of(selectors.webhook_endpoint_get(owner=owner, webhook_id=webhook_id))


@operator_router.patch(
    OPERATOR + "/{webhook_id}",
    response=WebhookOut,
    auth=operator,
    summary="Change a webhook's URL or events, or enable / disable it",
)
def operator_webhook_patch(
    request: HttpRequest, webhook_id: int, payload: WebhookPatchIn
) -> WebhookOut:
    return _patch(request, _operator(request), webhook_id, payload)


@operator_router.delete(
    OPERATOR + "/{webhook_id}", response={204: None}, auth=operator, summary="Remove a webhook"
)
def operator_webhook_delete(request: HttpRequest, webhook_id: int) -> HttpResponse:
    return _delete(request, _operator(request), webhook_id)


@operator_router.post(
    OPERATOR + "/{webhook_id}/rotate-secret",
    response=SecretOut,
    auth=operator,
    summary="New signing secret (shown once); the old one signs too for 24 hours",
)
def operator_webhook_rotate(
    request: HttpRequest, response: HttpResponse, webhook_id: int
) -> SecretOut:
    return _rotate(request, response, _operator(request), webhook_id)


@operator_router.get(
    OPERATOR + "/{webhook_id}/deliveries",
    response=PageOut[DeliveryOut],
    auth=operator,
    summary="A webhook's deliveries with every attempt, newest first",
)
def operator_webhook_deliveries(
    request: HttpRequest, webhook_id: int, cursor: str | None = None, limit: int = 20
) -> PageOut[DeliveryOut]:
    return _deliveries(_operator(request), webhook_id, cursor, limit)


@operator_router.post(
    OPERATOR + "/{webhook_id}/deliveries/{delivery_id}/replay",
    response={202: DeliveryOut},
    auth=operator,
    summary="Send a delivery again now, with the same webhook-id",
)
def operator_webhook_replay(
    request: HttpRequest, webhook_id: int, delivery_id: int
) -> Status[DeliveryOut]:
    return _replay(request, _operator(request), webhook_id, delivery_id)
