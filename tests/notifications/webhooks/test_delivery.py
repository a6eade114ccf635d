"""Sending: Standard Webhooks requests to real receivers, retries under one webhook-id,
the backoff schedule, disabling a dead endpoint, secret rotation and replay.

Every signature is checked with the `standardwebhooks` library from PyPI.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from agora.core import clock
from agora.core.audit import audit_trail
from agora.notifications.models import Event
from agora.notifications.webhooks import delivery, services
from agora.notifications.webhooks.models import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEndpoint,
)
from agora.notifications.webhooks.selectors import WebhookOwner
from tests.notifications.webhooks.conftest import (
    Market,
    Received,
    emit,
    endpoint_for,
    fan_out,
    send_next,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("allow_private")]


def signed_with(secret: str, request: Received) -> bool:
    """Whether `secret` signed the request, by the library's own signer (for requests whose
    timestamp the library's verify() would reject as too far from the real clock)."""
    expected = Webhook(secret).sign(
        request.headers["webhook-id"],
        datetime.fromtimestamp(int(request.headers["webhook-timestamp"]), tz=UTC),
        request.body,
    )
    return expected in request.headers["webhook-signature"].split(" ")


def test_a_delivery_is_a_signed_standard_webhook_that_verifies(
    market: Market, receiver_factory: Any, settings: Any
) -> None:
    # Given an endpoint of the vendor subscribed to booking.paid
    receiver = receiver_factory(204)
    endpoint = endpoint_for(
        vendor=market.vendor, url=receiver.url, events=["booking.paid"], actor=market.owner
    )
    event = emit("booking.paid", vendor=market.vendor, vendor_url="/vendor/bookings/7/")
    fan_out(event)

    # When the sending loop runs
    assert delivery.send_due() == 1

    # Then the receiver got one request, which the standardwebhooks library verifies
    [request] = receiver.requests
    assert request.path == "/hooks/agora"
    payload = Webhook(endpoint.secret).verify(request.body, request.headers)
    assert payload == {
        "type": "booking.paid",
        "timestamp": event.created_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "data": {
            "id": 7,
            "status": "paid",
            "url": f"{settings.AGORA_BASE_URL}/account/bookings/7/",
            "vendor_url": f"{settings.AGORA_BASE_URL}/vendor/bookings/7/",
        },
    }
    assert request.headers["webhook-id"] == f"msg_{event.pk}"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"].startswith("Agora-Webhooks/")
    assert request.headers["host"] == f"127.0.0.1:{receiver.port}"
    assert abs(int(request.headers["webhook-timestamp"]) - clock.now().timestamp()) < 2
    # ...and the delivery is recorded as succeeded with its one attempt
    sent = WebhookDelivery.objects.get()
    assert (sent.status, sent.attempts, sent.last_status_code) == ("succeeded", 1, 204)
    assert sent.succeeded_at is not None
    assert [(a.status_code, a.error) for a in sent.attempt_log.all()] == [(204, "")]


def test_a_failed_attempt_is_retried_with_the_same_id_and_a_fresh_timestamp(
    market: Market, receiver_factory: Any
) -> None:
    # Given a receiver that fails once (500) and then accepts
    receiver = receiver_factory(500, 200, response_body=b"database down")
    endpoint = endpoint_for(
        vendor=market.vendor, url=receiver.url, events=["*"], actor=market.owner
    )
    fan_out(emit("booking.paid", vendor=market.vendor))
    item = WebhookDelivery.objects.get()

    # When it is sent, and again when the retry is due (about 5 seconds later)
    delivery.send_due()
    item.refresh_from_db()
    assert item.status == "pending"
    assert item.last_status_code == 500
    assert item.last_response_body == "database down"
    wait = item.next_attempt_at - clock.now()
    assert timedelta(seconds=5) <= wait <= timedelta(seconds=5.5)
    assert delivery.send_due() == 0  # not due yet
    send_next(item)

    # Then both requests carry one webhook-id, different timestamps, and each verifies
    first, second = receiver.requests
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == item.webhook_id
    assert int(second.headers["webhook-timestamp"]) > int(first.headers["webhook-timestamp"])
    assert first.body == second.body
    for request in (first, second):
        Webhook(endpoint.secret).verify(request.body, request.headers)
    item.refresh_from_db()
    assert (item.status, item.attempts, item.last_status_code) == ("succeeded", 2, 200)
    assert [(a.status_code, a.error) for a in item.attempt_log.order_by("id")] == [
        (500, "HTTP 500"),
        (200, ""),
    ]
    endpoint.refresh_from_db()
    assert (endpoint.consecutive_failures, endpoint.failing_since) == (0, None)


