"""The webhooks API: creating (the secret once, never stored for replay), listing,
changing, rotating, deleting, the delivery log and replay — for a vendor and the operators."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agora.core import clock
from agora.core.audit import audit_trail
from agora.core.models import IdempotencyKey
from agora.notifications.webhooks import delivery
from agora.notifications.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from agora.notifications.webhooks.services import MAX_ENDPOINTS
from tests.conftest import assert_problem
from tests.notifications.webhooks.conftest import Market, api_as, emit, endpoint_for, fan_out

pytestmark = pytest.mark.django_db

PUBLIC = "https://93.184.215.14/agora"


def vendor_path(market: Market, rest: str = "") -> str:
    return f"/vendors/{market.vendor.pk}/webhooks{rest}"


def test_an_owner_creates_an_endpoint_and_sees_its_secret_once(market: Market) -> None:
    # When the owner adds an endpoint (with an Idempotency-Key)
    response = api_as(market.owner).post(
        vendor_path(market),
        {"url": PUBLIC, "events": ["booking.paid", "order.paid", "booking.paid"]},
        idempotency_key="create-1",
    )

    # Then it is created with a whsec_ secret in the response, which is not cacheable...
    assert response.status_code == 201, response.content
    body = response.json()
    endpoint = WebhookEndpoint.objects.get()
    assert body == {
        "id": endpoint.pk,
        "url": PUBLIC,
        "events": ["booking.paid", "order.paid"],
        "enabled": True,
        "disabled_reason": "",
        "disabled_at": None,
        "consecutive_failures": 0,
        "previous_secret_expires_at": None,
        "created_at": body["created_at"],
        "secret": endpoint.secret,
    }
    assert body["secret"].startswith("whsec_")
    assert response["Cache-Control"] == "no-store"
    # ...nor kept by the idempotency layer, so no secret sits in its table
    assert not IdempotencyKey.objects.filter(key="create-1").exists()
    assert endpoint.vendor_id == market.vendor.pk
    assert endpoint.created_by_id == market.owner.pk
    [entry] = audit_trail(endpoint)
    assert (entry.action, entry.actor_id) == ("webhook.created", market.owner.pk)
    assert entry.data == {
        "url": PUBLIC,
        "events": ["booking.paid", "order.paid"],
        "vendor_id": market.vendor.pk,
    }

    # And the list shows it without the secret
    listed = api_as(market.manager).get(vendor_path(market)).json()
    assert listed["next_cursor"] is None
    assert [item["id"] for item in listed["items"]] == [endpoint.pk]
    assert "secret" not in listed["items"][0]
    detail = api_as(market.manager).get(vendor_path(market, f"/{endpoint.pk}")).json()
    assert "secret" not in detail
    assert detail["url"] == PUBLIC


def test_a_manager_may_create_and_star_means_every_event(market: Market) -> None:
    response = api_as(market.manager).post(
        vendor_path(market), {"url": PUBLIC, "events": ["booking.paid", "*"]}
    )

    assert response.status_code == 201, response.content
    assert response.json()["events"] == ["*"]


@pytest.mark.parametrize(
    ("events", "loc"),
    [
        (["booking.paid", "booking.exploded"], ["body", "events", 1]),
        (["quote.requested", "BOOKING.PAID"], ["body", "events", 1]),
        (["notification.created"], ["body", "events", 0]),
        (["account.password_reset"], ["body", "events", 0]),
        (["booking.paid", "staff.invited"], ["body", "events", 1]),
    ],
)
def test_unknown_event_names_are_refused(market: Market, events: list[str], loc: list[Any]) -> None:
    response = api_as(market.owner).post(vendor_path(market), {"url": PUBLIC, "events": events})

    body = assert_problem(response, 422, "validation_error")
    assert body["errors"][0]["loc"] == loc
    assert "Unknown event names" in body["detail"]
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize(
    "payload",
    [
        {"url": PUBLIC, "events": []},
        {"url": PUBLIC},
        {"events": ["*"]},
        {"url": PUBLIC, "events": ["*"], "secret": "whsec_mine"},
        {"url": PUBLIC, "events": "booking.paid"},
    ],
)
def test_malformed_bodies_are_refused(market: Market, payload: dict[str, Any]) -> None:
    assert_problem(api_as(market.owner).post(vendor_path(market), payload), 422, "validation_error")
    assert not WebhookEndpoint.objects.exists()


def test_quote_events_are_subscribable(market: Market) -> None:
    response = api_as(market.owner).post(
        vendor_path(market), {"url": PUBLIC, "events": ["quote.requested", "quote.accepted"]}
    )

    assert response.status_code == 201, response.content


def test_there_is_a_limit_of_endpoints(market: Market) -> None:
    for _ in range(MAX_ENDPOINTS):
        endpoint_for(vendor=market.vendor, url=PUBLIC, events=["*"], actor=market.owner)

    response = api_as(market.owner).post(vendor_path(market), {"url": PUBLIC, "events": ["*"]})

    assert_problem(response, 409, "webhook_limit_reached")
    assert WebhookEndpoint.objects.count() == MAX_ENDPOINTS


def test_patch_changes_the_subscription_and_switches_off_and_on(market: Market) -> None:
    endpoint = endpoint_for(vendor=market.vendor, url=PUBLIC, events=["*"], actor=market.owner)
    api = api_as(market.owner)

    changed = api.patch(
        vendor_path(market, f"/{endpoint.pk}"),
        {"events": ["order.shipped"], "url": "https://93.184.215.15/new"},
    )
    assert changed.status_code == 200, changed.content
    assert (changed.json()["events"], changed.json()["url"]) == (
        ["order.shipped"],
        "https://93.184.215.15/new",
    )

    off = api.patch(vendor_path(market, f"/{endpoint.pk}"), {"enabled": False}).json()
    assert (off["enabled"], off["disabled_reason"]) == (False, "Disabled by Olly Owner.")
    on = api.patch(vendor_path(market, f"/{endpoint.pk}"), {"enabled": True}).json()
    assert (on["enabled"], on["disabled_reason"], on["disabled_at"]) == (True, "", None)
    assert [entry.action for entry in audit_trail(endpoint)] == [
        "webhook.created",
        "webhook.updated",
        "webhook.disabled",
        "webhook.enabled",
    ]


def test_rotating_returns_a_new_secret_once(market: Market) -> None:
    endpoint = endpoint_for(vendor=market.vendor, url=PUBLIC, events=["*"], actor=market.owner)

    response = api_as(market.owner).post(
        vendor_path(market, f"/{endpoint.pk}/rotate-secret"), idempotency_key="rotate-1"
    )

    assert response.status_code == 200, response.content
    assert response["Cache-Control"] == "no-store"
    assert not IdempotencyKey.objects.filter(key="rotate-1").exists()
    body = response.json()
    endpoint.refresh_from_db()
    assert body["secret"] == endpoint.secret
    assert endpoint.previous_secret != endpoint.secret
    assert endpoint.previous_secret_expires_at == clock.now() + timedelta(hours=24)
    listed = api_as(market.owner).get(vendor_path(market)).json()["items"][0]
    assert listed["previous_secret_expires_at"] is not None
    assert "secret" not in listed


def test_deleting_removes_the_endpoint_and_its_log(market: Market) -> None:
    endpoint = endpoint_for(vendor=market.vendor, url=PUBLIC, events=["*"], actor=market.owner)
    fan_out(emit("booking.paid", vendor=market.vendor))

    response = api_as(market.manager).delete(vendor_path(market, f"/{endpoint.pk}"))

    assert response.status_code == 204
    assert not WebhookEndpoint.objects.exists()
    assert not WebhookDelivery.objects.exists()
    assert_problem(
        api_as(market.manager).delete(vendor_path(market, f"/{endpoint.pk}")), 404, "not_found"
    )


def test_the_delivery_log_shows_every_attempt_and_pages(
    market: Market, receiver_factory: Any, allow_private: None, django_assert_max_num_queries: Any
) -> None:
    # Given 3 deliveries, each tried twice (500, then 200)
    receiver = receiver_factory(500, 500, 500, 200)
    endpoint = endpoint_for(
        vendor=market.vendor, url=receiver.url, events=["*"], actor=market.owner
    )
    events = [emit("booking.paid", vendor=market.vendor, number=n) for n in (1, 2, 3)]
    fan_out(*events)
    delivery.send_due()
    clock.advance(timedelta(seconds=10))
    delivery.send_due()
    api = api_as(market.owner)

    # When the log is read two at a time
    with django_assert_max_num_queries(8):
        first = api.get(vendor_path(market, f"/{endpoint.pk}/deliveries"), limit=2).json()
    second = api.get(
        vendor_path(market, f"/{endpoint.pk}/deliveries"), limit=2, cursor=first["next_cursor"]
    ).json()

    # Then it is newest first, each delivery with its attempts
    assert [item["event_id"] for item in first["items"] + second["items"]] == [
        events[2].pk,
        events[1].pk,
        events[0].pk,
    ]
    assert second["next_cursor"] is None
    newest = first["items"][0]
    assert newest["webhook_id"] == f"msg_{events[2].pk}"
    assert newest["type"] == "booking.paid"
    assert newest["status"] == "succeeded"
    assert newest["attempt_count"] == 2
    assert newest["next_attempt_at"] is None
    assert [(a["status_code"], a["error"]) for a in newest["attempts"]] == [
        (500, "HTTP 500"),
        (200, ""),
    ]
    assert all(a["response_body"] == "thanks" for a in newest["attempts"])


def test_listing_deliveries_costs_the_same_for_many(
    market: Market, django_assert_num_queries: Any, allow_private: None, receiver_factory: Any
) -> None:
    receiver = receiver_factory(500)
    endpoint = endpoint_for(
        vendor=market.vendor, url=receiver.url, events=["*"], actor=market.owner
    )
    fan_out(emit("booking.paid", vendor=market.vendor, number=1))
    delivery.send_due()
    api = api_as(market.owner)
    path = vendor_path(market, f"/{endpoint.pk}/deliveries")
    api.get(path)  # warm up (content types, token)
    with CaptureQueriesContext(connection) as one:
        api.get(path)
    fan_out(*[emit("booking.paid", vendor=market.vendor, number=n) for n in range(2, 12)])
    delivery.send_due()
    with django_assert_num_queries(len(one)):
        response = api.get(path)
    assert len(response.json()["items"]) == 11
    assert WebhookAttempt.objects.count() == 11


def test_listing_endpoints_costs_the_same_for_many(
    market: Market, django_assert_max_num_queries: Any
) -> None:
    for _ in range(15):
        endpoint_for(vendor=market.vendor, url=PUBLIC, events=["*"], actor=market.owner)
    api = api_as(market.owner)

    with django_assert_max_num_queries(4):
        page = api.get(vendor_path(market), limit=10).json()
    with django_assert_max_num_queries(4):
        rest = api.get(vendor_path(market), limit=10, cursor=page["next_cursor"]).json()

    assert len(page["items"]) == 10
    assert len(rest["items"]) == 5
    assert rest["next_cursor"] is None


def test_replay_queues_the_delivery_again(market: Market) -> None:
    endpoint = endpoint_for(vendor=market.vendor, url=PUBLIC, events=["*"], actor=market.owner)
    fan_out(emit("booking.paid", vendor=market.vendor))
    item = WebhookDelivery.objects.get()
    WebhookDelivery.objects.filter(pk=item.pk).update(status="failed", failures_in_round=12)

    response = api_as(market.owner).post(
        vendor_path(market, f"/{endpoint.pk}/deliveries/{item.pk}/replay")
    )

    assert response.status_code == 202, response.content
    body = response.json()
    assert (body["id"], body["status"], body["webhook_id"]) == (item.pk, "pending", item.webhook_id)
    item.refresh_from_db()
    assert (item.status, item.failures_in_round, item.next_attempt_at) == (
        "pending",
        0,
        clock.now(),
    )


def test_replay_to_a_disabled_endpoint_is_refused(market: Market) -> None:
    endpoint = endpoint_for(vendor=market.vendor, url=PUBLIC, events=["*"], actor=market.owner)
    fan_out(emit("booking.paid", vendor=market.vendor))
    item = WebhookDelivery.objects.get()
    WebhookDelivery.objects.filter(pk=item.pk).update(status="failed")
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(enabled=False)

    response = api_as(market.owner).post(
        vendor_path(market, f"/{endpoint.pk}/deliveries/{item.pk}/replay")
    )

    assert_problem(response, 409, "webhook_disabled")
    item.refresh_from_db()
    assert item.status == "failed"


def test_operators_manage_the_marketplaces_endpoints(market: Market) -> None:
    api = api_as(market.operator)

    created = api.post("/operator/webhooks", {"url": PUBLIC, "events": ["*"]})

    assert created.status_code == 201, created.content
    assert created["Cache-Control"] == "no-store"
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.vendor_id is None
    assert [item["id"] for item in api.get("/operator/webhooks").json()["items"]] == [endpoint.pk]
    assert api.get(f"/operator/webhooks/{endpoint.pk}/deliveries").json() == {
        "items": [],
        "next_cursor": None,
    }
    rotated = api.post(f"/operator/webhooks/{endpoint.pk}/rotate-secret")
    assert rotated.status_code == 200
    assert api.patch(f"/operator/webhooks/{endpoint.pk}", {"enabled": False}).status_code == 200
    assert api.delete(f"/operator/webhooks/{endpoint.pk}").status_code == 204
    assert not WebhookEndpoint.objects.exists()


def test_the_openapi_document_describes_the_webhook_routes(anon: Any) -> None:
    paths = anon.get("/openapi.json").json()["paths"]

    for path in (
        "/api/v1/vendors/{vendor_id}/webhooks",
        "/api/v1/vendors/{vendor_id}/webhooks/{webhook_id}",
        "/api/v1/vendors/{vendor_id}/webhooks/{webhook_id}/rotate-secret",
        "/api/v1/vendors/{vendor_id}/webhooks/{webhook_id}/deliveries",
        "/api/v1/vendors/{vendor_id}/webhooks/{webhook_id}/deliveries/{delivery_id}/replay",
        "/api/v1/operator/webhooks",
        "/api/v1/operator/webhooks/{webhook_id}/deliveries/{delivery_id}/replay",
    ):
        assert path in paths, path
