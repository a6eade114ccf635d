"""Reads of webhook endpoints and their delivery logs, always through their owner.

An owner is a vendor (its owners and managers manage its endpoints; other staff get 403,
anyone else 404) or the operators (the marketplace's own endpoints). Every lookup is
scoped to the owner, so another vendor's endpoint, delivery or the operator's is 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, QuerySet

from agora.core.errors import Forbidden, NotFound
from agora.core.pagination import DEFAULT_LIMIT, Page, paginate
from agora.notifications.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from agora.vendors.models import Vendor
from agora.vendors.selectors import MANAGER_ROLES, vendor_get_for_staff


@dataclass(frozen=True)
class WebhookOwner:
    """Whose endpoints: a vendor's, or (vendor None) the operators'."""

    vendor: Vendor | None

    @property
    def is_operator(self) -> bool:
        return self.vendor is None

    @property
    def vendor_id(self) -> int | None:
        return self.vendor.pk if self.vendor is not None else None

    def endpoints(self) -> QuerySet[WebhookEndpoint]:
        if self.vendor is None:
            return WebhookEndpoint.objects.filter(vendor__isnull=True)
        return WebhookEndpoint.objects.filter(vendor_id=self.vendor.pk)

    def page_path(self, endpoint_id: int | None = None) -> str:
        """The portal page of these endpoints (or of one of them)."""
        base = "/operator/webhooks/" if self.vendor is None else "/vendor/webhooks/"
        path = f"{base}{endpoint_id}/" if endpoint_id is not None else base
        return path if self.vendor is None else f"{path}?vendor={self.vendor.pk}"


def webhook_owner_for_vendor(*, user: Any, vendor_id: int) -> WebhookOwner:
    """The vendor's endpoints, for its owners and managers (staff 403, anyone else 404)."""
    return WebhookOwner(
        vendor=vendor_get_for_staff(user=user, vendor_id=vendor_id, roles=MANAGER_ROLES)
    )


def webhook_owner_for_operator(*, user: Any) -> WebhookOwner:
    if not getattr(user, "is_operator", False):
        raise Forbidden("Only operators may do this.")
    return WebhookOwner(vendor=None)


def webhook_endpoints(
    *, owner: WebhookOwner, cursor: str | None = None, limit: int = DEFAULT_LIMIT
) -> Page[WebhookEndpoint]:
    """The owner's endpoints, newest first."""
    return paginate(owner.endpoints(), ordering=("-id",), cursor=cursor, limit=limit)


def webhook_endpoint_get(*, owner: WebhookOwner, webhook_id: int) -> WebhookEndpoint:
    endpoint = owner.endpoints().filter(pk=webhook_id).first()
    if endpoint is None:
        raise NotFound("No such webhook endpoint.")
    return endpoint


def webhook_deliveries(
    *,
    owner: WebhookOwner,
    webhook_id: int,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Page[WebhookDelivery]:
    """One endpoint's deliveries, newest first, each with its event and every attempt
    (three queries for a page, whatever its length)."""
    endpoint = webhook_endpoint_get(owner=owner, webhook_id=webhook_id)
    deliveries = (
        WebhookDelivery.objects.filter(endpoint_id=endpoint.pk)
        .select_related("event")
        .prefetch_related(Prefetch("attempt_log", queryset=WebhookAttempt.objects.order_by("id")))
    )
    return paginate(deliveries, ordering=("-id",), cursor=cursor, limit=limit)


def webhook_delivery_get(
    *, owner: WebhookOwner, webhook_id: int, delivery_id: int
) -> WebhookDelivery:
    delivery = (
        WebhookDelivery.objects.filter(
            pk=delivery_id,
            endpoint_id=webhook_id,
            endpoint__in=owner.endpoints(),
        )
        .select_related("event", "endpoint")
        .first()
    )
    if delivery is None:
        raise NotFound("No such delivery.")
    return delivery
