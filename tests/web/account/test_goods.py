"""Goods through the customer pages: one cart for several vendors, checkout paying once
with the sandbox card, orders split per vendor with stock reserved, and the refusals
(declined card, out of stock) shown on the page."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from agora.catalog.models import Listing, ProductVariant
from agora.orders.models import (
    CartItem,
    Checkout,
    StockReservation,
    VendorOrder,
)
from agora.orders.services import fulfilment
from agora.payments.models import JournalTransaction, Payment, Refund
from tests.web.account.conftest import World
from tests.web.account.helpers import form_token, html

pytestmark = pytest.mark.django_db

ADDRESS = {
    "name": "Alice Buyer",
    "line1": "1 High Street",
    "line2": "",
    "city": "London",
    "postcode": "N1 1AA",
    "country": "GB",
}


def add(client: Client, listing: Listing, quantity: int = 1, variant: Any = None) -> Any:
    data = {"listing_id": listing.pk, "quantity": quantity}
    if variant is not None:
        data["variant_id"] = variant.pk
    return client.post("/account/cart/add/", data)


def check_out(client: Client, method: str = "pm_card_visa") -> Any:
    page = client.get("/account/checkout/")
    assert page.status_code == 200, html(page)
    return client.post(
        "/account/checkout/", {**ADDRESS, "payment_method": method, "token": form_token(page)}
    )


def fill_cart(world: World, client: Client) -> None:
    add(client, world.widget, 2)
    add(client, world.tyre, 1, world.tyre_16)
    add(client, world.gadget, 1)


def test_adding_to_the_cart_adds_up(world: World, alice: Client) -> None:
    first = add(alice, world.widget, 2)
    add(alice, world.widget, 3)

    assert first.status_code == 302
    assert first["Location"] == "/account/cart/"
    item = CartItem.objects.get(cart__user=world.alice)
    assert (item.listing_id, item.quantity) == (world.widget.pk, 5)


def test_a_signed_out_visitor_signs_in_and_confirms_the_item(
    world: World, client: Client, alice: Client
) -> None:
    response = client.post("/account/cart/add/", {"listing_id": world.widget.pk, "quantity": 1})
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=/account/cart/add/")

    page = alice.get(f"/account/cart/add/?listing_id={world.widget.pk}&quantity=2")

    assert page.status_code == 200
    assert "Widget" in html(page)
    assert 'value="2"' in html(page)
    assert not CartItem.objects.exists()  # nothing added until confirmed


def test_adding_needs_a_variant_when_the_product_has_them(world: World, alice: Client) -> None:
    response = add(alice, world.tyre, 1)

    assert response.status_code == 422
    assert "choose one of" in html(response)
    assert not CartItem.objects.exists()


def test_adding_something_not_on_sale_is_refused(world: World, alice: Client) -> None:
    response = add(alice, world.service, 1)

    assert response.status_code == 404
    assert "not on sale" in html(response)
    assert not CartItem.objects.exists()


def test_the_cart_groups_by_vendor_with_shipping_and_totals(
    world: World, alice: Client, django_assert_max_num_queries: Any
) -> None:
    fill_cart(world, alice)

    # + 1: the header's notification bell (one COUNT of unread notifications)
    with django_assert_max_num_queries(8 + 1):
        response = alice.get("/account/cart/")

    page = html(response)
    assert "From Anvil Parts" in page
    assert "From Bolt Supplies" in page
    assert "Tyre — 16&quot;" in page
    # Anvil: 2 × 12.99 + 45.00 = 70.98, free shipping; Bolt: 24.50 + 4.99 flat shipping.
    assert 'Total from Anvil Parts</th><td class="amount" colspan="2">70.98 GBP' in page
    assert 'Total from Bolt Supplies</th><td class="amount" colspan="2">29.49 GBP' in page
    assert "<strong>100.47 GBP</strong>" in page


def test_quantities_change_and_lines_go(world: World, alice: Client) -> None:
    fill_cart(world, alice)

    alice.post("/account/cart/update/", {"listing_id": world.widget.pk, "quantity": 4})
    alice.post("/account/cart/update/", {"listing_id": world.gadget.pk, "quantity": 0})

    items = {(i.listing_id, i.quantity) for i in CartItem.objects.filter(cart__user=world.alice)}
    assert items == {(world.widget.pk, 4), (world.tyre.pk, 1)}
    assert "From Bolt Supplies" not in html(alice.get("/account/cart/"))


def test_checkout_pays_once_for_two_vendors(world: World, alice: Client) -> None:
    fill_cart(world, alice)

    response = check_out(alice)

    assert response.status_code == 302
    checkout = Checkout.objects.get(customer=world.alice)
    assert response["Location"] == f"/account/checkouts/{checkout.pk}/"
    assert checkout.status == "paid"
    assert checkout.total_amount == 10047
    orders = {o.vendor_id: o for o in VendorOrder.objects.filter(checkout=checkout)}
    assert set(orders) == {world.anvil.pk, world.bolt.pk}
    assert {o.status for o in orders.values()} == {"paid"}
    assert (orders[world.anvil.pk].total_amount, orders[world.bolt.pk].total_amount) == (
        7098,
        2949,
    )
    assert orders[world.bolt.pk].shipping_amount == 499
    payments = Payment.objects.filter(charge_group=checkout.reference)
    assert {p.reference: p.gross_amount for p in payments} == {
        orders[world.anvil.pk].reference: 7098,
        orders[world.bolt.pk].reference: 2949,
    }
    assert len({p.charge_id for p in payments}) == 1  # one charge
    assert JournalTransaction.objects.filter(
        reference__in=[o.reference for o in orders.values()], kind="capture"
    ).exists()
    # Stock left the shelves, and the cart is empty.
    world.widget.refresh_from_db()
    assert world.widget.stock == 8
    assert ProductVariant.objects.get(pk=world.tyre_16.pk).stock == 3
    assert not CartItem.objects.filter(cart__user=world.alice).exists()

    page = html(alice.get(response["Location"]))
    assert "Thank you for your order" in page
    assert "Paid 100.47 GBP in one payment" in page
    assert "from Anvil Parts" in page
    assert "from Bolt Supplies" in page


def test_a_double_submitted_checkout_charges_once(world: World, alice: Client) -> None:
    fill_cart(world, alice)
    page = alice.get("/account/checkout/")
    form = {**ADDRESS, "payment_method": "pm_card_visa", "token": form_token(page)}

    first = alice.post("/account/checkout/", form)
    second = alice.post("/account/checkout/", form)

    assert first["Location"] == second["Location"]
    assert Checkout.objects.count() == 1


def test_a_declined_card_keeps_the_stock_reserved_and_pays_again(
    world: World, alice: Client
) -> None:
    fill_cart(world, alice)

    response = check_out(alice, "pm_card_chargeDeclined")

    checkout = Checkout.objects.get(customer=world.alice)
    assert response["Location"] == f"/account/checkouts/{checkout.pk}/pay/"
    assert checkout.status == "reserved"
    assert set(VendorOrder.objects.values_list("status", flat=True)) == {"reserved"}
    assert StockReservation.objects.filter(checkout=checkout, status="live").count() == 3
    world.widget.refresh_from_db()
    assert world.widget.stock == 8  # reserved
    assert not Payment.objects.exists()
    pay_page = alice.get(response["Location"])
    assert "Your card was declined" in html(pay_page)
    assert "Your items are reserved until" in html(pay_page)

    paid = alice.post(
        response["Location"], {"payment_method": "pm_card_visa", "token": form_token(pay_page)}
    )

    assert paid["Location"] == f"/account/checkouts/{checkout.pk}/"
    checkout.refresh_from_db()
    assert checkout.status == "paid"
    assert Payment.objects.filter(charge_group=checkout.reference).count() == 2


def test_out_of_stock_is_refused_on_the_page_and_reserves_nothing(
    world: World, alice: Client
) -> None:
    add(alice, world.gadget, 6)  # 5 in stock

    response = check_out(alice)

    assert response.status_code == 409
    page = html(response)
    assert "Not enough stock" in page
    assert "Gadget: you asked for 6, 5 available." in page
    assert not Checkout.objects.exists()
    assert not StockReservation.objects.exists()
    world.gadget.refresh_from_db()
    assert world.gadget.stock == 5
    assert CartItem.objects.filter(cart__user=world.alice).exists()


def test_checkout_validates_the_address(world: World, alice: Client) -> None:
    add(alice, world.widget)
    page = alice.get("/account/checkout/")

    response = alice.post(
        "/account/checkout/",
        {**ADDRESS, "postcode": "", "payment_method": "pm_card_visa", "token": form_token(page)},
    )

    assert response.status_code == 400
    assert "This field is required." in html(response)
    assert not Checkout.objects.exists()


def test_an_empty_cart_has_nothing_to_check_out(world: World, alice: Client) -> None:
    response = alice.get("/account/checkout/")

    assert response.status_code == 302
    assert response["Location"] == "/account/cart/"


def test_order_detail_shows_status_and_tracking(
    world: World, alice: Client, django_assert_max_num_queries: Any
) -> None:
    fill_cart(world, alice)
    check_out(alice)
    order = VendorOrder.objects.get(vendor=world.anvil)
    fulfilment.order_accept(actor=world.anvil.memberships.first().user, order=order)
    fulfilment.order_ship(
        actor=world.anvil.memberships.first().user,
        order=order,
        carrier="Royal Mail",
        tracking_number="RM123456789GB",
    )

    # + 1: the header's notification bell (one COUNT of unread notifications)
    with django_assert_max_num_queries(12 + 1):
        response = alice.get(f"/account/orders/{order.pk}/")

    page = html(response)
    assert f"Order {order.pk} from Anvil Parts" in page
    assert "Royal Mail <strong>RM123456789GB</strong>" in page
    assert "Shipped" in page
    assert "by the vendor" in page
    other = VendorOrder.objects.get(vendor=world.bolt)
    assert "Paid — waiting for the vendor" in html(alice.get(f"/account/orders/{other.pk}/"))


def test_the_customer_confirms_delivery(world: World, alice: Client) -> None:
    add(alice, world.widget)
    check_out(alice)
    order = VendorOrder.objects.get()
    staff = world.anvil.memberships.first().user
    fulfilment.order_accept(actor=staff, order=order)
    fulfilment.order_ship(actor=staff, order=order, carrier="DPD", tracking_number="1")
    fulfilment.order_deliver(actor=staff, order=order)

    alice.post(f"/account/orders/{order.pk}/confirm/")

    order.refresh_from_db()
    assert order.status == "completed"


def test_the_customer_cancels_a_paid_order_before_acceptance(world: World, alice: Client) -> None:
    add(alice, world.widget, 2)
    check_out(alice)
    order = VendorOrder.objects.get()

    response = alice.post(f"/account/orders/{order.pk}/cancel/")

    order.refresh_from_db()
    assert order.status == "cancelled"
    assert Refund.objects.get(payment__reference=order.reference).amount == 2598
    world.widget.refresh_from_db()
    assert world.widget.stock == 10
    assert "You will be refunded in full." in html(alice.get(response["Location"]))


def test_an_accepted_order_cannot_be_cancelled_by_the_customer(world: World, alice: Client) -> None:
    add(alice, world.widget)
    check_out(alice)
    order = VendorOrder.objects.get()
    fulfilment.order_accept(actor=world.anvil.memberships.first().user, order=order)

    response = alice.post(f"/account/orders/{order.pk}/cancel/")

    assert "ask them to cancel it" in html(alice.get(response["Location"]))
    order.refresh_from_db()
    assert order.status == "accepted"


def test_the_receipt_covers_every_vendor(world: World, alice: Client) -> None:
    fill_cart(world, alice)
    check_out(alice)
    checkout = Checkout.objects.get()

    page = html(alice.get(f"/account/checkouts/{checkout.pk}/receipt/"))

    assert "Anvil Parts (order" in page
    assert "Bolt Supplies (order" in page
    assert 'Total paid</th><td class="amount">100.47 GBP' in page


@pytest.mark.parametrize(
    "path",
    [
        "/account/checkouts/{checkout}/",
        "/account/checkouts/{checkout}/pay/",
        "/account/checkouts/{checkout}/receipt/",
        "/account/orders/{order}/",
    ],
)
def test_another_customers_orders_are_404(
    world: World, alice: Client, bob: Client, path: str
) -> None:
    add(alice, world.widget)
    check_out(alice, "pm_card_chargeDeclined")
    checkout = Checkout.objects.get()
    order = VendorOrder.objects.get()
    url = path.format(checkout=checkout.pk, order=order.pk)

    assert bob.get(url).status_code == 404


@pytest.mark.parametrize("action", ["confirm", "cancel"])
def test_another_customer_cannot_move_an_order(
    world: World, alice: Client, bob: Client, action: str
) -> None:
    add(alice, world.widget)
    check_out(alice)
    order = VendorOrder.objects.get()

    assert bob.post(f"/account/orders/{order.pk}/{action}/").status_code == 404
    order.refresh_from_db()
    assert order.status == "paid"
    assert not Refund.objects.exists()


def test_a_cart_item_no_longer_on_sale_blocks_checkout_until_removed(
    world: World, alice: Client
) -> None:
    add(alice, world.widget)
    world.widget.status = "archived"
    world.widget.save()

    page = html(alice.get("/account/cart/"))
    assert "No longer on sale" in page
    assert "/account/checkout/" not in page

    alice.post("/account/cart/update/", {"listing_id": world.widget.pk, "quantity": 0})
    assert not CartItem.objects.exists()
