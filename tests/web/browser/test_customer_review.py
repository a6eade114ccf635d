"""A customer reviews a completed booking in a real browser."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from agora.bookings import selectors
from agora.bookings.services import holds, lifecycle
from agora.core import clock
from agora.reviews.models import Review
from tests.web.account.conftest import make_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_customer_reviews_a_completed_booking(page: Any, sign_in: Any, screenshot: Any) -> None:
    world = make_world()
    slot = selectors.listing_slots(
        listing=world.service, start=clock.now(), end=clock.now() + timedelta(days=7)
    ).slots[0]
    booking = holds.booking_hold(customer=world.alice, listing=world.service, start=slot.start)
    lifecycle.booking_pay(
        customer=world.alice, booking=booking, payment_method="pm_card_visa", idempotency_key="k"
    )
    lifecycle.booking_accept(actor=world.owner, booking=booking)
    lifecycle.booking_complete(actor=world.owner, booking=booking)
    sign_in(world.alice)

    page.goto("/account/")
    screenshot("1-dashboard")
    page.get_by_role("link", name="Review Full service").click()
    page.wait_for_url(f"**/account/reviews/new/booking/{booking.pk}/")
    page.get_by_label("4 stars").check()
    page.get_by_label("Your review").fill("On time and explained everything clearly.")
    screenshot("2-form")
    page.get_by_role("button", name="Publish review").click()

    page.wait_for_url("**/account/reviews/")
    assert "Thank you — your review is published." in page.content()
    assert "On time and explained everything clearly." in page.content()
    screenshot("3-published")
    review = Review.objects.get(booking=booking)
    assert (review.rating, review.status) == (4, "published")
