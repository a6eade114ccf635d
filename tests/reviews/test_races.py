"""Reviews under real concurrency, on both databases.

- Several requests reviewing the same booking at once: exactly one review, the rest
  409 already_reviewed (the booking's row lock serialises them; the unique booking column
  is the backstop).
- Many reviews of one vendor committing at once: its rating counts every one of them (F()
  updates, and the first-row INSERT race resolved by retrying as an UPDATE).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from agora.bookings.models import Booking
from agora.reviews import ratings
from agora.reviews.models import ListingRating, Review, VendorRating
from agora.vendors.models import Vendor
from tests.factories import UserFactory
from tests.race import run_concurrently
from tests.reviews.helpers import Shop, client_from, completed_booking, review_via_api

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.race]

THREADS = 8


def test_concurrent_reviews_of_one_booking_make_exactly_one(shop: Shop) -> None:
    booking = shop.booking()
    clients = [client_from(shop.customer, "10.9.0.1") for _ in range(THREADS)]

    def review(index: int) -> tuple[int, str | None]:
        response = review_via_api(clients[index], booking=booking, rating=1 + index % 5)
        body = response.json()
        return response.status_code, body.get("code")

    outcomes = run_concurrently(review, threads=THREADS)

    assert Counter(outcomes) == {(201, None): 1, (409, "already_reviewed"): THREADS - 1}
    review_row = Review.objects.get()
    assert Booking.objects.get(pk=booking.pk).status == "reviewed"
    rating = VendorRating.objects.get(vendor=shop.vendor)
    assert (rating.count, rating.total) == (1, review_row.rating)


def test_two_threads_reviewing_the_same_booking(shop: Shop) -> None:
    booking = shop.booking()
    clients = [client_from(shop.customer, "10.9.0.1") for _ in range(2)]

    outcomes = run_concurrently(
        lambda i: review_via_api(clients[i], booking=booking).status_code, threads=2
    )

    assert sorted(outcomes) == [201, 409]
    assert Review.objects.filter(booking=booking).count() == 1


def test_concurrent_reviews_of_one_vendor_are_all_counted(shop: Shop, settings: Any) -> None:
    settings.AGORA_REVIEW_BURST_COUNT = 1000
    customers = UserFactory.create_batch(THREADS)
    bookings = [completed_booking(customer, shop.listing) for customer in customers]
    clients = [
        client_from(customer, f"10.{index + 10}.0.1") for index, customer in enumerate(customers)
    ]

    def review(index: int) -> int:
        response = review_via_api(clients[index], booking=bookings[index], rating=1 + index % 5)
        return int(response.status_code)

    assert run_concurrently(review, threads=THREADS) == [201] * THREADS

    expected = sum(1 + index % 5 for index in range(THREADS))
    rating = VendorRating.objects.get(vendor=shop.vendor)
    assert (rating.count, rating.total) == (THREADS, expected)
    assert rating.bayesian == pytest.approx(ratings.bayesian(THREADS, expected))
    listing_rating = ListingRating.objects.get(listing=shop.listing)
    assert (listing_rating.count, listing_rating.total) == (THREADS, expected)
    assert Vendor.objects.values_list("rating_count", "rating_sum").get(pk=shop.vendor.pk) == (
        THREADS,
        expected,
    )


def test_without_the_row_lock_the_unique_booking_still_allows_one(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Guard removed: the booking is read without a lock, so every thread sees it
    # `completed` and un-reviewed; the unique booking column refuses all but the first
    # INSERT, and the loser is told already_reviewed — never a 500.
    from agora.reviews import services

    monkeypatch.setattr(services, "lock_row", lambda queryset: queryset.first())
    booking = shop.booking()
    clients = [client_from(shop.customer, "10.9.0.1") for _ in range(THREADS)]

    def review(index: int) -> tuple[int, str | None]:
        response = review_via_api(clients[index], booking=booking)
        return response.status_code, response.json().get("code")

    outcomes = run_concurrently(review, threads=THREADS)

    assert Counter(outcomes) == {(201, None): 1, (409, "already_reviewed"): THREADS - 1}
    assert Review.objects.filter(booking=booking).count() == 1
    assert VendorRating.objects.get(vendor=shop.vendor).count == 1
