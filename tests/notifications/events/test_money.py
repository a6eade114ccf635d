"""Money events: an operator's refund of a booking or an order (payments knows no bookings
or orders; their apps describe their references to it), payouts, disputes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from agora.core import clock
from agora.core.money import Money
from agora.payments import services as payments
from agora.payments.errors import PaymentError
from agora.payments.models import Payout
from tests.bookings.helpers import NOW, PRICE, Shop, make_shop, tuesday
from tests.conftest import ApiClient, token_for
from tests.factories import UserFactory, VendorFactory, VendorMembershipFactory
from tests.notifications.events.conftest import (
    BASE,
    WHEN,
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
from tests.orders.helpers import buy, make_market, order_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(db: Any) -> Iterator[Shop]:
    with clock.frozen(NOW):
        shop = make_shop()
        VendorFactory(owner=UserFactory(email="rival@example.test"))
        yield shop


@pytest.fixture
def operator(db: Any) -> Any:
    UserFactory(email="gone@example.test", is_operator=True, is_active=False)
    return UserFactory(email="ops@example.test", is_operator=True)


def booking_sale(shop: Shop, booking: Any, status: str) -> dict[str, Any]:
    """What bookings tells payments about `booking:<id>`."""
    return {
        "id": booking.pk,
        "status": status,
        "url": f"/account/bookings/{booking.pk}/",
        "vendor_url": f"/vendor/bookings/{booking.pk}/?vendor={shop.vendor.pk}",
        "listing_title": "Full service",
        "vendor_name": "Camden Motors",
        "vendor_address": "",
        "start": "2026-01-06T10:00:00+00:00",
        "end": "2026-01-06T11:00:00+00:00",
        "timezone": "Europe/London",
        "price": money(PRICE),
        "kind": "booking",
        "title": "Full service",
    }


# --- operator refunds ----------------------------------------------------------------------


def test_an_operators_partial_refund_of_a_booking_tells_customer_and_vendor(
    shop: Shop, operator: Any
) -> None:
    booking = shop.accepted(tuesday(10))
    before = flush()
    as_operator = ApiClient(token_for(operator))

    response = as_operator.post(
        "/operator/refunds",
        {"booking_id": booking.pk, "amount": money(1000), "reason": "Arrived late"},
        idempotency_key="refund-1",
    )

    assert response.status_code == 201, response.content
    assert new_names(before) == ["booking.refunded"]
    event = the_event("booking.refunded")
    assert routing(event) == ("booking.refunded", shop.customer.pk, shop.vendor.pk, False)
    assert event.subject == f"booking:{booking.pk}"
    assert event.stream_name == "booking.updated"
    assert event.data == {
        **booking_sale(shop, booking, "accepted"),
        "refund_id": response.json()["id"],
        "refund": money(1000),
        "refunded_total": money(1000),
        "paid": money(PRICE),
        "fully_refunded": False,
        "reason": "Arrived late",
    }
    mails = delivered()
    assert subjects(mails) == {
        shop.customer.email: "Refund of £10.00 for your Full service at Camden Motors",
        shop.owner.email: f"Booking #{booking.pk}: £10.00 refunded to the customer",
        shop.staff.email: f"Booking #{booking.pk}: £10.00 refunded to the customer",
    }
    assert mails[shop.customer.email].body.startswith(
        f"Agora refunded £10.00 of your booking for Full service at Camden Motors on {WHEN}."
    )
    assert "The reason: Arrived late" in mails[shop.customer.email].body


def test_a_refund_replayed_or_refused_announces_nothing_more(shop: Shop, operator: Any) -> None:
    booking = shop.accepted(tuesday(10))
    before = flush()

    def refund(amount: int, key: str) -> Any:
        return payments.refund_create(
            reference=booking.reference,
            amount=Money(amount, "GBP"),
            reason="goodwill",
            actor=operator,
            idempotency_key=key,
        )

    refund(PRICE, "all")
    refund(PRICE, "all")  # the same request again
    with pytest.raises(PaymentError):
        refund(1, "more")  # nothing left to refund

    assert new_names(before) == ["booking.refunded"]
    assert the_event("booking.refunded").data["fully_refunded"] is True


def test_an_operators_refund_of_an_order_tells_customer_and_vendor(db: Any, operator: Any) -> None:
    with clock.frozen(NOW):
        market = make_market()
        order = order_of(buy(market.alice, (market.widget, 2)), market.vendor_a)
        before = flush()

        payments.refund_create(
            reference=order.reference,
            amount=None,
            reason="Parcel lost",
            actor=operator,
            idempotency_key="r1",
        )

    assert new_names(before) == ["order.refunded"]
    event = the_event("order.refunded")
    assert routing(event) == ("order.refunded", market.alice.pk, market.vendor_a.pk, False)
    total = money(2 * 1299)
    assert event.data == {
        "id": order.pk,
        "status": "paid",
        "url": f"/account/orders/{order.pk}/",
        "vendor_url": f"/vendor/orders/{order.pk}/?vendor={market.vendor_a.pk}",
        "vendor_name": "Anvil Parts",
        "timezone": "Europe/London",
        "total": total,
        "kind": "order",
        "title": f"Order {order.pk}",
        "refund_id": event.data["refund_id"],
        "refund": total,
        "refunded_total": total,
        "paid": total,
        "fully_refunded": True,
        "reason": "Parcel lost",
    }
    mails = delivered()
    assert subjects(mails) == {
        market.alice.email: f"Refund of £25.98 for order {order.pk}",
        market.owner_a.email: f"Order {order.pk}: £25.98 refunded to the customer",
        market.staff_a.email: f"Order {order.pk}: £25.98 refunded to the customer",
    }
    assert "it is now refunded in full" in mails[market.alice.email].body


# --- payouts -----------------------------------------------------------------------------------


@pytest.fixture
def seller(db: Any) -> Any:
    """A vendor with £100 available, its owner, a manager and a `staff` member."""
    from tests.payments.market import make_market as make_money_market

    market = make_money_market()
    VendorMembershipFactory(vendor=market.vendor, user=UserFactory(), role="manager")
    market.released(41)
    return market


def test_a_payout_tells_the_owners_and_managers(seller: Any) -> None:
    before = flush()

    payout = payments.payout_create(
        vendor_id=seller.vendor.pk,
        currency="GBP",
        amount=None,
        idempotency_key="p1",
        actor=seller.owner,
    )

    assert new_names(before) == ["payout.paid"]
    event = the_event("payout.paid")
    assert routing(event) == ("payout.paid", None, seller.vendor.pk, False)
    money_page = f"/vendor/money/?vendor={seller.vendor.pk}"
    assert event.data == {
        "id": payout.pk,
        "status": "paid",
        "amount": money(payout.amount),
        "url": money_page,
        "vendor_url": money_page,
        "created_at": payout.created_at.isoformat(),
    }
    managers = set(
        seller.vendor.memberships.filter(role__in=["owner", "manager"]).values_list(
            "user__email", flat=True
        )
    )
    mails = delivered()
    assert set(mails) == managers  # not the `staff` member
    assert len(managers) == 2
    expected = f"Payout of {money_text(payout.amount)} sent to your bank"
    assert {m.subject for m in mails.values()} == {expected}
    assert f"{BASE}{money_page}" in links(next(iter(mails.values())))


def money_text(amount: int) -> str:
    return f"£{amount // 100:,}.{amount % 100:02d}"


def test_a_payout_the_bank_returns_is_announced_once(seller: Any) -> None:
    payout = payments.payout_create(
        vendor_id=seller.vendor.pk, currency="GBP", amount=None, idempotency_key="p1", actor=None
    )
    before = flush()

    payments.payout_fail(payout=payout, reason="bank returned the payout: account closed")
    payments.payout_fail(payout=Payout.objects.get(pk=payout.pk), reason="again")  # twice

    assert new_names(before) == ["payout.failed"]
    event = the_event("payout.failed")
    assert routing(event) == ("payout.failed", None, seller.vendor.pk, False)
    assert (event.data["status"], event.data["failure_reason"]) == (
        "failed",
        "bank returned the payout: account closed",
    )
    mails = delivered()
    assert len(mails) == 2
    body = next(iter(mails.values())).body
    assert "could not be completed: bank returned the payout: account closed." in body


def test_a_payout_refused_for_want_of_money_announces_nothing(seller: Any) -> None:
    before = flush()

    with pytest.raises(PaymentError):
        payments.payout_create(
            vendor_id=seller.rival.pk,
            currency="GBP",
            amount=None,
            idempotency_key="p2",
            actor=None,
        )

    assert new_names(before) == []


# --- disputes ----------------------------------------------------------------------------------


def test_a_dispute_opened_and_decided_reaches_customer_vendor_and_operators(
    shop: Shop, operator: Any
) -> None:
    booking = shop.accepted(tuesday(10))
    before = flush()

    dispute = payments.dispute_open(
        reference=booking.reference,
        amount=None,
        reason="Work not done",
        actor=operator,
        idempotency_key="d1",
    )

    opened = the_event("dispute.opened")
    assert routing(opened) == ("dispute.opened", shop.customer.pk, shop.vendor.pk, True)
    assert opened.data == {
        "id": dispute.pk,
        "status": "opened",
        "reference": booking.reference,
        "amount": money(PRICE),
        "reason": "Work not done",
        "sale": booking_sale(shop, booking, "accepted"),
        "url": f"/account/bookings/{booking.pk}/",
        "vendor_url": f"/vendor/bookings/{booking.pk}/?vendor={shop.vendor.pk}",
        "operator_url": f"/operator/disputes/{dispute.pk}/",
    }
    mails = delivered()
    assert subjects(mails) == {
        shop.customer.email: "A dispute about your payment for Full service is open",
        shop.owner.email: "Dispute of £45.99 opened on Full service",
        shop.staff.email: "Dispute of £45.99 opened on Full service",
        "ops@example.test": f"Dispute #{dispute.pk} opened: £45.99 on {booking.reference}",
    }
    assert f"{BASE}/operator/disputes/{dispute.pk}/" in links(mails["ops@example.test"])

    # a retry opens nothing twice
    payments.dispute_open(
        reference=booking.reference,
        amount=None,
        reason="Work not done",
        actor=operator,
        idempotency_key="d1",
    )
    assert names().count("dispute.opened") == 1

    payments.dispute_decide(dispute=dispute, outcome="lost", actor=operator, reason="no proof")
    payments.dispute_decide(dispute=dispute, outcome="lost", actor=operator)  # twice

    assert new_names(before) == ["dispute.opened", "dispute.decided"]
    decided = the_event("dispute.decided")
    assert routing(decided) == ("dispute.decided", shop.customer.pk, shop.vendor.pk, False)
    assert (decided.data["status"], decided.data["outcome"]) == ("lost", "lost")
    mails = delivered()
    assert subjects(mails) == {
        shop.customer.email: "The dispute about Full service is decided",
        shop.owner.email: "Dispute decided for the customer: £45.99 on Full service",
        shop.staff.email: "Dispute decided for the customer: £45.99 on Full service",
    }
    assert "is decided in your favour: £45.99 is returned to you." in (
        mails[shop.customer.email].body
    )


def test_a_dispute_on_a_sale_nobody_describes_still_reaches_vendor_and_operators(
    seller: Any, operator: Any
) -> None:
    seller.sell(77)  # "booking:77" has no booking behind it
    before = flush()

    payments.dispute_open(
        reference="booking:77", amount=None, reason="fraud", actor=None, idempotency_key="g1"
    )

    assert new_names(before) == ["dispute.opened"]
    event = the_event("dispute.opened")
    assert routing(event) == ("dispute.opened", None, seller.vendor.pk, True)
    assert (event.data["sale"], event.data["url"]) == ({}, "")
    assert event.data["vendor_url"] == f"/vendor/money/?vendor={seller.vendor.pk}"
    mails = delivered()
    assert "ops@example.test" in mails
    assert seller.owner.email in mails
    assert seller.customer.email not in mails
