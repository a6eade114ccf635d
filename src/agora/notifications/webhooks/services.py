"""Webhook endpoints' lifecycle and the fan-out of events into deliveries.

Owners (a vendor's owners and managers, or the operators) create, change, rotate,
disable, enable and delete endpoints and replay deliveries; each change is audited. The
outbox's dispatcher calls `webhook_deliveries_create` with every batch of events, in its
own transaction; `delivery.send_due` sends what is due and, through
`webhook_endpoint_disable_if_failing`, switches off endpoints that fail for days.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q

from agora.accounts.models import User
from agora.core import clock
from agora.core.audit import audit_log
from agora.core.errors import InvalidInput, NotFound
from agora.notifications import outbox
from agora.notifications.models import Event
from agora.notifications.webhooks import signing, ssrf
from agora.notifications.webhooks.errors import webhook_disabled, webhook_limit_reached
from agora.notifications.webhooks.events import (
    ALL_EVENTS,
    delivered,
    subscribable_names,
    subscribes_to,
)
from agora.notifications.webhooks.models import (
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEndpoint,
)
from agora.notifications.webhooks.selectors import WebhookOwner, webhook_delivery_get

MAX_ENDPOINTS = 20
MAX_EVENT_NAMES = 100
# After a rotation the old secret keeps signing beside the new one for this long.
SECRET_OVERLAP = timedelta(hours=24)
# An endpoint is switched off when a delivery has failed for good (its whole retry
# schedule, about four days) and nothing sent to the endpoint has succeeded for this long.
DISABLE_AFTER = timedelta(days=5)


def _allow_private() -> bool:
    return bool(settings.AGORA_WEBHOOK_ALLOW_PRIVATE)


def _clean_events(events: list[str]) -> list[str]:
    """The subscription as stored: known names once each, or just `*`."""
    if not events:
        raise InvalidInput(
            'Subscribe to at least one event, or to "*" for every event.',
            errors=[{"loc": ["body", "events"], "msg": "empty", "type": "too_short"}],
        )
    if len(events) > MAX_EVENT_NAMES:
        raise InvalidInput(f"At most {MAX_EVENT_NAMES} event names.")
    known = set(subscribable_names())
    unknown = [(index, name) for index, name in enumerate(events) if name not in known]
    if unknown:
        names = ", ".join(repr(name) for _, name in unknown)
        raise InvalidInput(
            f'Unknown event names: {names}. Use names such as booking.paid, or "*".',
            errors=[
                {"loc": ["body", "events", index], "msg": f"unknown event {name!r}", "type": "enum"}
                for index, name in unknown
            ],
        )
    if ALL_EVENTS in events:
        return [ALL_EVENTS]
    return list(dict.fromkeys(events))


def _locked(owner: WebhookOwner, webhook_id: int) -> WebhookEndpoint:
    """The owner's endpoint, locked for this transaction (NotFound if not theirs)."""
    endpoint = owner.endpoints().select_for_update().filter(pk=webhook_id).first()
    if endpoint is None:
        raise NotFound("No such webhook endpoint.")
    return endpoint


@dataclass(frozen=True)
class CheckedEndpoint:
    """A URL and subscription that passed `webhook_endpoint_check`."""

    url: str
    events: list[str]


def webhook_endpoint_check(*, url: str, events: list[str]) -> CheckedEndpoint:
    """Validate the subscription and the URL, resolving its host (see `ssrf`).

    Call it outside any transaction: a DNS answer can take seconds, and SQLite's writer
    lock (or a PostgreSQL row lock) should not wait for it."""
    subscribed = _clean_events(events)
    return CheckedEndpoint(
        url=ssrf.url_check(url, allow_private=_allow_private()), events=subscribed
    )


def webhook_endpoint_create(
    *, actor: User, owner: WebhookOwner, checked: CheckedEndpoint
) -> WebhookEndpoint:
    """A new endpoint with a fresh secret (readable once, from the result). The URL is
    checked again before every attempt, since DNS answers change."""
    with transaction.atomic():
        if owner.endpoints().count() >= MAX_ENDPOINTS:
            raise webhook_limit_reached(MAX_ENDPOINTS)
        endpoint = WebhookEndpoint.objects.create(
            vendor=owner.vendor,
            url=checked.url,
            events=checked.events,
            secret=signing.secret_generate(),
            created_by=actor,
            created_at=clock.now(),
        )
        audit_log(
            actor=actor,
            action="webhook.created",
            target=endpoint,
            data={"url": checked.url, "events": checked.events, "vendor_id": owner.vendor_id},
        )
    return endpoint


