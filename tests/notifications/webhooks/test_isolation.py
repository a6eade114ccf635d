"""Tenant isolation on every webhook route: another vendor's people get 404, a vendor's
plain staff 403, a customer 404 (vendor routes) or 403 (operator routes), a vendor's owner
403 on the operator routes — and nothing changes."""

from __future__ import annotations

from typing import Any

import pytest

from agora.core.models import AuditLog
from agora.notifications.webhooks.models import WebhookDelivery, WebhookEndpoint
from tests.conftest import assert_problem
from tests.notifications.webhooks.conftest import Market, api_as, emit, endpoint_for, fan_out

pytestmark = pytest.mark.django_db

PUBLIC = "https://93.184.215.14/agora"


@pytest.fixture
def hooks(market: Market) -> dict[str, Any]:
    mine = endpoint_for(vendor=market.vendor, url=PUBLIC, events=["*"], actor=market.owner)
    theirs = endpoint_for(vendor=market.rival, url=PUBLIC, events=["*"], actor=market.rival_owner)
    platform = endpoint_for(vendor=None, url=PUBLIC, events=["*"], actor=market.operator)
    fan_out(emit("booking.paid", vendor=market.vendor), emit("booking.paid", vendor=market.rival))
    return {
        "mine": mine,
        "theirs": theirs,
        "platform": platform,
        "my_delivery": WebhookDelivery.objects.get(endpoint=mine),
        "their_delivery": WebhookDelivery.objects.get(endpoint=theirs),
        "platform_delivery": WebhookDelivery.objects.filter(endpoint=platform).first(),
    }


def _vendor_routes(vendor_id: int, webhook_id: int, delivery_id: int) -> list[tuple[str, str, Any]]:
    base = f"/vendors/{vendor_id}/webhooks"
    one = f"{base}/{webhook_id}"
    return [
        ("post", base, {"url": PUBLIC, "events": ["*"]}),
        ("get", base, None),
        ("get", one, None),
        ("patch", one, {"enabled": False}),
        ("delete", one, None),
        ("post", f"{one}/rotate-secret", None),
        ("get", f"{one}/deliveries", None),
        ("post", f"{one}/deliveries/{delivery_id}/replay", None),
    ]


def _operator_routes(webhook_id: int, delivery_id: int) -> list[tuple[str, str, Any]]:
    one = f"/operator/webhooks/{webhook_id}"
    return [
        ("post", "/operator/webhooks", {"url": PUBLIC, "events": ["*"]}),
        ("get", "/operator/webhooks", None),
        ("get", one, None),
        ("patch", one, {"enabled": False}),
        ("delete", one, None),
        ("post", f"{one}/rotate-secret", None),
        ("get", f"{one}/deliveries", None),
        ("post", f"{one}/deliveries/{delivery_id}/replay", None),
    ]


def _call(user: Any, method: str, path: str, body: Any) -> Any:
    api = api_as(user)
    if method in ("get", "delete"):
        return getattr(api, method)(path)
    return getattr(api, method)(path, body)


def _snapshot() -> list[Any]:
    return [
        list(WebhookEndpoint.objects.order_by("id").values()),
        list(WebhookDelivery.objects.order_by("id").values()),
        AuditLog.objects.count(),
    ]


def _every(user: Any, routes: list[tuple[str, str, Any]], status: int, code: str) -> None:
    before = _snapshot()
    for method, path, body in routes:
        assert_problem(_call(user, method, path, body), status, code)
    assert _snapshot() == before


def test_another_vendors_owner_gets_404_on_every_route(
    market: Market, hooks: dict[str, Any]
) -> None:
    routes = _vendor_routes(market.vendor.pk, hooks["mine"].pk, hooks["my_delivery"].pk)
    _every(market.rival_owner, routes, 404, "not_found")


def test_an_owner_gets_404_for_another_vendors_endpoint_through_their_own_vendor(
    market: Market, hooks: dict[str, Any]
) -> None:
    # The rival's endpoint and delivery ids under the owner's own vendor path
    routes = _vendor_routes(market.vendor.pk, hooks["theirs"].pk, hooks["their_delivery"].pk)[2:]
    _every(market.owner, routes, 404, "not_found")
    # The operators' endpoint under the vendor's path
    routes = _vendor_routes(market.vendor.pk, hooks["platform"].pk, hooks["platform_delivery"].pk)
    _every(market.owner, routes[2:], 404, "not_found")
    # Their own endpoint with the rival's delivery id
    replay = f"/vendors/{market.vendor.pk}/webhooks/{hooks['mine'].pk}/deliveries/"
    replay += f"{hooks['their_delivery'].pk}/replay"
    _every(market.owner, [("post", replay, None)], 404, "not_found")


def test_plain_staff_get_403_on_every_route(market: Market, hooks: dict[str, Any]) -> None:
    routes = _vendor_routes(market.vendor.pk, hooks["mine"].pk, hooks["my_delivery"].pk)
    _every(market.staff, routes, 403, "forbidden")


def test_a_customer_gets_404_on_vendor_routes_and_403_on_operator_routes(
    market: Market, hooks: dict[str, Any]
) -> None:
    _every(
        market.customer,
        _vendor_routes(market.vendor.pk, hooks["mine"].pk, hooks["my_delivery"].pk),
        404,
        "not_found",
    )
    _every(
        market.customer,
        _operator_routes(hooks["platform"].pk, hooks["platform_delivery"].pk),
        403,
        "forbidden",
    )


def test_vendor_people_get_403_on_the_operator_routes(
    market: Market, hooks: dict[str, Any]
) -> None:
    routes = _operator_routes(hooks["platform"].pk, hooks["platform_delivery"].pk)
    _every(market.owner, routes, 403, "forbidden")


def test_operators_reach_no_vendor_endpoint_through_their_routes(
    market: Market, hooks: dict[str, Any]
) -> None:
    routes = _operator_routes(hooks["mine"].pk, hooks["my_delivery"].pk)[2:]
    _every(market.operator, routes, 404, "not_found")
    # ...and, not being its staff, none through the vendor's routes either
    routes = _vendor_routes(market.vendor.pk, hooks["mine"].pk, hooks["my_delivery"].pk)
    _every(market.operator, routes, 404, "not_found")


def test_without_a_token_every_route_is_401(
    anon: Any, market: Market, hooks: dict[str, Any]
) -> None:
    before = _snapshot()
    routes = _vendor_routes(market.vendor.pk, hooks["mine"].pk, hooks["my_delivery"].pk)
    routes += _operator_routes(hooks["platform"].pk, hooks["platform_delivery"].pk)
    for method, path, body in routes:
        response = (
            getattr(anon, method)(path) if body is None else getattr(anon, method)(path, body)
        )
        assert_problem(response, 401, "not_authenticated")
    assert _snapshot() == before
