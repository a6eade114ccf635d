"""A webhook endpoint for the demo vendor (vendor@agora.test's), with a delivery log to
look at on /vendor/webhooks/: one event delivered at the first try, one after a retry.

The endpoint is written directly rather than through `webhook_endpoint_create`, which
would resolve its host: `hooks.example.test` is a reserved name that resolves nowhere, so
new events sent to it fail and are retried, as a real unreachable receiver's would.
Its log is the demo's history, attached to the vendor's latest events. Idempotent: an
endpoint with this URL is made once.
"""

from __future__ import annotations

from datetime import timedelta

from agora.accounts.models import User
from agora.core import clock
from agora.core.audit import audit_log
from agora.notifications.models import Event
from agora.notifications.webhooks import signing
from agora.notifications.webhooks.models import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEndpoint,
)
from agora.vendors.models import VendorMembership

DEMO_URL = "https://hooks.example.test/agora"
EVENTS = ["booking.paid", "booking.cancelled", "order.paid", "review.published"]
ACCEPTED = '{"received": true}'


def _log(item: WebhookDelivery, answers: list[tuple[int, int, str]]) -> None:
    """Attempts `(status, duration ms, body)`, the retry schedule's 5 s apart."""
    at = item.event.created_at + timedelta(seconds=1)
    for number, (status, duration_ms, body) in enumerate(answers):
        WebhookAttempt.objects.create(
            delivery=item,
            at=at + timedelta(seconds=5 * number),
            status_code=status,
            duration_ms=duration_ms,
            error="" if 200 <= status < 300 else f"HTTP {status}",
            response_body=body,
        )
    last_status, _, last_body = answers[-1]
    item.attempts = len(answers)
    item.failures_in_round = len(answers) - 1
    item.status = WebhookDeliveryStatus.SUCCEEDED
    item.last_status_code = last_status
    item.last_response_body = last_body
    item.succeeded_at = at + timedelta(seconds=5 * (len(answers) - 1))
    item.next_attempt_at = item.succeeded_at
    item.save()


def load() -> str:
    owner = User.objects.filter(email="vendor@agora.test").first()
    membership = (
        VendorMembership.objects.filter(user=owner, role="owner").select_related("vendor").first()
        if owner is not None
        else None
    )
    if owner is None or membership is None:
        return "skipped (no demo vendor)"
    vendor = membership.vendor
    if WebhookEndpoint.objects.filter(vendor=vendor, url=DEMO_URL).exists():
        return "already there"
    endpoint = WebhookEndpoint.objects.create(
        vendor=vendor,
        url=DEMO_URL,
        events=EVENTS,
        secret=signing.secret_generate(),
        created_by=owner,
        created_at=clock.now(),
    )
    audit_log(
        actor=owner,
        action="webhook.created",
        target=endpoint,
        data={"url": DEMO_URL, "events": EVENTS, "vendor_id": vendor.pk},
    )
    latest = list(Event.objects.filter(vendor=vendor, name__in=EVENTS).order_by("-id")[:2])
    answers = [
        [(200, 184, ACCEPTED)],
        [(503, 10004, "upstream connect error"), (200, 221, ACCEPTED)],
    ]
    for event, replies in zip(reversed(latest), answers, strict=False):
        item = WebhookDelivery.objects.create(
            endpoint=endpoint,
            event=event,
            webhook_id=f"msg_{event.pk}",
            created_at=event.created_at,
        )
        item.event = event
        _log(item, replies)
    return f"1 endpoint for {vendor.name} with {len(latest)} deliveries in its log"