def test_redirects_are_not_followed(market: Market, receiver_factory: Any) -> None:
    target = receiver_factory(200)
    redirecting = receiver_factory(307)
    redirecting.redirect_to = target.url
    endpoint_for(vendor=market.vendor, url=redirecting.url, events=["*"], actor=market.owner)
    fan_out(emit("booking.paid", vendor=market.vendor))

    delivery.send_due()

    assert len(redirecting.requests) == 1
    assert target.requests == []
    item = WebhookDelivery.objects.get()
    assert (item.status, item.last_status_code, item.last_error) == ("pending", 307, "HTTP 307")


def test_an_unreachable_receiver_is_a_failed_attempt_with_the_error(market: Market) -> None:
    endpoint_for(
        vendor=market.vendor, url="http://127.0.0.1:9/closed", events=["*"], actor=market.owner
    )
    fan_out(emit("booking.paid", vendor=market.vendor))

    delivery.send_due()

    item = WebhookDelivery.objects.get()
    assert item.status == "pending"
    assert item.last_status_code is None
    assert item.last_error.startswith("ConnectError")


def test_the_receivers_answer_is_kept_to_one_kilobyte(
    market: Market, receiver_factory: Any
) -> None:
    receiver = receiver_factory(200, response_body=b"x" * 5000)
    endpoint_for(vendor=market.vendor, url=receiver.url, events=["*"], actor=market.owner)
    fan_out(emit("booking.paid", vendor=market.vendor))

    delivery.send_due()

    item = WebhookDelivery.objects.get()
    assert item.last_response_body == "x" * 1024
    assert item.attempt_log.get().response_body == "x" * 1024


def test_the_backoff_spans_more_than_72_hours_and_then_the_delivery_fails(
    market: Market, receiver_factory: Any
) -> None:
    # Given a receiver that always answers 503
    receiver = receiver_factory(503)
    endpoint = endpoint_for(
        vendor=market.vendor, url=receiver.url, events=["*"], actor=market.owner
    )
    fan_out(emit("booking.paid", vendor=market.vendor))
    item = WebhookDelivery.objects.get()

    # When every attempt is made as it falls due
    for _ in range(delivery.MAX_ATTEMPTS):
        assert send_next(item) == 1
    item.refresh_from_db()

    # Then there were 12 attempts, spaced by the schedule (plus at most 10 % jitter)...
    assert len(receiver.requests) == delivery.MAX_ATTEMPTS == 12
    times = [attempt.at for attempt in item.attempt_log.order_by("id")]
    gaps = [later - earlier for earlier, later in pairwise(times)]
    for gap, base in zip(gaps, delivery.RETRY_DELAYS, strict=True):
        assert base <= gap <= base * 1.1 + timedelta(seconds=1)
    assert times[-1] - times[0] >= timedelta(hours=72)
    # ...all under the first attempt's webhook-id, and the delivery failed for good
    assert {r.headers["webhook-id"] for r in receiver.requests} == {item.webhook_id}
    assert (item.status, item.attempts, item.last_status_code) == ("failed", 12, 503)
    assert item.attempt_log.count() == 12
    clock.advance(timedelta(days=2))
    assert delivery.send_due() == 0
    # ...while the endpoint, failing for about four days, is still on
    endpoint.refresh_from_db()
    assert endpoint.enabled is True
    assert endpoint.consecutive_failures == 12
    assert endpoint.failing_since is not None


def _exhaust(item: WebhookDelivery) -> None:
    for _ in range(delivery.MAX_ATTEMPTS):
        send_next(item)
    item.refresh_from_db()
    assert item.status == WebhookDeliveryStatus.FAILED


