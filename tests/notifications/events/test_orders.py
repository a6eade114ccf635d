"""A vendor order's life announced: a multi-vendor checkout's orders in one INSERT, the
vendor's moves, escalation, cancellation with its refund, low stock — each to the right
people, none to anyone else."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from agora.core import clock
from agora.notifications.models import Event
from agora.orders.errors import OrderError
from agora.orders.models import VendorOrder
from agora.orders.services import checkout as checkout_services
from agora.orders.services import fulfilment
from tests.factories import UserFactory
from tests.notifications.events.conftest import (
    BASE,
    deliver,
    delivered,
    flush,
    links,
    money,
    names,
    new_names,
    routing,
    subjects,
    the_event,
)
from tests.orders.helpers import NOW, VISA, Market, buy, line, make_market, order_of, post_checkout

pytestmark = pytest.mark.django_db


@pytest.fixture
def market(db: Any) -> Iterator[Market]:
    with clock.frozen(NOW):
        market = make_market()
        for person, name in (
            (market.owner_a, "Olga Anvil"),
            (market.staff_a, "Stan Anvil"),
            (market.owner_b, "Ben Bolt"),
        ):
            person.name = name
            person.save(update_fields=["name"])
        yield market


@pytest.fixture
def operators(db: Any) -> tuple[Any, Any]:
    """An active operator who hears of escalations, and one who left."""
    return (
        UserFactory(email="ops@example.test", is_operator=True),
        UserFactory(email="gone@example.test", is_operator=True, is_active=False),
    )


def base_data(market: Market, order: VendorOrder, status: str) -> dict[str, Any]:
    return {
        "id": order.pk,
        "status": status,
        "url": f"/account/orders/{order.pk}/",
        "vendor_url": f"/vendor/orders/{order.pk}/?vendor={order.vendor_id}",
        "vendor_name": order.vendor.name,
        "timezone": "Europe/London",
        "total": money(order.total_amount),
    }


def paid_order(market: Market, *items: Any) -> VendorOrder:
    return order_of(buy(market.alice, *(items or ((market.widget, 2),))), market.vendor_a)


# --- paid ------------------------------------------------------------------------------------


def test_a_two_vendor_checkout_announces_each_order_to_its_vendor_only(market: Market) -> None:
    # When Alice buys from both vendors in one checkout, paying at once
    response = post_checkout(
        market.as_alice,
        line(market.widget, 2),
        line(market.tyre_16),
        line(market.gadget),
        pay=VISA,
        key="k1",
    )

    # Then each vendor's order has its own order.paid, written in one INSERT
    assert response.status_code == 201, response.content
    checkout_id = response.json()["id"]
    anvil, bolt = order_of(checkout_id, market.vendor_a), order_of(checkout_id, market.vendor_b)
    events = {event.vendor_id: event for event in Event.objects.filter(name="order.paid")}
    assert names() == ["order.paid", "order.paid"]
    assert routing(events[market.vendor_a.pk]) == (
        "order.paid",
        market.alice.pk,
        market.vendor_a.pk,
        False,
    )
    assert events[market.vendor_a.pk].data == {
        **base_data(market, anvil, "paid"),
        "lines": [{"title": "Widget", "quantity": 2}, {"title": 'Tyre — 16"', "quantity": 1}],
        "line_count": 2,
        "more_lines": 0,
        "customer_name": "Alice",
        "subtotal": money(2 * 1299 + 4500),
        "shipping": money(0),
        "receipt_url": f"/account/checkouts/{checkout_id}/receipt/",
    }
    assert events[market.vendor_b.pk].data["lines"] == [{"title": "Gadget", "quantity": 1}]
    assert events[market.vendor_b.pk].data["vendor_url"] == (
        f"/vendor/orders/{bolt.pk}/?vendor={market.vendor_b.pk}"
    )

    # ...Alice gets a receipt per vendor; each vendor's staff only their own order
    sent = deliver()
    to = sorted((m.to[0], m.subject) for m in sent)
    assert to == sorted(
        [
            (market.alice.email, f"Order {anvil.pk} from Anvil Parts: payment received"),
            (market.alice.email, f"Order {bolt.pk} from Bolt Supplies: payment received"),
            (market.owner_a.email, f"New order {anvil.pk} to accept: £70.98"),
            (market.staff_a.email, f"New order {anvil.pk} to accept: £70.98"),
            (market.owner_b.email, f"New order {bolt.pk} to accept: £24.50"),
        ]
    )
    receipt = next(m for m in sent if m.to[0] == market.alice.email and "Anvil" in m.subject)
    assert 'Items:\n  2 × Widget\n  1 × Tyre — 16"\n' in receipt.body
    assert "Total paid: £70.98" in receipt.body
    bolt_mail = next(m for m in sent if m.to[0] == market.owner_b.email)
    assert f"{BASE}/vendor/orders/{bolt.pk}/?vendor={market.vendor_b.pk}" in links(bolt_mail)
    assert "Widget" not in bolt_mail.body


def test_a_checkout_reserved_then_paid_announces_on_payment(market: Market) -> None:
    checkout = buy(market.alice, (market.gadget, 1), pay=None)
    assert names() == []

    checkout_services.checkout_pay(
        customer=market.alice, checkout=checkout, payment_method=VISA, idempotency_key="p1"
    )

    event = the_event("order.paid")
    assert routing(event) == ("order.paid", market.alice.pk, market.vendor_b.pk, False)
    assert event.data["vendor_name"] == "Bolt Supplies"


def test_a_declined_or_expired_checkout_announces_nothing(market: Market) -> None:
    declined = post_checkout(market.as_alice, line(market.widget), pay="pm_card_chargeDeclined")
    assert declined.status_code == 402
    checkout = buy(market.bob, (market.gadget, 1), pay=None)
    clock.advance(timedelta(minutes=16))

    with pytest.raises(OrderError):
        checkout_services.checkout_pay(
            customer=market.bob, checkout=checkout, payment_method=VISA, idempotency_key="late"
        )
    assert checkout_services.expire_reservations() == 2

    assert names() == []
    assert delivered() == {}


# --- the vendor's moves ------------------------------------------------------------------------


def test_accept_ship_deliver_each_tell_the_customer(market: Market) -> None:
    order = paid_order(market)
    before = flush()

    fulfilment.order_accept(actor=market.staff_a, order=order)
    accepted = the_event("order.accepted")
    assert routing(accepted) == ("order.accepted", market.alice.pk, market.vendor_a.pk, False)
    assert accepted.data == base_data(market, order, "accepted")
    assert subjects(delivered()) == {
        market.alice.email: f"Anvil Parts accepted your order {order.pk}"
    }

    fulfilment.order_ship(
        actor=market.staff_a, order=order, carrier="Royal Mail", tracking_number=" RM123GB "
    )
    shipped = the_event("order.shipped")
    assert shipped.data == {
        **base_data(market, order, "shipped"),
        "carrier": "Royal Mail",
        "tracking_number": "RM123GB",
    }
    mails = delivered()
    assert subjects(mails) == {
        market.alice.email: f"Order {order.pk} is on its way with Royal Mail"
    }
    assert "Tracking number: RM123GB" in mails[market.alice.email].body

    fulfilment.order_deliver(actor=market.staff_a, order=order)
    delivered_event = the_event("order.delivered")
    assert delivered_event.data == {
        **base_data(market, order, "delivered"),
        "review_url": f"/account/reviews/new/order/{order.pk}/",
    }
    mails = delivered()
    assert subjects(mails) == {
        market.alice.email: f"Order {order.pk} from Anvil Parts was delivered"
    }
    assert f"Write a review: {BASE}/account/reviews/new/order/{order.pk}/" in (
        mails[market.alice.email].body
    )
    assert new_names(before) == ["order.accepted", "order.shipped", "order.delivered"]


def test_a_refused_move_announces_nothing(market: Market) -> None:
    order = paid_order(market)
    before = flush()

    response = market.as_owner_b.post(f"/orders/{order.pk}/accept")  # another vendor's
    assert response.status_code == 404
    response = market.as_owner_a.post(
        f"/orders/{order.pk}/ship", {"carrier": "", "tracking_number": ""}
    )
    assert response.status_code == 422
    response = market.as_owner_a.post(f"/orders/{order.pk}/deliver")  # not shipped
    assert response.status_code == 409

    assert new_names(before) == []
    assert delivered() == {}


def test_a_customer_cancelling_is_refunded_and_the_vendor_told(market: Market) -> None:
    order = paid_order(market)
    before = flush()

    response = market.as_alice.post(f"/orders/{order.pk}/cancel", {"reason": "Changed my mind"})

    assert response.status_code == 200, response.content
    # the refund is told in order.cancelled, not in an order.refunded of its own
    assert new_names(before) == ["order.cancelled"]
    event = the_event("order.cancelled")
    assert routing(event) == ("order.cancelled", market.alice.pk, market.vendor_a.pk, False)
    assert event.data == {
        **base_data(market, order, "cancelled"),
        "by": "customer",
        "reason": "Changed my mind",
        "refund": money(order.total_amount),
        "customer_name": "Alice",
    }
    mails = delivered()
    assert subjects(mails) == {
        market.alice.email: f"Order {order.pk} from Anvil Parts is cancelled",
        market.owner_a.email: f"Order {order.pk} is cancelled",
        market.staff_a.email: f"Order {order.pk} is cancelled",
    }
    assert "You are refunded £25.98 in full" in mails[market.alice.email].body
    assert mails[market.owner_a.email].body.startswith(
        f"Alice cancelled order {order.pk} (£25.98)."
    )


def test_the_vendor_cancelling_tells_the_customer(market: Market) -> None:
    order = paid_order(market)
    fulfilment.order_accept(actor=market.owner_a, order=order)
    before = flush()

    fulfilment.order_cancel(actor=market.owner_a, order=order, reason="Out of stock")

    assert new_names(before) == ["order.cancelled"]
    data = the_event("order.cancelled").data
    assert (data["by"], data["reason"], data["refund"]) == (
        "vendor",
        "Out of stock",
        money(order.total_amount),
    )
    mails = delivered()
    assert mails[market.alice.email].body.startswith(
        f"Anvil Parts cancelled your order {order.pk}."
    )
    assert "The reason given: Out of stock" in mails[market.alice.email].body


def test_cancelling_an_unpaid_reservation_announces_nothing(market: Market) -> None:
    order = order_of(buy(market.alice, (market.gadget, 1), pay=None), market.vendor_b)

    fulfilment.order_cancel(actor=market.alice, order=order, by_customer=True)

    assert names() == []


# --- a vendor who does not act -----------------------------------------------------------------


def test_an_unaccepted_order_reminds_the_managers_then_tells_operators_then_cancels(
    market: Market, operators: tuple[Any, Any]
) -> None:
    order = paid_order(market)
    before = flush()

    clock.advance(timedelta(hours=25))
    assert fulfilment.escalate_unaccepted() == 1
    first = the_event("order.escalated")
    assert routing(first) == ("order.escalated", market.alice.pk, market.vendor_a.pk, False)
    assert first.data == {
        **base_data(market, order, "paid"),
        "level": 1,
        "paid_at": "2026-01-05T08:00:00+00:00",
        "hours_waiting": 24,
        "cancel_at": "2026-01-08T08:00:00+00:00",
        "operator_url": f"/operator/sales/order:{order.pk}/",
    }
    # owners and managers only (not the `staff` member), no operator yet
    mails = delivered()
    assert subjects(mails) == {
        market.owner_a.email: f"Order {order.pk} is waiting for you to accept it"
    }
    assert "If it is not accepted by Thu 8 Jan 2026, 08:00" in mails[market.owner_a.email].body
    assert fulfilment.escalate_unaccepted() == 0  # once per level

    clock.advance(timedelta(hours=24))
    assert fulfilment.escalate_unaccepted() == 1
    second = Event.objects.filter(name="order.escalated").order_by("-id").first()
    assert second is not None
    assert routing(second) == ("order.escalated", market.alice.pk, market.vendor_a.pk, True)
    assert (second.data["level"], second.data["hours_waiting"]) == (2, 48)
    mails = delivered()
    assert subjects(mails) == {
        market.owner_a.email: f"Urgent: order {order.pk} is still waiting for you",
        "ops@example.test": f"Order {order.pk} not accepted by Anvil Parts after 48 hours",
    }
    assert f"{BASE}/operator/sales/order:{order.pk}/" in links(mails["ops@example.test"])

    clock.advance(timedelta(hours=24))
    assert fulfilment.escalate_unaccepted() == 1
    cancelled = the_event("order.cancelled")
    assert (cancelled.data["by"], cancelled.data["refund"]) == ("system", money(order.total_amount))
    mails = delivered()
    assert mails[market.alice.email].body.startswith(
        f"Your order {order.pk} from Anvil Parts is cancelled: the shop did not accept it in time."
    )
    assert new_names(before) == ["order.escalated", "order.escalated", "order.cancelled"]


# --- stock -------------------------------------------------------------------------------------


def test_selling_down_to_the_threshold_alerts_the_managers_once(market: Market) -> None:
    # widget: 10 in stock, alert at 3
    buy(market.alice, (market.widget, 7))

    event = the_event("stock.low")
    assert routing(event) == ("stock.low", None, market.vendor_a.pk, False)
    alert_url = f"/vendor/listings/{market.widget.pk}/?vendor={market.vendor_a.pk}"
    assert event.data == {
        "id": event.data["id"],
        "listing_id": market.widget.pk,
        "variant_id": None,
        "title": "Widget",
        "stock": 3,
        "threshold": 3,
        "url": alert_url,
        "vendor_url": alert_url,
    }
    sent = deliver()
    alerts = [m for m in sent if m.subject.startswith("Low stock")]
    assert [(m.to[0], m.subject) for m in alerts] == [
        (market.owner_a.email, "Low stock: Widget (3 left)")
    ]
    assert f"{BASE}{alert_url}" in links(alerts[0])

    # a second sale while the alert is open alerts no one again
    buy(market.bob, (market.widget, 1), key="k2")
    assert names().count("stock.low") == 1
