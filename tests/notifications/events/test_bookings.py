"""A booking's life announced: each move writes its event in its own transaction, and the
outbox turns it into the right mails for the customer and the vendor's staff — and for
nobody else. A refused move announces nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from agora.bookings.models import Booking
from agora.bookings.services import lifecycle
from agora.core import clock
from agora.notifications.models import Notification
from tests.bookings.helpers import NOW, PRICE, Shop, make_shop, pay, tuesday
from tests.factories import UserFactory, VendorFactory
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

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _site_name(settings: Any) -> None:
    settings.AGORA_SITE_NAME = "Agora Market"


def _shop(**listing: Any) -> Shop:
    shop = make_shop(**listing)
    for person, name in (
        (shop.customer, "Cara Customer"),
        (shop.other_customer, "Otto Other"),
        (shop.owner, "Olly Owner"),
        (shop.staff, "Sam Staff"),
    ):
        person.name = name
        person.save(update_fields=["name"])
    # people who must hear nothing of this vendor's bookings: another vendor's owner, an
    # operator
    VendorFactory(owner=UserFactory(email="rival@example.test"))
    UserFactory(email="op@example.test", is_operator=True)
    return shop


@pytest.fixture
def shop(db: Any) -> Iterator[Shop]:
    with clock.frozen(NOW):
        yield _shop()


@pytest.fixture
def auto_shop(db: Any) -> Iterator[Shop]:
    with clock.frozen(NOW):
        yield _shop(auto_accept=True)


def base_data(shop: Shop, booking: Booking, status: str) -> dict[str, Any]:
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
    }


def ok(response: Any) -> Any:
    assert response.status_code == 200, response.content
    return response.json()


def refused(response: Any, status: int) -> None:
    assert response.status_code == status, response.content


def customer_only(shop: Shop, subject: str) -> dict[str, Any]:
    mails = delivered()
    assert subjects(mails) == {shop.customer.email: subject}
    return mails


# --- paid ------------------------------------------------------------------------------------


def test_paying_sends_the_receipt_and_asks_the_vendor_to_accept(shop: Shop) -> None:
    # Given a held booking (a hold is nobody else's news yet)
    booking = shop.held(tuesday(10))
    assert names() == []

    # When the customer pays
    ok(pay(shop.as_customer, booking))

    # Then one event tells the customer and the vendor
    booking.refresh_from_db()
    event = the_event("booking.paid")
    assert routing(event) == ("booking.paid", shop.customer.pk, shop.vendor.pk, False)
    assert event.subject == f"booking:{booking.pk}"
    assert event.stream_name == "booking.updated"
    assert event.data == {
        **base_data(shop, booking, "pending"),
        "customer_name": "Cara",
        "amount_paid": money(PRICE),
        "payment_reference": booking.payment_reference,
        "auto_accepted": False,
        "receipt_url": f"/account/bookings/{booking.pk}/receipt/",
    }
    # ...as a receipt for the customer and a booking to accept for every staff member
    mails = delivered()
    assert subjects(mails) == {
        shop.customer.email: f"Payment received: Full service at Camden Motors, {WHEN}",
        shop.owner.email: f"New booking to accept: Full service, {WHEN}",
        shop.staff.email: f"New booking to accept: Full service, {WHEN}",
    }
    receipt = mails[shop.customer.email].body
    assert receipt.startswith(
        f"Thank you: we received your payment for Full service at Camden Motors on {WHEN}."
    )
    assert "Amount paid: £45.99" in receipt
    assert f"Payment reference: {booking.payment_reference}" in receipt
    assert f"View your booking: {BASE}/account/bookings/{booking.pk}/" in receipt
    assert "Hi Cara," in mails[shop.customer.email].alternatives[0][0]  # type: ignore[attr-defined]
    vendor_page = f"{BASE}/vendor/bookings/{booking.pk}/?vendor={shop.vendor.pk}"
    assert vendor_page in links(mails[shop.staff.email])
    assert mails[shop.owner.email].body.startswith(
        f"Cara booked and paid for Full service on {WHEN}. Please accept or decline it."
    )
    # ...and in the app, each with the page right for them
    notices = {n.user_id: n for n in Notification.objects.filter(name="booking.paid")}
    assert set(notices) == {shop.customer.pk, shop.owner.pk, shop.staff.pk}
    assert notices[shop.customer.pk].title == mails[shop.customer.email].subject
    assert notices[shop.customer.pk].body == receipt.split("\n\n")[0]
    assert notices[shop.customer.pk].url == f"/account/bookings/{booking.pk}/"
    assert notices[shop.staff.pk].url == f"/vendor/bookings/{booking.pk}/?vendor={shop.vendor.pk}"


def test_an_automatically_accepted_booking_is_confirmed_in_the_same_mail(auto_shop: Shop) -> None:
    booking = auto_shop.paid(tuesday(10))

    event = the_event("booking.paid")
    assert booking.status == "accepted"
    assert (event.data["status"], event.data["auto_accepted"]) == ("accepted", True)
    assert names() == ["booking.paid"]  # no separate booking.accepted
    mails = delivered()
    assert subjects(mails) == {
        auto_shop.customer.email: f"Booked: Full service at Camden Motors, {WHEN}",
        auto_shop.owner.email: f"New booking: Full service, {WHEN}",
        auto_shop.staff.email: f"New booking: Full service, {WHEN}",
    }
    assert mails[auto_shop.customer.email].body.startswith(
        f"Your Full service at Camden Motors is booked for {WHEN}."
    )


def test_a_declined_card_announces_nothing(shop: Shop) -> None:
    booking = shop.held(tuesday(10))

    refused(pay(shop.as_customer, booking, "pm_card_chargeDeclined"), 402)

    assert names() == []
    assert delivered() == {}


# --- the vendor's answer ---------------------------------------------------------------------


def test_accepting_tells_the_customer(shop: Shop) -> None:
    booking = shop.paid(tuesday(10))
    before = flush()

    ok(shop.as_staff.post(f"/bookings/{booking.pk}/accept"))

    assert new_names(before) == ["booking.accepted"]
    event = the_event("booking.accepted")
    assert routing(event) == ("booking.accepted", shop.customer.pk, shop.vendor.pk, False)
    assert event.data == base_data(shop, booking, "accepted")
    mails = customer_only(shop, f"Confirmed: Full service at Camden Motors, {WHEN}")
    assert mails[shop.customer.email].body.startswith(
        f"Good news: Camden Motors confirmed your Full service on {WHEN}."
    )


def test_a_refused_accept_announces_nothing(shop: Shop) -> None:
    booking = shop.accepted(tuesday(10))
    before = flush()
    rival = VendorFactory(owner=UserFactory())
    from tests.vendors.helpers import client_for

    outsider = client_for(rival.memberships.get().user)

    refused(outsider.post(f"/bookings/{booking.pk}/accept"), 404)  # another vendor's
    refused(shop.as_staff.post(f"/bookings/{booking.pk}/accept"), 409)  # accepted already
    refused(shop.as_customer.post(f"/bookings/{booking.pk}/decline"), 404)  # not staff

    assert new_names(before) == []
    assert delivered() == {}


def test_declining_tells_the_customer_of_the_full_refund(shop: Shop) -> None:
    booking = shop.paid(tuesday(10))
    before = flush()

    ok(shop.as_owner.post(f"/bookings/{booking.pk}/decline", {"reason": "Fully booked"}))

    # the refund is told in booking.declined, not in a booking.refunded of its own
    assert new_names(before) == ["booking.declined"]
    event = the_event("booking.declined")
    assert routing(event) == ("booking.declined", shop.customer.pk, shop.vendor.pk, False)
    assert event.data == {
        **base_data(shop, booking, "declined"),
        "reason": "Fully booked",
        "refund": money(PRICE),
    }
    mails = customer_only(shop, f"Camden Motors could not take your booking for {WHEN}")
    body = mails[shop.customer.email].body
    assert "Their reason: Fully booked" in body
    assert "You are refunded £45.99 in full, to the card you paid with" in body


# --- cancellations -----------------------------------------------------------------------------


def test_a_customer_cancelling_early_is_refunded_in_full_and_the_vendor_told(shop: Shop) -> None:
    booking = shop.accepted(tuesday(10))
    before = flush()

    ok(shop.as_customer.post(f"/bookings/{booking.pk}/cancel", {"reason": "Plans changed"}))

    assert new_names(before) == ["booking.cancelled"]
    event = the_event("booking.cancelled")
    assert routing(event) == ("booking.cancelled", shop.customer.pk, shop.vendor.pk, False)
    assert event.data == {
        **base_data(shop, booking, "cancelled"),
        "by": "customer",
        "reason": "Plans changed",
        "refund": money(PRICE),
        "customer_name": "Cara",
    }
    mails = delivered()
    assert subjects(mails) == {
        shop.customer.email: f"Cancelled: Full service at Camden Motors, {WHEN}",
        shop.owner.email: f"Booking cancelled: Full service, {WHEN}",
        shop.staff.email: f"Booking cancelled: Full service, {WHEN}",
    }
    assert "We are refunding £45.99 to the card you paid with" in (mails[shop.customer.email].body)
    assert mails[shop.staff.email].body.startswith(
        f"Cara cancelled booking #{booking.pk} (Full service, {WHEN}). The slot is free again."
    )


def test_a_late_cancellation_names_the_refund_and_the_fee_kept(shop: Shop) -> None:
    booking = shop.accepted(tuesday(10))
    before = flush()
    clock.advance(timedelta(hours=3))  # 23 hours before the start: past the free window

    ok(shop.as_customer.post(f"/bookings/{booking.pk}/cancel"))

    assert new_names(before) == ["booking.cancelled"]
    data = the_event("booking.cancelled").data
    fee = 2300  # half of £45.99, rounded half up
    assert (data["refund"], data["fee"]) == (money(PRICE - fee), money(fee))
    mails = delivered()
    assert (
        "We are refunding £22.99 (£23.00 is kept as the late-cancellation fee) to the card"
        in mails[shop.customer.email].body
    )
    assert "You keep the late-cancellation fee of £23.00." in mails[shop.owner.email].body


def test_the_vendor_cancelling_tells_the_customer_why(shop: Shop) -> None:
    booking = shop.accepted(tuesday(10))
    before = flush()

    ok(shop.as_staff.post(f"/bookings/{booking.pk}/cancel", {"reason": "Mechanic ill"}))

    assert new_names(before) == ["booking.cancelled"]
    data = the_event("booking.cancelled").data
    assert (data["by"], data["refund"], "customer_name" in data) == (
        "vendor",
        money(PRICE),
        False,
    )
    mails = delivered()
    assert mails[shop.customer.email].body.startswith(
        f"Camden Motors cancelled your booking for Full service on {WHEN}."
    )
    assert "The reason given: Mechanic ill" in mails[shop.customer.email].body
    assert mails[shop.owner.email].body.startswith(f"Your team cancelled booking #{booking.pk}")


def test_giving_up_an_unpaid_hold_announces_nothing(shop: Shop) -> None:
    booking = shop.held(tuesday(10))

    ok(shop.as_customer.post(f"/bookings/{booking.pk}/cancel"))

    assert names() == []
    assert delivered() == {}


# --- timeouts ---------------------------------------------------------------------------------


def test_a_booking_not_accepted_in_time_expires_refunded_and_both_sides_hear(shop: Shop) -> None:
    booking = shop.paid(tuesday(10))
    before = flush()
    clock.advance(timedelta(hours=24, minutes=1))

    assert lifecycle.expire_unanswered() == 1

    assert new_names(before) == ["booking.expired"]
    event = the_event("booking.expired")
    assert routing(event) == ("booking.expired", shop.customer.pk, shop.vendor.pk, False)
    assert event.data == {
        **base_data(shop, booking, "expired"),
        "reason": "not accepted in time",
        "refund": money(PRICE),
    }
    mails = delivered()
    assert subjects(mails) == {
        shop.customer.email: f"Your booking for {WHEN} was not confirmed in time",
        shop.owner.email: f"Booking #{booking.pk} expired: not accepted in time",
        shop.staff.email: f"Booking #{booking.pk} expired: not accepted in time",
    }
    assert "You are refunded £45.99 in full" in mails[shop.customer.email].body


def test_an_unpaid_hold_that_lapses_announces_nothing(shop: Shop) -> None:
    shop.held(tuesday(10))
    clock.advance(timedelta(minutes=30))

    assert lifecycle.expire_stale_holds() == 1

    assert names() == []
    assert delivered() == {}


# --- rescheduling ----------------------------------------------------------------------------


def test_moving_a_booking_tells_both_sides_the_old_and_new_times(shop: Shop) -> None:
    booking = shop.accepted(tuesday(10))
    before = flush()

    response = shop.as_customer.post(
        f"/bookings/{booking.pk}/reschedule", {"start": tuesday(14).isoformat()}
    )

    ok(response)
    assert new_names(before) == ["booking.rescheduled"]
    event = the_event("booking.rescheduled")
    assert routing(event) == ("booking.rescheduled", shop.customer.pk, shop.vendor.pk, False)
    assert event.data == {
        **base_data(shop, booking, "accepted"),
        "start": "2026-01-06T14:00:00+00:00",
        "end": "2026-01-06T15:00:00+00:00",
        "previous_start": "2026-01-06T10:00:00+00:00",
        "previous_end": "2026-01-06T11:00:00+00:00",
        "by": "customer",
        "customer_name": "Cara",
    }
    mails = delivered()
    assert subjects(mails) == {
        shop.customer.email: "Moved: Full service at Camden Motors is now Tue 6 Jan 2026, 14:00",
        shop.owner.email: f"Booking #{booking.pk} moved to Tue 6 Jan 2026, 14:00",
        shop.staff.email: f"Booking #{booking.pk} moved to Tue 6 Jan 2026, 14:00",
    }
    assert f"It was booked for {WHEN}; that time is released." in (mails[shop.customer.email].body)


def test_moving_an_unpaid_hold_or_to_a_taken_slot_announces_nothing(shop: Shop) -> None:
    held = shop.held(tuesday(10))
    shop.held(tuesday(12), client=shop.as_other_customer)

    ok(shop.as_customer.post(f"/bookings/{held.pk}/reschedule", {"start": tuesday(11).isoformat()}))
    refused(
        shop.as_customer.post(
            f"/bookings/{held.pk}/reschedule", {"start": tuesday(12).isoformat()}
        ),
        409,
    )

    assert names() == []


# --- the work ----------------------------------------------------------------------------------


def test_starting_and_completing_tell_the_customer_and_ask_for_a_review(shop: Shop) -> None:
    booking = shop.accepted(tuesday(10))
    before = flush()
    clock.advance(timedelta(hours=26))  # Tuesday 10:00 (past the API token's life)

    lifecycle.booking_start(actor=shop.staff, booking=booking)
    started = the_event("booking.started")
    assert routing(started) == ("booking.started", shop.customer.pk, shop.vendor.pk, False)
    assert started.data == base_data(shop, booking, "in_progress")
    customer_only(shop, "Camden Motors has started on your Full service")

    clock.advance(timedelta(hours=1))
    lifecycle.booking_complete(actor=shop.staff, booking=booking)

    assert new_names(before) == ["booking.started", "booking.completed"]
    completed = the_event("booking.completed")
    assert routing(completed) == ("booking.completed", shop.customer.pk, shop.vendor.pk, False)
    assert completed.data == {
        **base_data(shop, booking, "completed"),
        "review_url": f"/account/reviews/new/booking/{booking.pk}/",
        "review_until": "2026-02-05T11:00:00+00:00",
    }
    mails = customer_only(shop, "Done: your Full service at Camden Motors. How was it?")
    message = mails[shop.customer.email]
    review_page = f"{BASE}/account/reviews/new/booking/{booking.pk}/"
    assert f"Write a review: {review_page}" in message.body
    assert "You can write it until Thu 5 Feb 2026." in message.body
    # the main button is the review page
    assert links(message)[1] == review_page


def test_a_no_show_tells_the_customer_and_not_before_the_start(shop: Shop) -> None:
    booking = shop.accepted(tuesday(10))
    before = flush()

    refused(shop.as_staff.post(f"/bookings/{booking.pk}/no-show"), 409)  # not started yet
    assert new_names(before) == []

    clock.advance(timedelta(hours=27))
    lifecycle.booking_no_show(actor=shop.staff, booking=booking)

    assert new_names(before) == ["booking.no_show"]
    event = the_event("booking.no_show")
    assert routing(event) == ("booking.no_show", shop.customer.pk, shop.vendor.pk, False)
    assert event.data == base_data(shop, booking, "no_show")
    customer_only(shop, f"Marked as missed: Full service on {WHEN}")


def test_a_move_rolled_back_with_its_transaction_leaves_no_event(shop: Shop) -> None:
    from django.db import transaction

    booking = shop.paid(tuesday(10))
    before = flush()

    def accept_then_fail() -> None:
        with transaction.atomic():
            lifecycle.booking_accept(actor=shop.staff, booking=booking)
            raise RuntimeError("the request failed after the move")

    with pytest.raises(RuntimeError):
        accept_then_fail()

    assert new_names(before) == []
    assert Booking.objects.get(pk=booking.pk).status == "pending"