def test_an_endpoint_failing_for_five_days_is_disabled_and_its_managers_told(
    market: Market, receiver_factory: Any
) -> None:
    # Given an endpoint whose receiver has answered 500 to everything for four days
    receiver = receiver_factory(500)
    endpoint = endpoint_for(
        vendor=market.vendor, url=receiver.url, events=["*"], actor=market.owner
    )
    first = emit("booking.paid", vendor=market.vendor, number=1)
    fan_out(first)
    _exhaust(WebhookDelivery.objects.get(event=first))
    endpoint.refresh_from_db()
    assert endpoint.enabled is True

    # When a later event's delivery also exhausts its retries (five days and more of failure)
    second = emit("booking.paid", vendor=market.vendor, number=2)
    fan_out(second)
    _exhaust(WebhookDelivery.objects.get(event=second))

    # Then the endpoint is disabled with its reason...
    endpoint.refresh_from_db()
    assert endpoint.enabled is False
    assert endpoint.disabled_reason == "Every attempt failed for 5 days (last: HTTP 500)."
    assert endpoint.disabled_at == clock.now()
    # ...a webhook.disabled event tells the vendor's owners and managers...
    notice = Event.objects.get(name="webhook.disabled")
    assert notice.vendor_id == market.vendor.pk
    assert notice.operators is False
    assert notice.data == {
        "id": endpoint.pk,
        "status": "disabled",
        "url": f"/vendor/webhooks/{endpoint.pk}/?vendor={market.vendor.pk}",
        "endpoint_url": receiver.url,
        "reason": "Every attempt failed for 5 days (last: HTTP 500).",
        "vendor_name": "Camden Motors",
        "disabled_at": clock.now().isoformat(),
    }
    # ...it is audited, and nothing more is created for or sent to it
    assert [entry.action for entry in audit_trail(endpoint)] == [
        "webhook.created",
        "webhook.disabled",
    ]
    requests = len(receiver.requests)
    assert fan_out(emit("booking.paid", vendor=market.vendor, number=3)) == 0
    clock.advance(timedelta(days=1))
    assert delivery.send_due() == 0
    assert len(receiver.requests) == requests


def test_the_operators_endpoint_failing_for_days_tells_the_operators(
    market: Market, receiver_factory: Any
) -> None:
    receiver = receiver_factory(500)
    endpoint = endpoint_for(vendor=None, url=receiver.url, events=["*"], actor=market.operator)
    for number in (1, 2):
        event = emit("booking.paid", vendor=market.vendor, number=number)
        fan_out(event)
        _exhaust(WebhookDelivery.objects.get(event=event))

    endpoint.refresh_from_db()
    assert endpoint.enabled is False
    notice = Event.objects.get(name="webhook.disabled")
    assert (notice.vendor_id, notice.operators) == (None, True)
    assert notice.data["url"] == f"/operator/webhooks/{endpoint.pk}/"


def test_a_success_in_between_keeps_the_endpoint_on(market: Market, receiver_factory: Any) -> None:
    # Given an endpoint that failed one delivery for good (four days)
    receiver = receiver_factory(500)
    endpoint = endpoint_for(
        vendor=market.vendor, url=receiver.url, events=["*"], actor=market.owner
    )
    first = emit("booking.paid", vendor=market.vendor, number=1)
    fan_out(first)
    _exhaust(WebhookDelivery.objects.get(event=first))
    # When one delivery then succeeds, and a later one fails for good again
    receiver.statuses = [200]
    receiver.requests.clear()
    fan_out(emit("booking.paid", vendor=market.vendor, number=2))
    delivery.send_due()
    receiver.statuses = [500]
    receiver.requests.clear()
    third = emit("booking.paid", vendor=market.vendor, number=3)
    fan_out(third)
    _exhaust(WebhookDelivery.objects.get(event=third))

    # Then the endpoint stays on: it has not failed for five days in a row
    endpoint.refresh_from_db()
    assert endpoint.enabled is True
    assert not Event.objects.filter(name="webhook.disabled").exists()


