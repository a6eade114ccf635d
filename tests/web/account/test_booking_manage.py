"""A booking afterwards: detail with its timeline, cancel with the policy's refund shown
first, reschedule, receipt — and another customer's booking is 404 everywhere."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from agora.bookings.models import Booking, CancellationPolicy
from agora.bookings.services import lifecycle
from agora.core import clock
from agora.core.money import Money
from agora.payments.models import Payment, Refund
from tests.web.account.conftest import PRICE, World, tuesday
from tests.web.account.helpers import held, html, paid

pytestmark = pytest.mark.django_db

PAGES = ("", "pay/", "confirmed/", "cancel/", "reschedule/", "receipt/")


def test_detail_shows_status_timeline_and_actions(
    world: World, alice: Client, django_assert_max_num_queries: Any
) -> None:
    booking = paid(alice, world.service, tuesday(10))

    # + 1: the header's notification bell (one COUNT of unread notifications)
    with django_assert_max_num_queries(12 + 1):
        response = alice.get(f"/account/bookings/{booking.pk}/")

    page = html(response)
    assert response.status_code == 200
    assert "Tue 6 Jan 2026, 10:00–11:00 (Europe/London)" in page
    assert "Paid — waiting for the vendor to accept" in page
    timeline = page[page.index("Timeline") :]
    assert timeline.index("Held — waiting for your payment") < timeline.index(
        "Paid — waiting for the vendor to accept"
    )
    assert "by you" in timeline
    assert f"/account/bookings/{booking.pk}/cancel/" in page
    assert f"/account/bookings/{booking.pk}/reschedule/" in page
    assert f"/account/bookings/{booking.pk}/receipt/" in page


def test_the_vendors_moves_appear_in_the_timeline(world: World, alice: Client) -> None:
    booking = paid(alice, world.service, tuesday(10))
    lifecycle.booking_accept(actor=world.owner, booking=booking)

    page = html(alice.get(f"/account/bookings/{booking.pk}/"))

    assert "Confirmed by the vendor" in page
    assert "by the vendor" in page


def test_cancelling_early_shows_and_gives_a_full_refund(world: World, alice: Client) -> None:
    booking = paid(alice, world.service, tuesday(10))

    preview = html(alice.get(f"/account/bookings/{booking.pk}/cancel/"))
    assert "Refunded to your card" in preview
    assert "45.99 GBP" in preview
    assert "Kept by the vendor</dt><dd>0.00 GBP" in preview
    assert "Free cancellation ends Mon 5 Jan 2026, 10:00" in preview
    assert Booking.objects.get(pk=booking.pk).status == "pending"  # a preview changes nothing

    response = alice.post(f"/account/bookings/{booking.pk}/cancel/", {"reason": "plans changed"})

    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.status == "cancelled"
    refund = Refund.objects.get(payment__reference=booking.reference)
    assert refund.amount == PRICE
    page = html(alice.get(response["Location"]))
    assert "Booking cancelled. 45.99 GBP will be refunded to your card." in page


def test_cancelling_late_shows_the_fee_the_policy_keeps(world: World, alice: Client) -> None:
    CancellationPolicy.objects.create(vendor=world.workshop, free_until_hours=24, late_fee_bp=5000)
    booking = paid(alice, world.service, tuesday(10))
    lifecycle.booking_accept(actor=world.owner, booking=booking)
    clock.advance(timedelta(hours=20))  # Tuesday 04:00: six hours before the start
    fee = Money(PRICE, "GBP").percent(5000)
    refund = Money(PRICE - fee.amount, "GBP")

    preview = html(alice.get(f"/account/bookings/{booking.pk}/cancel/"))
    assert f"Kept by the vendor</dt><dd>{fee.format()}" in preview
    assert f'Refunded to your card</dt><dd class="price refund">{refund.format()}' in preview
    assert "past the free-cancellation deadline" in preview

    alice.post(f"/account/bookings/{booking.pk}/cancel/", {})

    booking.refresh_from_db()
    assert booking.status == "cancelled"
    assert booking.cancellation_fee_amount == fee.amount
    assert Refund.objects.get(payment__reference=booking.reference).amount == refund.amount
    receipt = html(alice.get(f"/account/bookings/{booking.pk}/receipt/"))
    assert f"Cancellation fee kept under the vendor's policy: {fee.format()}" in receipt
    assert refund.format() in receipt


def test_a_finished_booking_cannot_be_cancelled(world: World, alice: Client) -> None:
    booking = paid(alice, world.service, tuesday(10))
    lifecycle.booking_accept(actor=world.owner, booking=booking)
    lifecycle.booking_complete(actor=world.owner, booking=booking)

    preview = alice.get(f"/account/bookings/{booking.pk}/cancel/")
    assert "can no longer be cancelled" in html(preview)

    response = alice.post(f"/account/bookings/{booking.pk}/cancel/", {})

    assert response.status_code == 400
    assert 'role="alert"' in html(response)
    booking.refresh_from_db()
    assert booking.status == "completed"
    assert not Refund.objects.exists()


def test_rescheduling_moves_the_booking_to_a_chosen_free_slot(world: World, alice: Client) -> None:
    booking = paid(alice, world.service, tuesday(10))

    page = html(alice.get(f"/account/bookings/{booking.pk}/reschedule/"))
    assert 'value="2026-01-06T14:00:00+00:00"' in page

    response = alice.post(
        f"/account/bookings/{booking.pk}/reschedule/", {"start": "2026-01-06T14:00:00+00:00"}
    )

    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.start == tuesday(14)
    assert booking.status == "pending"
    detail = html(alice.get(f"/account/bookings/{booking.pk}/"))
    assert "Moved to Tue 6 Jan 2026, 14:00–15:00 (Europe/London)." in detail
    assert "Moved to Tue 6 Jan 2026, 14:00" in detail[detail.index("Timeline") :]


def test_rescheduling_onto_a_taken_slot_is_refused_on_the_page(
    world: World, alice: Client, bob: Client
) -> None:
    booking = paid(alice, world.service, tuesday(10))
    held(bob, world.service, tuesday(14))

    response = alice.post(
        f"/account/bookings/{booking.pk}/reschedule/", {"start": "2026-01-06T14:00:00+00:00"}
    )

    assert response.status_code == 409
    assert "that time was just taken or is full" in html(response)
    booking.refresh_from_db()
    assert booking.start == tuesday(10)


def test_rescheduling_needs_a_real_time(world: World, alice: Client) -> None:
    booking = paid(alice, world.service, tuesday(10))

    response = alice.post(f"/account/bookings/{booking.pk}/reschedule/", {"start": "soon"})

    assert response.status_code == 400
    assert "ISO 8601" in html(response)
    booking.refresh_from_db()
    assert booking.start == tuesday(10)


def test_the_receipt_shows_the_charge(world: World, alice: Client) -> None:
    booking = paid(alice, world.service, tuesday(10))
    payment = Payment.objects.get(reference=booking.reference)

    page = html(alice.get(f"/account/bookings/{booking.pk}/receipt/"))

    assert payment.charge_id in page
    assert "Visa ending 4242" in page
    assert 'Total paid</th><td class="amount">45.99 GBP' in page


def test_an_unpaid_booking_has_no_receipt(world: World, alice: Client) -> None:
    booking = held(alice, world.service, tuesday(10))

    response = alice.get(f"/account/bookings/{booking.pk}/receipt/")

    assert response.status_code == 404
    assert "Nothing has been paid" in html(response)


@pytest.mark.parametrize("suffix", PAGES)
def test_another_customers_booking_is_404_and_unchanged(
    world: World, alice: Client, bob: Client, suffix: str
) -> None:
    booking = paid(alice, world.service, tuesday(10))

    assert bob.get(f"/account/bookings/{booking.pk}/{suffix}").status_code == 404
    if suffix in ("cancel/", "reschedule/", "pay/"):
        form = {"start": "2026-01-06T14:00:00+00:00", "payment_method": "pm_card_visa"}
        assert bob.post(f"/account/bookings/{booking.pk}/{suffix}", form).status_code == 404
    booking.refresh_from_db()
    assert (booking.status, booking.start) == ("pending", tuesday(10))
    assert not Refund.objects.exists()


@pytest.mark.parametrize("suffix", PAGES)
def test_signed_out_visitors_are_sent_to_sign_in(
    world: World, alice: Client, client: Client, suffix: str
) -> None:
    booking = held(alice, world.service, tuesday(10))

    response = client.get(f"/account/bookings/{booking.pk}/{suffix}")

    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=/account/bookings/")
