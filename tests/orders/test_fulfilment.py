"""A vendor order after checkout: accept → ship with tracking → deliver → confirmed →
completed → escrow released; cancellation with refund and restock; escalation when the
vendor does not act; automatic completion; expiry of reservations; order lists with a
bounded number of queries. Every move goes through the audited state machine
(ARCHITECTURE.md invariant 6)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.core import mail
from django.db.models import Sum

from agora.core import clock
from agora.core.audit import audit_trail
from agora.notifications import delivery
from agora.orders.models import (
    Checkout,
    CheckoutStatus,
    OrderStatus,
    StockReservation,
    VendorOrder,
)
from agora.orders.services import checkout as checkout_services
from agora.orders.services import fulfilment
from agora.orders.states import ORDER_LIFECYCLE
from agora.payments.models import Payment, Refund
from agora.payments.selectors import vendor_balance
from tests.conftest import ApiClient, assert_problem
from tests.factories import ProductFactory, UserFactory
from tests.orders.helpers import (
    NOW,
    Market,
    buy,
    client_for,
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

SHIP = {"carrier": "Royal Mail", "tracking_number": "RM123456789GB"}


def balance(market: Market, vendor: Any = None) -> tuple[int, int]:
    found = vendor_balance(vendor_id=(vendor or market.vendor_a).pk, currency="GBP")
    return found.pending.amount, found.available.amount


def status_of(order: VendorOrder) -> str:
    return VendorOrder.objects.values_list("status", flat=True).get(pk=order.pk)


# --- the whole way ------------------------------------------------------------------------


def test_accept_ship_deliver_confirm_complete_then_escrow_is_released_once(
    market: Market,
) -> None:
    checkout = buy(market.alice, (market.widget, 2), (market.gadget, 1))
    order = order_of(checkout, market.vendor_a)
    base = f"/orders/{order.pk}"
    share = vendor_share(2 * 1299)
    assert balance(market) == (share, 0)

    assert ok(market.as_staff_a.post(f"{base}/accept")) == {"id": order.pk, "status": "accepted"}
    clock.advance(timedelta(hours=2))
    assert ok(market.as_staff_a.post(f"{base}/ship", SHIP))["status"] == "shipped"

    seen = ok(market.as_alice.get(base))  # the buyer sees the tracking
    assert (seen["status"], seen["carrier"], seen["tracking_number"]) == (
        "shipped",
        "Royal Mail",
        "RM123456789GB",
    )
    assert datetime.fromisoformat(seen["shipped_at"]) == NOW + timedelta(hours=2)
    assert (seen["checkout_id"], seen["vendor_name"]) == (checkout.pk, "Anvil Parts")

    clock.advance(timedelta(days=2))
    assert ok(market.as_owner_a.post(f"{base}/deliver"))["status"] == "delivered"
    assert datetime.fromisoformat(ok(market.as_alice.get(base))["delivered_at"]) == NOW + timedelta(
        days=2, hours=2
    )
    assert ok(market.as_alice.post(f"{base}/confirm"))["status"] == "completed"
    completed_at = VendorOrder.objects.get(pk=order.pk).completed_at
    assert completed_at == NOW + timedelta(days=2, hours=2)

    # Escrow waits AGORA_ESCROW_RELEASE_HOURS (48) after completion.
    clock.advance(timedelta(hours=47, minutes=59))
    assert fulfilment.release_due_escrow() == 0
    assert balance(market) == (share, 0)
    clock.advance(timedelta(minutes=1))
    assert fulfilment.release_due_escrow() == 1
    assert balance(market) == (0, share)
    assert fulfilment.release_due_escrow() == 0
    assert balance(market) == (0, share)
    assert VendorOrder.objects.get(pk=order.pk).escrow_released_at == clock.now()
    # The other vendor's order has its own lifecycle: still paid, its money still pending.
    assert order_of(checkout, market.vendor_b).status == OrderStatus.PAID
    assert balance(market, market.vendor_b) == (vendor_share(2450), 0)

    trail = [(a.action, a.actor_id, a.data.get("to")) for a in audit_trail(order)]
    assert trail == [
        ("order.reserved", market.alice.pk, "reserved"),
        ("order.paid", market.alice.pk, "paid"),
        ("order.accepted", market.staff_a.pk, "accepted"),
        ("order.shipped", market.staff_a.pk, "shipped"),
        ("order.delivered", market.owner_a.pk, "delivered"),
        ("order.completed", market.alice.pk, "completed"),
    ]


def test_shipping_needs_a_carrier_and_a_tracking_number(market: Market) -> None:
    order = order_of(buy(market.alice, (market.widget, 1)), market.vendor_a)
    ok(market.as_owner_a.post(f"/orders/{order.pk}/accept"))
    before = rows()

    for body in ({"carrier": "DPD"}, {"carrier": "DPD", "tracking_number": ""}, {}):
        assert_problem(
            market.as_owner_a.post(f"/orders/{order.pk}/ship", body), 422, "validation_error"
        )
    assert_problem(
        market.as_owner_a.post(
            f"/orders/{order.pk}/ship", {"carrier": "  ", "tracking_number": "  "}
        ),
        422,
        "validation_error",
    )
    assert rows() == before


# --- every move the machine forbids ------------------------------------------------------

ACTIONS: dict[str, str] = {
    "accept": OrderStatus.ACCEPTED,
    "ship": OrderStatus.SHIPPED,
    "deliver": OrderStatus.DELIVERED,
    "confirm": OrderStatus.COMPLETED,
    "cancel": OrderStatus.CANCELLED,
}


def order_in(market: Market, state: str) -> VendorOrder:
    """An order of vendor A in `state`, reached through the services (`refunded`, which no
    service reaches yet, is written directly)."""
    if state in (OrderStatus.RESERVED, OrderStatus.EXPIRED):
        checkout = buy(market.alice, (market.widget, 1), pay=None)
        if state == OrderStatus.EXPIRED:
            clock.advance(timedelta(minutes=15))
            assert checkout_services.expire_reservations() == 1
        return order_of(checkout, market.vendor_a)
    order = order_of(buy(market.alice, (market.widget, 1)), market.vendor_a)
    owner = market.owner_a
    steps: list[Callable[[], Any]] = []
    if state == OrderStatus.CANCELLED:
        steps = [lambda: fulfilment.order_cancel(actor=owner, order=order)]
    if state == OrderStatus.REFUNDED:
        VendorOrder.objects.filter(pk=order.pk).update(status=OrderStatus.REFUNDED)
    path = [OrderStatus.ACCEPTED, OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.COMPLETED]
    moves = {
        OrderStatus.ACCEPTED: lambda: fulfilment.order_accept(actor=owner, order=order),
        OrderStatus.SHIPPED: lambda: fulfilment.order_ship(actor=owner, order=order, **SHIP),
        OrderStatus.DELIVERED: lambda: fulfilment.order_deliver(actor=owner, order=order),
        OrderStatus.COMPLETED: lambda: fulfilment.order_complete(actor=market.alice, order=order),
    }
    if state in path:
        steps = [moves[s] for s in path[: path.index(state) + 1]]
    for step in steps:
        step()
    assert status_of(order) == state
    return VendorOrder.objects.get(pk=order.pk)


def act(market: Market, order: VendorOrder, action: str, client: ApiClient | None = None) -> Any:
    if client is None:
        client = market.as_alice if action == "confirm" else market.as_owner_a
    body = SHIP if action == "ship" else None
    return client.post(f"/orders/{order.pk}/{action}", body)


ILLEGAL = [
    (state, action)
    for state in OrderStatus.values
    for action, target in ACTIONS.items()
    if not ORDER_LIFECYCLE.can(state, target)
]
LEGAL = [
    (state, action)
    for state in OrderStatus.values
    for action, target in ACTIONS.items()
    if ORDER_LIFECYCLE.can(state, target)
]


def test_the_lists_cover_every_state() -> None:
    assert {s for s, _ in ILLEGAL} == set(OrderStatus.values)
    assert sorted(LEGAL) == sorted(
        [
            ("reserved", "cancel"),
            ("paid", "accept"),
            ("paid", "cancel"),
            ("accepted", "ship"),
            ("accepted", "cancel"),
            ("shipped", "deliver"),
            ("delivered", "confirm"),
        ]
    )


@pytest.mark.parametrize(("state", "action"), ILLEGAL)
def test_a_move_the_machine_forbids_is_409_and_changes_nothing(
    market: Market, state: str, action: str
) -> None:
    order = order_in(market, state)
    before = rows()

    problem = assert_problem(act(market, order, action), 409, "invalid_transition")

    assert (problem["from"], problem["to"]) == (state, ACTIONS[action])
    assert rows() == before


@pytest.mark.parametrize(("state", "action"), LEGAL)
def test_a_move_the_machine_allows_is_200_and_audited(
    market: Market, state: str, action: str
) -> None:
    order = order_in(market, state)

    assert ok(act(market, order, action)) == {"id": order.pk, "status": ACTIONS[action]}
    last = list(audit_trail(order))[-1]
    assert (last.action, last.data["from"], last.data["to"]) == (
        f"order.{ACTIONS[action]}",
        state,
        ACTIONS[action],
    )


# --- cancellation -------------------------------------------------------------------------


def test_the_customer_cancels_before_acceptance_refunded_in_full_and_stock_returned(
    market: Market,
) -> None:
    checkout = buy(market.alice, (market.widget, 3), (market.gadget, 1))
    order = order_of(checkout, market.vendor_a)
    total = order.total_amount
    assert level(market.widget) == 7

    assert ok(
        market.as_alice.post(f"/orders/{order.pk}/cancel", {"reason": "changed my mind"})
    ) == {
        "id": order.pk,
        "status": "cancelled",
    }

    order.refresh_from_db()
    assert (order.status, order.cancelled_at) == (OrderStatus.CANCELLED, NOW)
    (refund,) = Refund.objects.all()
    assert (refund.amount, refund.payment.reference) == (total, f"order:{order.pk}")
    assert Payment.objects.get(reference=f"order:{order.pk}").status == "refunded"
    assert balance(market) == (0, 0)
    assert level(market.widget) == 10
    assert movements(market.widget)[-1] == ("return", 3, f"order:{order.pk}")
    # The other vendor's part of the checkout is untouched.
    assert order_of(checkout, market.vendor_b).status == OrderStatus.PAID
    assert level(market.gadget) == 4
    last = list(audit_trail(order))[-1]
    assert (last.action, last.actor_id, last.data["reason"]) == (
        "order.cancelled",
        market.alice.pk,
        "changed my mind",
    )


def test_the_customer_cannot_cancel_after_acceptance(market: Market) -> None:
    order = order_in(market, OrderStatus.ACCEPTED)
    before = rows()

    problem = assert_problem(
        market.as_alice.post(f"/orders/{order.pk}/cancel"), 409, "invalid_transition"
    )

    assert (problem["from"], problem["to"]) == ("accepted", "cancelled")
    assert rows() == before


@pytest.mark.parametrize("state", [OrderStatus.PAID, OrderStatus.ACCEPTED])
def test_the_vendor_cancels_refunds_and_restocks(market: Market, state: str) -> None:
    order = order_in(market, state)
    assert level(market.widget) == 9

    ok(market.as_staff_a.post(f"/orders/{order.pk}/cancel", {"reason": "damaged in store"}))

    assert status_of(order) == OrderStatus.CANCELLED
    assert Refund.objects.get().amount == order.total_amount
    assert balance(market) == (0, 0)
    assert level(market.widget) == 10
    assert movements(market.widget)[-1] == ("return", 1, f"order:{order.pk}")


def test_cancelling_a_reserved_order_releases_its_stock_without_a_refund(market: Market) -> None:
    checkout = buy(market.alice, (market.widget, 2), (market.gadget, 2), pay=None)
    order = order_of(checkout, market.vendor_a)

    ok(market.as_alice.post(f"/orders/{order.pk}/cancel"))

    assert status_of(order) == OrderStatus.CANCELLED
    assert Refund.objects.count() == 0
    assert (level(market.widget), level(market.gadget)) == (10, 3)
    assert reservations(checkout) == [
        (market.widget.pk, None, 2, "released"),
        (market.gadget.pk, None, 2, "live"),  # the other vendor's part stays reserved
    ]
    # Paying the checkout now pays the part that is left.
    paid = ok(
        market.as_alice.post(f"/checkout/{checkout.pk}/pay", {"payment_method": "pm_card_visa"})
    )
    assert {o["vendor_id"]: o["status"] for o in paid["orders"]} == {
        market.vendor_a.pk: "cancelled",
        market.vendor_b.pk: "paid",
    }
    assert list(Payment.objects.values_list("reference", flat=True)) == [
        f"order:{order_of(checkout, market.vendor_b).pk}"
    ]


def test_cancelling_a_reserved_order_whose_expired_reservation_was_released_gives_nothing_back(
    market: Market,
) -> None:
    """The next buyer released the expired reservation (the units went back to stock and
    were sold again); cancelling the order afterwards must not put them back a second time."""
    checkout = buy(market.alice, (market.gadget, 5), pay=None)
    clock.advance(timedelta(minutes=16))
    buy(market.bob, (market.gadget, 5), key="bob")  # releases Alice's 5, takes them
    assert level(market.gadget) == 0

    order = order_of(checkout, market.vendor_b)
    ok(market.as_alice.post(f"/orders/{order.pk}/cancel"))

    assert status_of(order) == OrderStatus.CANCELLED
    assert level(market.gadget) == 0
    assert sum(q for _, q, _ in movements(market.gadget)) == -5


# --- a vendor who does not act ------------------------------------------------------------


def test_an_unaccepted_order_is_escalated_then_cancelled_and_refunded(
    market: Market, mailbox: list[Any]
) -> None:
    UserFactory(email="ops@agora.example", is_operator=True)
    UserFactory(email="gone@agora.example", is_operator=True, is_active=False)
    UserFactory(email="shopper@agora.example")
    order = order_of(buy(market.alice, (market.widget, 2)), market.vendor_a)
    delivery.run_once()  # the order.paid mails
    mailbox.clear()

    def escalate() -> int:
        acted = fulfilment.escalate_unaccepted()
        delivery.run_once()  # escalations are mailed through the outbox (order.escalated)
        return acted

    clock.advance(timedelta(hours=23, minutes=59))
    assert escalate() == 0
    assert mailbox == []

    clock.advance(timedelta(hours=1, minutes=1))  # 25 h
    assert escalate() == 1
    assert VendorOrder.objects.get(pk=order.pk).escalation_level == 1
    # The vendor's owners and managers (not its `staff` members).
    (reminder,) = mailbox
    assert reminder.to == [market.owner_a.email]
    assert f"Order {order.pk}" in reminder.subject
    assert escalate() == 0  # once per level
    assert len(mailbox) == 1

    clock.advance(timedelta(hours=24))  # 49 h
    assert escalate() == 1
    assert VendorOrder.objects.get(pk=order.pk).escalation_level == 2
    # Every active operator, and the vendor's managers again; not inactive operators, not
    # customers.
    assert sorted(m.to[0] for m in mailbox[1:]) == sorted(
        ["ops@agora.example", market.owner_a.email]
    )
    operators_mail = next(m for m in mailbox[1:] if m.to == ["ops@agora.example"])
    assert "Anvil Parts" in operators_mail.subject
    assert status_of(order) == OrderStatus.PAID

    clock.advance(timedelta(hours=24))  # 73 h
    assert escalate() == 1
    assert status_of(order) == OrderStatus.CANCELLED
    assert Refund.objects.get().amount == order.total_amount
    assert balance(market) == (0, 0)
    assert level(market.widget) == 10
    assert escalate() == 0
    actions = [(a.action, a.actor_id, a.data.get("level")) for a in audit_trail(order)][2:]
    assert actions == [
        ("order.escalated", None, 1),
        ("order.escalated", None, 2),
        ("order.cancelled", None, None),
    ]


def test_an_accepted_order_is_not_escalated(market: Market, mailbox: list[Any]) -> None:
    order = order_in(market, OrderStatus.ACCEPTED)
    clock.advance(timedelta(hours=80))

    assert fulfilment.escalate_unaccepted() == 0
    assert status_of(order) == OrderStatus.ACCEPTED
    assert mail.outbox == []


def test_a_delivered_order_completes_itself_after_seven_days(market: Market) -> None:
    order = order_in(market, OrderStatus.DELIVERED)
    delivered_at = VendorOrder.objects.get(pk=order.pk).delivered_at
    assert delivered_at is not None

    clock.advance(timedelta(days=6, hours=23, minutes=59))
    assert fulfilment.complete_delivered() == 0
    clock.advance(timedelta(minutes=1))
    assert fulfilment.complete_delivered() == 1

    order.refresh_from_db()
    assert (order.status, order.completed_at) == (
        OrderStatus.COMPLETED,
        delivered_at + timedelta(days=7),
    )
    last = list(audit_trail(order))[-1]
    assert (last.action, last.actor_id) == ("order.completed", None)
    assert "automatically" in last.data["reason"]
    assert fulfilment.complete_delivered() == 0


# --- reservations that run out ------------------------------------------------------------


def test_expire_reservations_returns_the_stock_and_expires_orders_and_checkout(
    market: Market,
) -> None:
    checkout = buy(
        market.alice, (market.widget, 4), (market.tyre_16, 2), (market.gadget, 1), pay=None
    )
    paid = buy(market.bob, (market.widget, 1), key="bob")  # paid: never expires
    assert (level(market.widget), level(market.tyre_16), level(market.gadget)) == (5, 2, 4)

    clock.advance(timedelta(minutes=14, seconds=59))
    assert checkout_services.expire_reservations() == 0
    clock.advance(timedelta(seconds=1))
    assert checkout_services.expire_reservations() == 1

    assert Checkout.objects.get(pk=checkout.pk).status == CheckoutStatus.EXPIRED
    assert set(VendorOrder.objects.filter(checkout=checkout).values_list("status", flat=True)) == {
        "expired"
    }
    assert {r[3] for r in reservations(checkout)} == {"released"}
    assert (level(market.widget), level(market.tyre_16), level(market.gadget)) == (9, 4, 5)
    assert movements(market.tyre_16) == [
        ("reservation", -2, f"checkout:{checkout.pk}"),
        ("release", 2, f"checkout:{checkout.pk}"),
    ]
    assert Checkout.objects.get(pk=paid.pk).status == CheckoutStatus.PAID
    assert checkout_services.expire_reservations() == 0
    assert level(market.widget) == 9


def test_an_expired_reservation_does_not_block_the_next_buyer(market: Market) -> None:
    alice_checkout = buy(market.alice, (market.gadget, 5), pay=None)
    assert level(market.gadget) == 0
    assert_problem(post_checkout(market.as_bob, line(market.gadget, 1)), 409, "out_of_stock")

    clock.advance(timedelta(minutes=16))  # expired; the sweeper has not run
    body = ok(post_checkout(market.as_bob, line(market.gadget, 3), pay="pm_card_visa"), 201)

    assert body["status"] == "paid"
    assert level(market.gadget) == 2
    assert reservations(alice_checkout) == [(market.gadget.pk, None, 5, "released")]
    assert Checkout.objects.get(pk=alice_checkout.pk).status == CheckoutStatus.RESERVED
    assert_problem(
        market.as_alice.post(
            f"/checkout/{alice_checkout.pk}/pay", {"payment_method": "pm_card_visa"}
        ),
        409,
        "checkout_expired",
    )

    assert checkout_services.expire_reservations() == 1  # nothing left to give back
    assert Checkout.objects.get(pk=alice_checkout.pk).status == CheckoutStatus.EXPIRED
    assert level(market.gadget) == 2
    assert [k for k, _, _ in movements(market.gadget)] == ["reservation", "release", "reservation"]


def test_a_reservation_not_yet_expired_still_blocks(market: Market) -> None:
    buy(market.alice, (market.gadget, 5), pay=None)
    clock.advance(timedelta(minutes=14))

    problem = assert_problem(
        post_checkout(market.as_bob, line(market.gadget, 1)), 409, "out_of_stock"
    )

    assert problem["lines"][0]["available"] == 0
    assert StockReservation.objects.get().status == "live"


# --- lists --------------------------------------------------------------------------------


def _orders(market: Market, count: int) -> None:
    """`count` two-line orders of vendor A for Alice, and one of vendor B's for Bob."""
    bolt = ProductFactory(vendor=market.vendor_a, title="Bolt", price_amount=50, stock=1000)
    type(market.widget).objects.filter(pk=market.widget.pk).update(stock=1000)
    for index in range(count):
        buy(market.alice, (bolt, 1), (market.widget, 1), key=f"o{index}")
    buy(market.bob, (market.gadget, 1), key="bob")