def webhook_endpoint_update(
    *,
    actor: User,
    owner: WebhookOwner,
    webhook_id: int,
    url: str | None = None,
    events: list[str] | None = None,
    enabled: bool | None = None,
) -> WebhookEndpoint:
    """Change the URL or the subscription, or switch the endpoint off or on again.

    Enabling starts afresh: the failure count and the failing streak are cleared, and the
    deliveries that were waiting are sent at once (they kept their place while it was off).
    """
    # Checked before the transaction, like `webhook_endpoint_check`.
    subscribed = _clean_events(events) if events is not None else None
    checked_url = ssrf.url_check(url, allow_private=_allow_private()) if url is not None else None
    with transaction.atomic():
        endpoint = _locked(owner, webhook_id)
        changes: dict[str, Any] = {}
        if checked_url is not None and checked_url != endpoint.url:
            changes["url"] = checked_url
            endpoint.url = checked_url
        if subscribed is not None and subscribed != endpoint.events:
            changes["events"] = subscribed
            endpoint.events = subscribed
        if changes:
            audit_log(actor=actor, action="webhook.updated", target=endpoint, data=changes)
        if enabled is True and not endpoint.enabled:
            _enable(actor=actor, endpoint=endpoint)
        elif enabled is False and endpoint.enabled:
            who = actor.name or actor.email
            _disable(actor=actor, endpoint=endpoint, reason=f"Disabled by {who}.")
        endpoint.save()
    return endpoint


def _enable(*, actor: User, endpoint: WebhookEndpoint) -> None:
    audit_log(
        actor=actor,
        action="webhook.enabled",
        target=endpoint,
        data={"was_disabled_because": endpoint.disabled_reason},
    )
    endpoint.enabled = True
    endpoint.disabled_reason = ""
    endpoint.disabled_at = None
    endpoint.consecutive_failures = 0
    endpoint.failing_since = None
    WebhookDelivery.objects.filter(
        endpoint_id=endpoint.pk, status=WebhookDeliveryStatus.PENDING
    ).update(next_attempt_at=clock.now(), leased_until=None)


def _disable(*, actor: User | None, endpoint: WebhookEndpoint, reason: str) -> None:
    endpoint.enabled = False
    endpoint.disabled_reason = reason[:500]
    endpoint.disabled_at = clock.now()
    audit_log(actor=actor, action="webhook.disabled", target=endpoint, data={"reason": reason})


def webhook_endpoint_delete(*, actor: User, owner: WebhookOwner, webhook_id: int) -> None:
    """Remove the endpoint with its delivery log; nothing more is sent to it."""
    with transaction.atomic():
        endpoint = _locked(owner, webhook_id)
        audit_log(
            actor=actor,
            action="webhook.deleted",
            target=endpoint,
            data={"url": endpoint.url, "events": endpoint.events, "vendor_id": owner.vendor_id},
        )
        endpoint.delete()


def webhook_secret_rotate(*, actor: User, owner: WebhookOwner, webhook_id: int) -> WebhookEndpoint:
    """A new secret (readable once, from the result); the one it replaces keeps signing
    beside it for `SECRET_OVERLAP`, so the receiver can switch without losing an event.
    Rotating again within the overlap retires the oldest secret at once."""
    with transaction.atomic():
        endpoint = _locked(owner, webhook_id)
        now = clock.now()
        endpoint.previous_secret = endpoint.secret
        endpoint.previous_secret_expires_at = now + SECRET_OVERLAP
        endpoint.secret = signing.secret_generate()
        endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at"])
        audit_log(
            actor=actor,
            action="webhook.secret_rotated",
            target=endpoint,
            data={"previous_secret_expires_at": endpoint.previous_secret_expires_at.isoformat()},
        )
    return endpoint


def webhook_delivery_replay(
    *, actor: User, owner: WebhookOwner, webhook_id: int, delivery_id: int
) -> WebhookDelivery:
    """Queue the delivery's event for its endpoint again, now, under the same webhook-id
    (a receiver that already has it can recognise it), with a fresh retry schedule."""
    with transaction.atomic():
        endpoint = _locked(owner, webhook_id)
        delivery = webhook_delivery_get(
            owner=owner, webhook_id=endpoint.pk, delivery_id=delivery_id
        )
        if not endpoint.enabled:
            raise webhook_disabled()
        delivery.status = WebhookDeliveryStatus.PENDING
        delivery.next_attempt_at = clock.now()
        delivery.failures_in_round = 0
        delivery.leased_until = None
        delivery.save(
            update_fields=["status", "next_attempt_at", "failures_in_round", "leased_until"]
        )
        audit_log(
            actor=actor,
            action="webhook.delivery_replayed",
            target=endpoint,
            data={"delivery_id": delivery.pk, "webhook_id": delivery.webhook_id},
        )
    return delivery