def test_enabling_again_sends_what_was_waiting(market: Market, receiver_factory: Any) -> None:
    # Given a disabled endpoint with a delivery still waiting
    receiver = receiver_factory(200)
    endpoint = endpoint_for(
        vendor=market.vendor, url=receiver.url, events=["*"], actor=market.owner
    )
    fan_out(emit("booking.paid", vendor=market.vendor))
    owner = WebhookOwner(vendor=market.vendor)
    services.webhook_endpoint_update(
        actor=market.owner, owner=owner, webhook_id=endpoint.pk, enabled=False
    )
    assert delivery.send_due() == 0
    assert receiver.requests == []

    # When it is enabled again
    services.webhook_endpoint_update(
        actor=market.manager, owner=owner, webhook_id=endpoint.pk, enabled=True
    )

    # Then the waiting delivery goes out
    assert delivery.send_due() == 1
    assert len(receiver.requests) == 1
    endpoint.refresh_from_db()
    assert (endpoint.enabled, endpoint.disabled_reason, endpoint.disabled_at) == (True, "", None)
    assert [entry.action for entry in audit_trail(endpoint)] == [
        "webhook.created",
        "webhook.disabled",
        "webhook.enabled",
    ]


def test_after_a_rotation_both_secrets_sign_for_24_hours_then_only_the_new_one(
    market: Market, receiver_factory: Any
) -> None:
    # Given an endpoint whose secret was just rotated
    receiver = receiver_factory(200)
    endpoint = endpoint_for(
        vendor=market.vendor, url=receiver.url, events=["*"], actor=market.owner
    )
    old_secret = endpoint.secret
    rotated = services.webhook_secret_rotate(
        actor=market.owner, owner=WebhookOwner(vendor=market.vendor), webhook_id=endpoint.pk
    )
    new_secret = rotated.secret
    assert new_secret != old_secret
    assert new_secret.startswith("whsec_")
    assert rotated.previous_secret_expires_at == clock.now() + timedelta(hours=24)

    # When an event is delivered during the overlap
    fan_out(emit("booking.paid", vendor=market.vendor, number=1))
    delivery.send_due()

    # Then a receiver with either secret verifies it (two signatures in the header)
    [during] = receiver.requests
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    Webhook(old_secret).verify(during.body, during.headers)
    Webhook(new_secret).verify(during.body, during.headers)

    # When the next event is delivered 24 hours later
    clock.advance(timedelta(hours=24, seconds=1))
    fan_out(emit("booking.paid", vendor=market.vendor, number=2))
    delivery.send_due()

    # Then only the new secret signs it
    after = receiver.requests[1]
    assert len(after.headers["webhook-signature"].split(" ")) == 1
    assert signed_with(new_secret, after)
    assert not signed_with(old_secret, after)
    assert [entry.action for entry in audit_trail(endpoint)] == [
        "webhook.created",
        "webhook.secret_rotated",
    ]


def test_the_old_secret_does_not_verify_a_delivery_after_the_overlap(
    market: Market, receiver_factory: Any
) -> None:
    """The same, through verify(): the rotation happened 24 hours before "now"."""
    receiver = receiver_factory(200)
    endpoint = endpoint_for(
        vendor=market.vendor, url=receiver.url, events=["*"], actor=market.owner
    )
    old_secret = endpoint.secret
    with clock.frozen(clock.now() - timedelta(hours=24, seconds=1)):
        rotated = services.webhook_secret_rotate(
            actor=market.owner, owner=WebhookOwner(vendor=market.vendor), webhook_id=endpoint.pk
        )
    fan_out(emit("booking.paid", vendor=market.vendor))

    delivery.send_due()

    [request] = receiver.requests
    assert Webhook(rotated.secret).verify(request.body, request.headers)["type"] == "booking.paid"
    with pytest.raises(WebhookVerificationError, match="No matching signature"):
        Webhook(old_secret).verify(request.body, request.headers)


def test_a_replay_sends_the_same_event_again_with_the_same_webhook_id(
    market: Market, receiver_factory: Any
) -> None:
    # Given a delivered event
    receiver = receiver_factory(200)
    endpoint = endpoint_for(
        vendor=market.vendor, url=receiver.url, events=["*"], actor=market.owner
    )
    fan_out(emit("booking.paid", vendor=market.vendor))
    delivery.send_due()
    item = WebhookDelivery.objects.get()

    # When its owner replays it
    replayed = services.webhook_delivery_replay(
        actor=market.owner,
        owner=WebhookOwner(vendor=market.vendor),
        webhook_id=endpoint.pk,
        delivery_id=item.pk,
    )
    assert (replayed.status, replayed.failures_in_round) == ("pending", 0)
    assert delivery.send_due() == 1

    # Then the receiver got it twice under one id, both verifying, logged as two attempts
    first, second = receiver.requests
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == f"msg_{item.event_id}"
    assert json.loads(first.body) == json.loads(second.body)
    Webhook(endpoint.secret).verify(second.body, second.headers)
    item.refresh_from_db()
    assert (item.status, item.attempts) == ("succeeded", 2)
    assert WebhookAttempt.objects.filter(delivery=item).count() == 2
    assert WebhookDelivery.objects.count() == 1
    assert audit_trail(endpoint).last().action == "webhook.delivery_replayed"  # type: ignore[union-attr]


