"""/vendor/orders/: the list, one order, and accept / ship / deliver / cancel through the
fulfilment services — audit rows, refunds, restock, isolation and bad input."""

from __future__ import annotations

from typing import Any

import pytest

from agora.core.models import AuditLog
from agora.orders.models import VendorOrder
from agora.payments.models import Refund
from tests.factories import ProductFactory
from tests.web.vendor_ops.conftest import Shop
from tests.web.vendor_ops.helpers import actions, html, last_audit, text

pytestmark = pytest.mark.django_db


def _status(order: VendorOrder) -> str:
    order.refresh_from_db()
    return order.status


def test_signed_out_and_customers_cannot_open_orders(
    shop: Shop, client: Any, client_as: Any
) -> None:
    order = shop.paid_order()
    response = client.get(f"/vendor/orders/{order.pk}/")
    assert response.status_code == 302
    assert response["Location"] == f"/login/?next=/vendor/orders/{order.pk}/"
    customer = client_as(shop.customer)
    assert customer.get("/vendor/orders/").status_code == 403
    assert customer.post(f"/vendor/orders/{order.pk}/accept/").status_code == 403
    assert _status(order) == "paid"


def test_another_vendors_order_is_not_found_and_unchanged(shop: Shop, client_as: Any) -> None:
    theirs = ProductFactory(vendor=shop.other_vendor, title="Tyre", stock=3)
    order = shop.paid_order(product=theirs, quantity=1)
    audit_rows = AuditLog.objects.count()
    client = client_as(shop.owner)

    assert client.get(f"/vendor/orders/{order.pk}/").status_code == 404
    for action, data in (
        ("accept", {}),
        ("ship", {"carrier": "DPD", "tracking_number": "X1"}),
        ("deliver", {}),
        ("cancel", {}),
    ):
        assert client.post(f"/vendor/orders/{order.pk}/{action}/", data).status_code == 404
    assert _status(order) == "paid"
    assert AuditLog.objects.count() == audit_rows
    assert f"/vendor/orders/{order.pk}/" not in html(client.get("/vendor/orders/"))


def test_the_list_filters_by_status(shop: Shop, client_as: Any) -> None:
    paid = shop.paid_order()
    accepted = shop.paid_order(quantity=1)
    client = client_as(shop.staff)
    client.post(f"/vendor/orders/{accepted.pk}/accept/")

    page = text(client.get("/vendor/orders/"))
    assert f"#{paid.pk} 5 Jan 2026 08:00 Alice Buyer 2 × Wiper blades 25.98 GBP Paid —" in page
    assert (
        f"#{accepted.pk} 5 Jan 2026 08:00 Alice Buyer 1 × Wiper blades 12.99 GBP Accepted" in page
    )

    only = html(client.get("/vendor/orders/?status=accepted"))
    assert f"/vendor/orders/{accepted.pk}/" in only
    assert f"/vendor/orders/{paid.pk}/" not in only

    bad = client.get("/vendor/orders/?status=lost")
    assert bad.status_code == 422
    assert "Unknown status 'lost'" in text(bad)


def test_the_list_keeps_its_query_count_flat(
    shop: Shop, client_as: Any, django_assert_max_num_queries: Any
) -> None:
    for _ in range(6):
        shop.paid_order(quantity=1)
    client = client_as(shop.staff)
    client.get("/vendor/orders/")

    # + 1: the header's notification bell (one COUNT of unread notifications)
    with django_assert_max_num_queries(11 + 1):
        response = client.get("/vendor/orders/")
    assert text(response).count("1 × Wiper blades") == 6