def webhook_endpoint_disable_if_failing(*, endpoint_id: int, last_error: str) -> bool:
    """Switch the endpoint off when nothing sent to it has succeeded for `DISABLE_AFTER`,
    and tell its owners (`webhook.disabled`: the vendor's owners and managers, or the
    operators). Called when one of its deliveries has failed for good. True if it did."""
    now = clock.now()
    with transaction.atomic():
        endpoint = (
            WebhookEndpoint.objects.select_for_update(of=("self",))
            .select_related("vendor")
            .filter(pk=endpoint_id, enabled=True, failing_since__lte=now - DISABLE_AFTER)
            .first()
        )
        if endpoint is None:
            return False
        days = DISABLE_AFTER.days
        reason = f"Every attempt failed for {days} days (last: {last_error or 'no answer'})."
        _disable(actor=None, endpoint=endpoint, reason=reason)
        endpoint.save(update_fields=["enabled", "disabled_reason", "disabled_at"])
        owner = WebhookOwner(vendor=endpoint.vendor)
        outbox.emit(
            "webhook.disabled",
            subject=endpoint,
            data={
                "id": endpoint.pk,
                "status": "disabled",
                "url": owner.page_path(endpoint.pk),
                "endpoint_url": endpoint.url,
                "reason": endpoint.disabled_reason,
                "vendor_name": endpoint.vendor.name if endpoint.vendor else "",
                "disabled_at": now.isoformat(),
            },
            vendor_id=endpoint.vendor_id,
            operators=endpoint.vendor_id is None,
        )
    return True


def webhook_deliveries_create(*, events: list[Event]) -> int:
    """One delivery per (enabled endpoint, event it subscribed to): a vendor's endpoints get
    the events of that vendor (`event.vendor`), the operators' endpoints every event —
    each only events that happened once it existed. Returns how many were created.

    Call in the dispatcher's transaction with a batch of events. Two queries whatever the
    batch's size: one reads the endpoints, one INSERT writes the deliveries, skipping
    those already there (unique endpoint and event), so a batch fanned out twice creates
    nothing twice.
    """
    wanted = [event for event in events if delivered(event.name)]
    if not wanted:
        return 0
    vendor_ids = {event.vendor_id for event in wanted if event.vendor_id is not None}
    endpoints = list(
        WebhookEndpoint.objects.filter(
            Q(vendor__isnull=True) | Q(vendor_id__in=vendor_ids), enabled=True
        ).only("pk", "vendor_id", "events", "created_at")
    )
    pairs = [
        (endpoint.pk, event.pk)
        for event in wanted
        for endpoint in endpoints
        if (endpoint.vendor_id is None or endpoint.vendor_id == event.vendor_id)
        and subscribes_to(endpoint.events, event.name)
        and event.created_at >= endpoint.created_at
    ]
    return _insert_deliveries(pairs) if pairs else 0


def _insert_deliveries(pairs: list[tuple[int, int]]) -> int:
    """`INSERT ... SELECT` from one JSON parameter, `ON CONFLICT DO NOTHING`.

    Not `bulk_create(ignore_conflicts=True)`: on SQLite Django splits that into one INSERT
    per 76 rows (999 parameters, 13 columns), and it cannot tell how many rows were new.
    The `webhook_id` is `msg_<event id>`, the same on every attempt and replay.
    """
    table = connection.ops.quote_name(WebhookDelivery._meta.db_table)
    now = connection.ops.adapt_datetimefield_value(clock.now())
    if connection.vendor == "postgresql":
        source = "jsonb_array_elements(%s::jsonb) AS pair"
        endpoint_id, event_id = "(pair->>0)::bigint", "(pair->>1)::bigint"
        webhook_id = "'msg_' || (pair->>1)"
        where = ""
    else:
        source = "json_each(%s)"
        endpoint_id, event_id = "json_extract(value, '$[0]')", "json_extract(value, '$[1]')"
        webhook_id = "'msg_' || json_extract(value, '$[1]')"
        where = "WHERE true"  # SQLite needs it before ON CONFLICT after a SELECT
    # Only our own table's quoted name and fixed expressions are interpolated; values
    # are parameters.
    sql = f"""
        INSERT INTO {table} (
            endpoint_id, event_id, webhook_id, status, attempts, failures_in_round,
            next_attempt_at, last_error, last_response_body, created_at
        )
        SELECT {endpoint_id}, {event_id}, {webhook_id}, %s, 0, 0, %s, '', '', %s
        FROM {source} {where}
        ON CONFLICT (endpoint_id, event_id) DO NOTHING
    """  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [WebhookDeliveryStatus.PENDING.value, now, now, json.dumps(pairs)])
        return max(cursor.rowcount, 0)