def test_a_slow_receiver_holds_up_a_chunk_once_not_once_per_delivery(
    market: Market, receiver_factory: Any
) -> None:
    receiver = receiver_factory(200)
    receiver.delay_seconds = 0.5
    endpoint_for(vendor=market.vendor, url=receiver.url, events=["*"], actor=market.owner)
    fan_out(*[emit("booking.paid", vendor=market.vendor, number=n) for n in range(8)])
    started = time.monotonic()

    assert delivery.send_due() == 8

    assert time.monotonic() - started < 2.0  # 8 × 0.5 s one after the other would be 4 s
    assert len(receiver.requests) == 8
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"succeeded"}


def test_a_worker_that_dies_mid_send_leaves_the_delivery_to_the_next(
    market: Market, receiver_factory: Any, settings: Any
) -> None:
    receiver = receiver_factory(200)
    endpoint_for(vendor=market.vendor, url=receiver.url, events=["*"], actor=market.owner)
    fan_out(emit("booking.paid", vendor=market.vendor))

    # A worker claims the delivery and dies before sending it
    [claimed] = delivery.claim(limit=10)
    assert delivery.send_due() == 0  # leased: no one else takes it meanwhile

    # Once the lease runs out another worker sends it
    clock.advance(timedelta(seconds=settings.AGORA_OUTBOX_LEASE_SECONDS + 10 * 30 + 1))
    assert delivery.send_due() == 1
    assert [r.headers["webhook-id"] for r in receiver.requests] == [claimed.webhook_id]
    claimed.refresh_from_db()
    assert (claimed.status, claimed.attempts) == ("succeeded", 2)


def test_a_url_that_turns_private_is_not_sent_to(
    market: Market, receiver_factory: Any, settings: Any
) -> None:
    # Given an endpoint on loopback, accepted while private addresses were allowed
    receiver = receiver_factory(200)
    endpoint = endpoint_for(
        vendor=market.vendor, url=receiver.url, events=["*"], actor=market.owner
    )
    fan_out(emit("booking.paid", vendor=market.vendor))

    # When the setting is off at send time
    settings.AGORA_WEBHOOK_ALLOW_PRIVATE = False
    delivery.send_due()

    # Then nothing reached the receiver and the attempt says why
    assert receiver.requests == []
    item = WebhookDelivery.objects.get()
    assert item.status == "pending"
    assert item.last_error == "Not sent: The URL must start with https://."
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(url=f"https://127.0.0.1:{receiver.port}/")
    send_next(item)
    item.refresh_from_db()
    assert item.last_error == (
        "Not sent: The URL's host 127.0.0.1, a loopback address: webhooks are delivered to "
        "public addresses only."
    )
    assert receiver.requests == []


def test_the_outbox_round_delivers_webhooks_end_to_end(
    market: Market, receiver_factory: Any
) -> None:
    """The dispatcher fans events out to webhooks and the round sends them. (An event the
    catalogue has no mail for, so that only the webhook part of the round has work.)"""
    from agora.notifications.delivery import run_once

    receiver = receiver_factory(200)
    endpoint = endpoint_for(
        vendor=market.vendor, url=receiver.url, events=["*"], actor=market.owner
    )
    event = emit("test.webhook_only", vendor=market.vendor)

    run_once()

    [request] = receiver.requests
    payload = Webhook(endpoint.secret).verify(request.body, request.headers)
    assert payload["type"] == "test.webhook_only"
    assert request.headers["webhook-id"] == f"msg_{event.pk}"
    assert WebhookDelivery.objects.get().status == "succeeded"
