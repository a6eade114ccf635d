"""Multi-vendor checkout over HTTP: one payment, one order per vendor with its own shipping,
stock reserved all-or-nothing until paid or expired (ARCHITECTURE.md invariant 2), prices
and input checked against the live catalogue, exactly-once with an Idempotency-Key, the
cart, and low-stock alerts."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.conf import settings

from agora.core import clock
from agora.orders.models import (
    Checkout,
    CheckoutStatus,
    LowStockAlert,
    OrderStatus,
    StockReservation,
    VendorOrder,
)
from agora.orders.services import cart as cart_services
from agora.orders.services import checkout as checkout_services
from agora.payments.models import Payment
from agora.payments.selectors import vendor_balance
from tests.conftest import assert_problem
from tests.factories import ProductFactory, VendorFactory
from tests.orders.helpers import (
    NOW,
    VISA,
    Market,
    buy,
    checkout_body,
    level,
    line,
    movements,
    ok,
    order_of,
    post_checkout,
    reservations,
    rows,
    vendor_share,
)

pytestmark = pytest.mark.django_db

# Vendor A: GB by weight (up to 1 kg £3.50, above £7.50), anywhere else a flat £4.95.
# Vendor B: £2.99 flat anywhere, free from £50.00.
RULES_A = [
    {"kind": "weight_band", "country": "GB", "max_weight_grams": 1000, "amount": 350},
    {"kind": "weight_band", "country": "GB", "min_weight_grams": 1001, "amount": 750},
    {"kind": "flat", "amount": 495},
]
RULES_B = [
    {"kind": "flat", "amount": 299},
    {"kind": "free_over", "threshold_amount": 5000},
]


def set_rules(market: Market) -> None:
    for client, vendor, rules in (
        (market.as_owner_a, market.vendor_a, RULES_A),
        (market.as_owner_b, market.vendor_b, RULES_B),
    ):
        response = client.put(f"/vendors/{vendor.pk}/shipping-rules", {"rules": rules})
        assert response.status_code == 204, response.content


def money(amount: int) -> dict[str, Any]:
    return {"amount": amount, "currency": "GBP"}


# --- two vendors, one payment -------------------------------------------------------------


def test_two_vendors_in_one_paid_checkout_make_two_orders_with_exact_totals_and_one_charge(
    market: Market,
) -> None:
    set_rules(market)

    body = ok(
        post_checkout(
            market.as_alice, line(market.widget, 2), line(market.gadget, 1), pay=VISA, key="c1"
        ),
        201,
    )

    # A: 2 × £12.99 = £25.98, 800 g in GB → £3.50; B: £24.50 < £50 → £2.99.
    assert body["status"] == "paid"
    assert body["total"] == money(2948 + 2749)
    by_vendor = {order["vendor_id"]: order for order in body["orders"]}
    assert set(by_vendor) == {market.vendor_a.pk, market.vendor_b.pk}
    order_a, order_b = by_vendor[market.vendor_a.pk], by_vendor[market.vendor_b.pk]
    assert (order_a["subtotal"], order_a["shipping"], order_a["total"]) == (
        money(2598),
        money(350),
        money(2948),
    )
    assert (order_b["subtotal"], order_b["shipping"], order_b["total"]) == (
        money(2450),
        money(299),
        money(2749),
    )
    assert order_a["status"] == order_b["status"] == "paid"
    assert order_a["items"] == [
        {
            "listing_id": market.widget.pk,
            "variant_id": None,
            "title": "Widget",
            "quantity": 2,
            "unit_price": money(1299),
            "total": money(2598),
        }
    ]
    assert [(i["title"], i["quantity"], i["total"]) for i in order_b["items"]] == [
        ("Gadget", 1, money(2450))
    ]

    # One charge for the whole checkout, one payment per vendor order.
    payments = list(Payment.objects.order_by("id"))
    assert [p.reference for p in payments] == [f"order:{order_a['id']}", f"order:{order_b['id']}"]
    assert {p.charge_group for p in payments} == {f"checkout:{body['id']}"}
    assert len({p.charge_id for p in payments}) == 1
    assert [(p.vendor_id, p.gross_amount, p.commission_amount, p.fee_amount) for p in payments] == [
        (market.vendor_a.pk, 2948, 88, 85),  # 3 % of 2948 = 88.44; 2.9 % = 85.49
        (market.vendor_b.pk, 2749, 82, 80),  # 82.47; 79.72
    ]
    assert vendor_balance(vendor_id=market.vendor_a.pk, currency="GBP").pending.amount == 2775
    assert vendor_balance(vendor_id=market.vendor_b.pk, currency="GBP").pending.amount == 2587
    assert vendor_share(2948) == 2775
    assert vendor_share(2749) == 2587

    # Stock left, and was sold straight through a consumed reservation.
    assert (level(market.widget), level(market.gadget)) == (8, 4)
    assert reservations(body["id"]) == sorted(
        [(market.widget.pk, None, 2, "consumed"), (market.gadget.pk, None, 1, "consumed")]
    )
    assert movements(market.widget) == [("reservation", -2, f"checkout:{body['id']}")]


@pytest.mark.parametrize(
    ("country", "widgets", "gadgets", "shipping_a", "shipping_b"),
    [
        ("GB", 2, 1, 350, 299),  # 800 g: GB's lower band; B: £24.50 < £50 → flat
        ("GB", 3, 0, 750, None),  # 1.2 kg: GB's upper band (no upper bound)
        ("FR", 1, 3, 495, 0),  # no FR rule: A's anywhere flat; B: £73.50 ≥ £50 → free
        ("US", 1, 2, 495, 299),  # B: £49.00, just under the threshold → flat
    ],
)
def test_shipping_per_vendor_follows_its_rules(
    market: Market,
    country: str,
    widgets: int,
    gadgets: int,
    shipping_a: int,
    shipping_b: int | None,
) -> None:
    set_rules(market)
    lines = [line(market.widget, widgets)] + ([line(market.gadget, gadgets)] if gadgets else [])

    body = ok(post_checkout(market.as_alice, *lines, country=country), 201)

    shipping = {order["vendor_id"]: order["shipping"]["amount"] for order in body["orders"]}
    expected = {market.vendor_a.pk: shipping_a}
    if shipping_b is not None:
        expected[market.vendor_b.pk] = shipping_b
    assert shipping == expected
    for order in body["orders"]:
        assert order["total"]["amount"] == order["subtotal"]["amount"] + order["shipping"]["amount"]
    assert body["total"]["amount"] == sum(o["total"]["amount"] for o in body["orders"])


def test_a_vendor_without_shipping_rules_ships_free_and_variants_have_their_own_price(
    market: Market,
) -> None:
    body = ok(post_checkout(market.as_alice, line(market.tyre_16, 1), line(market.tyre_17, 2)), 201)

    (order,) = body["orders"]
    assert [(i["variant_id"], i["title"], i["unit_price"]["amount"]) for i in order["items"]] == [
        (market.tyre_16.pk, 'Tyre — 16"', 4500),
        (market.tyre_17.pk, 'Tyre — 17"', 3999),  # no own price: the listing's
    ]
    assert (order["subtotal"], order["shipping"]) == (money(4500 + 2 * 3999), money(0))
    assert (level(market.tyre_16), level(market.tyre_17), level(market.tyre)) == (3, 1, 0)


# --- reservation, payment later, decline, expiry ------------------------------------------


def test_without_payment_method_stock_is_reserved_until_expires_at_then_paid_later(
    market: Market,
) -> None:
    body = ok(
        post_checkout(market.as_alice, line(market.widget, 3), line(market.gadget, 2), key="r1"),
        201,
    )

    assert body["status"] == "reserved"
    hold = timedelta(minutes=settings.AGORA_STOCK_HOLD_MINUTES)
    assert hold == timedelta(minutes=15)
    assert datetime.fromisoformat(body["expires_at"]) == NOW + hold
    assert {order["status"] for order in body["orders"]} == {"reserved"}
    assert (level(market.widget), level(market.gadget)) == (7, 3)
    assert reservations(body["id"]) == [
        (market.widget.pk, None, 3, "live"),
        (market.gadget.pk, None, 2, "live"),
    ]
    assert StockReservation.objects.get(listing=market.widget).expires_at == NOW + hold
    assert Payment.objects.count() == 0

    clock.advance(timedelta(minutes=14))
    paid = ok(
        market.as_alice.post(
            f"/checkout/{body['id']}/pay", {"payment_method": VISA}, idempotency_key="p1"
        )
    )

    assert paid["status"] == "paid"
    assert {order["status"] for order in paid["orders"]} == {"paid"}
    assert [r[3] for r in reservations(body["id"])] == ["consumed", "consumed"]
    assert (level(market.widget), level(market.gadget)) == (7, 3)  # taken once, at reservation
    assert Payment.objects.filter(charge_group=f"checkout:{body['id']}").count() == 2
    checkout = Checkout.objects.get(pk=body["id"])
    assert (checkout.status, checkout.paid_at) == (CheckoutStatus.PAID, NOW + timedelta(minutes=14))
    assert market.as_alice.get(f"/checkout/{body['id']}").json()["status"] == "paid"


@pytest.mark.parametrize(
    ("method", "code"),
    [
        ("pm_card_chargeDeclined", "card_declined"),
        ("pm_card_chargeDeclinedInsufficientFunds", "insufficient_funds"),
    ],
)
def test_a_declined_card_is_402_with_the_checkout_id_and_the_reservation_stays(
    market: Market, method: str, code: str
) -> None:
    problem = assert_problem(
        post_checkout(market.as_alice, line(market.widget, 2), pay=method, key="d1"), 402, code
    )

    checkout = Checkout.objects.get()
    assert problem["checkout_id"] == checkout.pk
    assert checkout.status == CheckoutStatus.RESERVED
    assert reservations(checkout) == [(market.widget.pk, None, 2, "live")]
    assert level(market.widget) == 8
    assert Payment.objects.count() == 0
    assert order_of(checkout, market.vendor_a).status == OrderStatus.RESERVED

    # The same request again replays the decision; paying with another card succeeds.
    again = post_checkout(market.as_alice, line(market.widget, 2), pay=method, key="d1")
    assert again.status_code == 402
    assert again["Idempotent-Replayed"] == "true"
    paid = ok(
        market.as_alice.post(
            f"/checkout/{checkout.pk}/pay", {"payment_method": VISA}, idempotency_key="d2"
        )
    )
    assert paid["status"] == "paid"
    assert level(market.widget) == 8
    assert Payment.objects.count() == 1


def test_a_declined_card_without_idempotency_key_also_keeps_the_reservation(
    market: Market,
) -> None:
    problem = assert_problem(
        post_checkout(market.as_alice, line(market.gadget, 1), pay="pm_card_chargeDeclined"),
        402,
        "card_declined",
    )

    assert Checkout.objects.get().pk == problem["checkout_id"]
    assert level(market.gadget) == 4


def test_an_unknown_payment_method_is_422_and_reserves_nothing(market: Market) -> None:
    """Bad input changes nothing (invariant 7) — with or without an Idempotency-Key; the
    client was never told a checkout id, so a reservation left behind would hold the stock
    for nobody."""
    before = rows()
    for key in ("u1", None):
        problem = assert_problem(
            post_checkout(market.as_alice, line(market.gadget, 2), pay="pm_bogus", key=key),
            422,
            "validation_error",
        )
        assert problem["errors"][0]["loc"] == ["body", "payment_method"]
    assert rows() == before
    assert level(market.gadget) == 5


def test_paying_after_expiry_is_409_checkout_expired(market: Market) -> None:
    body = ok(post_checkout(market.as_alice, line(market.widget, 1)), 201)

    clock.advance(timedelta(minutes=15))  # expires_at <= now: expired
    before = rows()
    problem = assert_problem(
        market.as_alice.post(
            f"/checkout/{body['id']}/pay", {"payment_method": VISA}, idempotency_key="late"
        ),
        409,
        "checkout_expired",
    )
    assert "expired" in problem["detail"]
    assert rows() == before

    # The same once the sweeper has expired it.
    assert checkout_services.expire_reservations() == 1
    assert_problem(
        market.as_alice.post(f"/checkout/{body['id']}/pay", {"payment_method": VISA}),
        409,
        "checkout_expired",
    )
    assert Payment.objects.count() == 0
    assert level(market.widget) == 10


def test_a_paid_checkout_cannot_be_paid_again(market: Market) -> None:
    checkout = buy(market.alice, (market.widget, 1))

    assert_problem(
        market.as_alice.post(f"/checkout/{checkout.pk}/pay", {"payment_method": VISA}),
        409,
        "invalid_transition",
    )
    assert Payment.objects.count() == 1


# --- all or nothing -----------------------------------------------------------------------


def test_out_of_stock_names_every_short_line_and_reserves_nothing(market: Market) -> None:
    before = rows()

    problem = assert_problem(
        post_checkout(
            market.as_alice,
            line(market.widget, 3),  # 10 there: enough
            line(market.gadget, 6),  # 5 there
            line(market.tyre_16, 5),  # 4 there
            pay=VISA,
            key="oos",
        ),
        409,
        "out_of_stock",
    )

    assert sorted(problem["lines"], key=lambda ln: ln["listing_id"]) == sorted(
        [
            {
                "listing_id": market.gadget.pk,
                "variant_id": None,
                "title": "Gadget",
                "requested": 6,
                "available": 5,
            },
            {
                "listing_id": market.tyre.pk,
                "variant_id": market.tyre_16.pk,
                "title": 'Tyre — 16"',
                "requested": 5,
                "available": 4,
            },
        ],
        key=lambda ln: ln["listing_id"],
    )
    after = rows()
    assert after == before  # no checkout, order, reservation, movement, payment or audit row
    assert (level(market.widget), level(market.gadget), level(market.tyre_16)) == (10, 5, 4)


def test_the_same_item_on_two_lines_counts_once_with_the_sum(market: Market) -> None:
    problem = assert_problem(
        post_checkout(market.as_alice, line(market.gadget, 3), line(market.gadget, 3)),
        409,
        "out_of_stock",
    )
    assert [(ln["requested"], ln["available"]) for ln in problem["lines"]] == [(6, 5)]

    body = ok(post_checkout(market.as_alice, line(market.gadget, 2), line(market.gadget, 3)), 201)
    assert [(i["quantity"], i["total"]["amount"]) for i in body["orders"][0]["items"]] == [
        (5, 5 * 2450)
    ]
    assert level(market.gadget) == 0


def test_prices_are_taken_from_the_catalogue_at_checkout(market: Market) -> None:
    ok(market.as_alice.put("/cart/items", {"listing_id": market.widget.pk, "quantity": 2}))
    assert market.as_alice.get("/cart").json()["items"][0]["unit_price"] == money(1299)

    ok(market.as_owner_a.patch(f"/listings/{market.widget.pk}", {"price": money(1499)}))
    body = ok(
        market.as_alice.post(
            "/cart/checkout", {"shipping_address": checkout_body()["shipping_address"]}
        ),
        201,
    )

    (order,) = body["orders"]
    assert order["items"][0]["unit_price"] == money(1499)
    assert order["subtotal"] == money(2998)
    assert VendorOrder.objects.get().subtotal_amount == 2998


# --- refusals: bad input changes nothing ------------------------------------------------


def _refusals(market: Market) -> list[tuple[str, dict[str, Any], list[Any]]]:
    aud_vendor = VendorFactory(currency="AUD")
    kangaroo = ProductFactory(vendor=aud_vendor, title="Boomerang", price_amount=1500)
    other_tyre = ProductFactory(vendor=market.vendor_a, title="Other tyre", stock=0)
    from tests.factories import ProductVariantFactory

    foreign_variant = ProductVariantFactory(listing=other_tyre, stock=3)
    return [
        (
            "variant required",
            checkout_body(line(market.tyre, 1)),
            ["body", "items", 0, "variant_id"],
        ),
        (
            "variant of another product",
            checkout_body(
                line(market.widget, 1),
                {"listing_id": market.tyre.pk, "variant_id": foreign_variant.pk, "quantity": 1},
            ),
            ["body", "items", 1, "variant_id"],
        ),
        (
            "variant on a plain product",
            checkout_body(
                {"listing_id": market.widget.pk, "variant_id": market.tyre_16.pk, "quantity": 1}
            ),
            ["body", "items", 0, "variant_id"],
        ),
        ("service", checkout_body(line(market.service, 1)), ["body", "items", 0, "listing_id"]),
        (
            "mixed currencies",
            checkout_body(line(market.widget, 1), line(kangaroo, 1)),
            ["body", "items"],
        ),
        (
            "unknown listing",
            checkout_body({"listing_id": 999_999, "quantity": 1}),
            ["body", "items", 0, "listing_id"],
        ),
        (
            "lower-case country",
            checkout_body(line(market.widget), country="gb"),
            ["body", "shipping_address", "country"],
        ),
        (
            "three-letter country",
            checkout_body(line(market.widget), country="GBR"),
            ["body", "shipping_address", "country"],
        ),
        (
            "digit in country",
            checkout_body(line(market.widget), country="G1"),
            ["body", "shipping_address", "country"],
        ),
        ("zero quantity", checkout_body(line(market.widget, 0)), ["body", "items", 0, "quantity"]),
        ("no items", checkout_body(), ["body", "items"]),
    ]


def test_bad_checkouts_are_422_with_the_field_and_change_nothing(market: Market) -> None:
    cases = _refusals(market)
    before = rows()
    for name, body, loc in cases:
        response = market.as_alice.post("/checkout", body, idempotency_key=f"bad-{name}")
        problem = assert_problem(response, 422, "validation_error")
        # Schema errors name the body parameter too (["body", "payload", ...]).
        locs = [[part for part in error["loc"] if part != "payload"] for error in problem["errors"]]
        assert loc in locs, (name, problem)
    assert rows() == before


def test_a_draft_product_or_a_suspended_vendors_product_cannot_be_bought(market: Market) -> None:
    ok(market.as_owner_a.patch(f"/listings/{market.widget.pk}", {"status": "draft"}))
    market.vendor_b.status = "suspended"
    market.vendor_b.save(update_fields=["status"])
    before = rows()

    for item in (market.widget, market.gadget):
        problem = assert_problem(
            post_checkout(market.as_alice, line(item)), 422, "validation_error"
        )
        assert problem["errors"][0]["loc"] == ["body", "items", 0, "listing_id"]
    assert rows() == before


def test_checkout_needs_a_signed_in_customer(market: Market, anon: Any) -> None:
    assert_problem(post_checkout(anon, line(market.widget)), 401, "not_authenticated")
    assert level(market.widget) == 10


# --- exactly once -----------------------------------------------------------------------


def test_the_same_idempotency_key_returns_the_same_checkout_and_takes_stock_once(
    market: Market,
) -> None:
    lines = (line(market.widget, 2), line(market.gadget, 1))
    first = post_checkout(market.as_alice, *lines, pay=VISA, key="same")
    second = post_checkout(market.as_alice, *lines, pay=VISA, key="same")

    assert first.status_code == second.status_code == 201
    assert second["Idempotent-Replayed"] == "true"
    assert second.json() == first.json()
    assert Checkout.objects.count() == 1
    assert (level(market.widget), level(market.gadget)) == (8, 4)
    assert Payment.objects.count() == 2
    assert len(movements(market.widget)) == 1

    reused = post_checkout(market.as_alice, line(market.widget, 3), pay=VISA, key="same")
    assert_problem(reused, 422, "idempotency_key_reused")
    assert level(market.widget) == 8

    # Another customer's identical key is their own.
    ok(post_checkout(market.as_bob, *lines, pay=VISA, key="same"), 201)
    assert Checkout.objects.count() == 2


def test_paying_twice_with_the_same_key_charges_once(market: Market) -> None:
    checkout = buy(market.alice, (market.widget, 1), pay=None)
    url = f"/checkout/{checkout.pk}/pay"

    first = market.as_alice.post(url, {"payment_method": VISA}, idempotency_key="pay-1")
    second = market.as_alice.post(url, {"payment_method": VISA}, idempotency_key="pay-1")

    assert first.status_code == second.status_code == 200
    assert second.json() == first.json()
    assert Payment.objects.count() == 1


# --- the cart ---------------------------------------------------------------------------


def test_the_cart_sets_quantities_and_checking_it_out_empties_it(market: Market) -> None:
    client = market.as_alice
    ok(client.put("/cart/items", {"listing_id": market.widget.pk, "quantity": 2}))
    ok(client.put("/cart/items", {"listing_id": market.widget.pk, "quantity": 3}))  # set, not add
    ok(
        client.put(
            "/cart/items",
            {"listing_id": market.tyre.pk, "variant_id": market.tyre_16.pk, "quantity": 1},
        )
    )
    ok(client.put("/cart/items", {"listing_id": market.gadget.pk, "quantity": 1}))
    cart = ok(client.put("/cart/items", {"listing_id": market.gadget.pk, "quantity": 0}))

    assert [(i["title"], i["quantity"], i["unit_price"]["amount"]) for i in cart["items"]] == [
        ("Widget", 3, 1299),
        ('Tyre — 16"', 1, 4500),
    ]
    assert ok(client.get("/cart")) == cart
    assert ok(market.as_bob.get("/cart")) == {"items": []}  # each customer their own

    body = ok(
        client.post(
            "/cart/checkout",
            {"shipping_address": checkout_body()["shipping_address"], "payment_method": VISA},
            idempotency_key="cart-1",
        ),
        201,
    )

    assert body["status"] == "paid"
    (order,) = body["orders"]
    assert [(i["listing_id"], i["variant_id"], i["quantity"]) for i in order["items"]] == [
        (market.widget.pk, None, 3),
        (market.tyre.pk, market.tyre_16.pk, 1),
    ]
    assert ok(client.get("/cart")) == {"items": []}
    assert (level(market.widget), level(market.tyre_16)) == (7, 3)


def test_the_cart_refuses_what_checkout_would(market: Market) -> None:
    before = rows()
    for payload in (
        {"listing_id": market.tyre.pk, "quantity": 1},  # variant required
        {"listing_id": market.widget.pk, "variant_id": market.tyre_16.pk, "quantity": 1},
        {"listing_id": market.widget.pk, "quantity": 1000},
    ):
        assert_problem(market.as_alice.put("/cart/items", payload), 422, "validation_error")
    for listing in (market.service, 999_999):  # not a product on sale
        listing_id = listing if isinstance(listing, int) else listing.pk
        assert_problem(
            market.as_alice.put("/cart/items", {"listing_id": listing_id, "quantity": 1}),
            404,
            "not_found",
        )
    assert ok(market.as_alice.get("/cart")) == {"items": []}
    after = rows()
    # GET /cart creates the customer's (empty) cart; nothing else changed.
    assert {k: v for k, v in after.items() if k != "orders.Cart"} == {
        k: v for k, v in before.items() if k != "orders.Cart"
    }


def test_an_empty_cart_cannot_be_checked_out(market: Market) -> None:
    assert_problem(
        market.as_alice.post(
            "/cart/checkout", {"shipping_address": checkout_body()["shipping_address"]}
        ),
        422,
        "validation_error",
    )
    assert Checkout.objects.count() == 0


def test_a_session_cart_merges_into_the_customers_cart_at_sign_in(market: Market) -> None:
    session = cart_services.cart_for_session(session_key="anon-session-1")
    cart_services.cart_set_item(
        cart=session, listing_id=market.widget.pk, variant_id=None, quantity=2
    )
    cart_services.cart_set_item(
        cart=session, listing_id=market.tyre.pk, variant_id=market.tyre_17.pk, quantity=1
    )
    ok(market.as_alice.put("/cart/items", {"listing_id": market.widget.pk, "quantity": 1}))

    cart_services.cart_merge(session_key="anon-session-1", user=market.alice)

    items = ok(market.as_alice.get("/cart"))["items"]
    assert [(i["listing_id"], i["variant_id"], i["quantity"]) for i in items] == [
        (market.widget.pk, None, 3),  # quantities add up
        (market.tyre.pk, market.tyre_17.pk, 1),
    ]
    assert not cart_services.Cart.objects.filter(session_key="anon-session-1").exists()
    # Merging again (a second sign-in) is harmless.
    cart_services.cart_merge(session_key="anon-session-1", user=market.alice)
    assert len(ok(market.as_alice.get("/cart"))["items"]) == 2


# --- low stock --------------------------------------------------------------------------


def test_low_stock_alerts_open_at_the_threshold_and_restock_resolves_them(market: Market) -> None:
    low_stock = f"/vendors/{market.vendor_a.pk}/low-stock"
    buy(market.alice, (market.widget, 6))  # 10 → 4: above the threshold of 3
    assert ok(market.as_owner_a.get(low_stock)) == []

    buy(market.alice, (market.widget, 1), key="k2")  # 4 → 3: at the threshold
    buy(market.bob, (market.widget, 2), key="k3")  # 3 → 1: still the same open alert

    (alert,) = ok(market.as_staff_a.get(low_stock))
    assert (alert["listing_id"], alert["variant_id"], alert["title"]) == (
        market.widget.pk,
        None,
        "Widget",
    )
    assert (alert["stock"], alert["threshold"]) == (3, 3)
    assert LowStockAlert.objects.count() == 1

    restocked = ok(
        market.as_owner_a.post(f"/listings/{market.widget.pk}/restock", {"quantity": 20})
    )
    assert restocked == {"listing_id": market.widget.pk, "variant_id": None, "stock": 21}
    assert ok(market.as_staff_a.get(low_stock)) == []
    assert LowStockAlert.objects.get().resolved_at == NOW
    assert movements(market.widget)[-1] == ("restock", 20, f"user:{market.owner_a.pk}")


def test_a_variant_has_its_own_low_stock_alert_and_restock(market: Market) -> None:
    market.tyre_16.low_stock_threshold = 2
    market.tyre_16.save(update_fields=["low_stock_threshold"])
    buy(market.alice, (market.tyre_16, 2), (market.tyre_17, 3))  # 4 → 2; 17" has no threshold

    (alert,) = ok(market.as_owner_a.get(f"/vendors/{market.vendor_a.pk}/low-stock"))
    assert (alert["variant_id"], alert["stock"], alert["threshold"]) == (market.tyre_16.pk, 2, 2)

    url = f"/listings/{market.tyre.pk}/restock"
    assert_problem(market.as_owner_a.post(url, {"quantity": 5}), 422, "validation_error")
    restocked = ok(market.as_owner_a.post(url, {"variant_id": market.tyre_16.pk, "quantity": 1}))
    assert restocked["stock"] == 3
    assert LowStockAlert.objects.get().resolved_at == NOW
    assert level(market.tyre) == 0  # the listing row itself holds no stock of a variant


def test_a_declined_cart_checkout_empties_the_cart_into_the_reserved_checkout(
    market: Market,
) -> None:
    """A retry must pay the checkout the 402 names, not reserve the same units again."""
    client = market.as_alice
    ok(client.put("/cart/items", {"listing_id": market.widget.pk, "quantity": 4}))

    declined = client.post(
        "/cart/checkout",
        {
            "shipping_address": checkout_body()["shipping_address"],
            "payment_method": "pm_card_chargeDeclined",
        },
        idempotency_key="cart-declined",
    )

    problem = assert_problem(declined, 402, "card_declined")
    assert level(market.widget) == 6  # reserved in the checkout the problem names
    assert ok(client.get("/cart")) == {"items": []}
    paid = ok(
        client.post(f"/checkout/{problem['checkout_id']}/pay", {"payment_method": VISA}),
    )
    assert paid["status"] == "paid"
    assert level(market.widget) == 6