@pytest.mark.parametrize("count", [3, 20])
def test_order_lists_take_a_bounded_number_of_queries(
    market: Market, count: int, django_assert_max_num_queries: Any
) -> None:
    _orders(market, count)
    alice, owner_a, owner_b = market.as_alice, market.as_owner_a, market.as_owner_b

    # The token, the page, its lines (one prefetch); as vendor also the staff's vendor ids.
    with django_assert_max_num_queries(3):
        mine = ok(alice.get("/orders", limit=50))
    with django_assert_max_num_queries(4):
        theirs = ok(owner_a.get("/orders", **{"as": "vendor", "limit": 50}))

    assert len(mine["items"]) == count
    assert mine["next_cursor"] is None
    assert {o["customer_id"] for o in mine["items"]} == {market.alice.pk}
    assert len(theirs["items"]) == count
    assert {o["vendor_id"] for o in theirs["items"]} == {market.vendor_a.pk}
    assert {len(o["items"]) for o in theirs["items"]} == {2}
    assert [o["id"] for o in mine["items"]] == sorted(
        (o["id"] for o in mine["items"]), reverse=True
    )

    b_orders = ok(owner_b.get("/orders", **{"as": "vendor"}))["items"]
    assert [o["customer_id"] for o in b_orders] == [market.bob.pk]
    assert ok(owner_b.get("/orders"))["items"] == []  # as a customer, B's owner bought nothing
    assert ok(client_for(market.bob).get("/orders", **{"as": "vendor"}))["items"] == []