def test_the_detail_shows_lines_address_and_moves(shop: Shop, client_as: Any) -> None:
    order = shop.paid_order()

    response = client_as(shop.staff).get(f"/vendor/orders/{order.pk}/")

    page = text(response)
    assert f"Order #{order.pk}" in page
    assert "Status: Paid" in page
    assert "Wiper blades 2 12.99 GBP 25.98 GBP" in page
    assert "Total 25.98 GBP" in page
    assert "Alice Buyer 1 High Street London N1 1AA GB" in page
    body = html(response)
    assert f'action="/vendor/orders/{order.pk}/accept/"' in body
    assert f'action="/vendor/orders/{order.pk}/cancel/"' in body
    assert f'action="/vendor/orders/{order.pk}/ship/"' not in body


def test_accept_ship_and_deliver_with_tracking_and_audit(shop: Shop, client_as: Any) -> None:
    order = shop.paid_order()
    client = client_as(shop.staff)

    assert client.post(f"/vendor/orders/{order.pk}/accept/").status_code == 302
    assert _status(order) == "accepted"
    detail = client.get(f"/vendor/orders/{order.pk}/")
    assert "Order accepted." in text(detail)
    assert '<label for="id_carrier">Carrier</label>' in html(detail)

    response = client.post(
        f"/vendor/orders/{order.pk}/ship/", {"carrier": "Royal Mail", "tracking_number": "RM123GB"}
    )
    assert response.status_code == 302
    assert _status(order) == "shipped"
    assert (order.carrier, order.tracking_number) == ("Royal Mail", "RM123GB")
    entry = last_audit(order)
    assert entry.action == "order.shipped"
    assert entry.actor_id == shop.staff.pk
    assert entry.data["tracking_number"] == "RM123GB"
    assert "Tracking: Royal Mail RM123GB" in text(client.get(f"/vendor/orders/{order.pk}/"))

    client.post(f"/vendor/orders/{order.pk}/deliver/")
    assert _status(order) == "delivered"
    assert actions(order)[-3:] == ["order.accepted", "order.shipped", "order.delivered"]


def test_shipping_without_a_tracking_number_is_refused_on_the_form(
    shop: Shop, client_as: Any
) -> None:
    order = shop.paid_order()
    client = client_as(shop.staff)
    client.post(f"/vendor/orders/{order.pk}/accept/")

    response = client.post(
        f"/vendor/orders/{order.pk}/ship/", {"carrier": "DPD", "tracking_number": ""}
    )

    assert response.status_code == 422
    page = text(response)
    assert "Please correct the fields below." in page
    assert "This field is required." in page
    assert 'value="DPD"' in html(response)
    assert _status(order) == "accepted"
    assert order.tracking_number == ""


def test_shipping_before_accepting_is_a_clear_refusal(shop: Shop, client_as: Any) -> None:
    order = shop.paid_order()
    audit_rows = AuditLog.objects.count()

    response = client_as(shop.staff).post(
        f"/vendor/orders/{order.pk}/ship/", {"carrier": "DPD", "tracking_number": "X1"}
    )

    assert response.status_code == 409
    assert "cannot move from 'paid' to 'shipped'." in text(response)
    assert _status(order) == "paid"
    assert AuditLog.objects.count() == audit_rows


def test_the_vendor_cancels_with_a_refund_and_restock(shop: Shop, client_as: Any) -> None:
    order = shop.paid_order()
    shop.product.refresh_from_db()
    stock_before = shop.product.stock

    client_as(shop.owner).post(f"/vendor/orders/{order.pk}/cancel/", {"reason": "Out of stock"})

    assert _status(order) == "cancelled"
    assert last_audit(order).data["reason"] == "Out of stock"
    assert Refund.objects.get().amount == order.total_amount
    shop.product.refresh_from_db()
    assert shop.product.stock == stock_before + 2


def test_htmx_gets_the_order_card_back(shop: Shop, client_as: Any) -> None:
    order = shop.paid_order()

    response = client_as(shop.staff).post(
        f"/vendor/orders/{order.pk}/accept/", HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 200
    body = html(response)
    assert body.strip().startswith("<section")
    assert "Order accepted." in body
    assert f'action="/vendor/orders/{order.pk}/ship/"' in body
    assert _status(order) == "accepted"