def test_order_lists_page_with_a_cursor_and_filter_by_status(market: Market) -> None:
    for index in range(5):
        buy(market.alice, (market.widget, 1), key=f"p{index}")
    ok(market.as_owner_a.post(f"/orders/{VendorOrder.objects.order_by('id').first().pk}/accept"))

    first = ok(market.as_alice.get("/orders", limit=2))
    second = ok(market.as_alice.get("/orders", limit=2, cursor=first["next_cursor"]))
    third = ok(market.as_alice.get("/orders", limit=2, cursor=second["next_cursor"]))
    ids = [o["id"] for page in (first, second, third) for o in page["items"]]
    assert len(ids) == len(set(ids)) == 5
    assert third["next_cursor"] is None

    accepted = ok(market.as_owner_a.get("/orders", **{"as": "vendor", "status": "accepted"}))
    assert [o["status"] for o in accepted["items"]] == ["accepted"]
    assert_problem(market.as_alice.get("/orders", **{"as": "operator"}), 422, "validation_error")


def test_units_sold_and_stock_add_up_after_a_busy_day(market: Market) -> None:
    buy(market.alice, (market.widget, 2))
    cancelled = order_of(buy(market.bob, (market.widget, 3), key="b"), market.vendor_a)
    fulfilment.order_cancel(actor=market.owner_a, order=cancelled)
    buy(market.bob, (market.widget, 1), pay=None, key="b2")
    sold = VendorOrder.objects.filter(status=OrderStatus.PAID).aggregate(
        units=Sum("lines__quantity")
    )["units"]
    live = StockReservation.objects.filter(status="live").aggregate(units=Sum("quantity"))["units"]
    assert (sold, live) == (2, 1)
    assert level(market.widget) == 10 - sold - live
