"""The demo's reviews: written through the real services, some held for moderation, one
booking left for the demo customer to review, and idempotent."""

from __future__ import annotations

from datetime import timedelta

import pytest

from agora.demo import reviews as demo_reviews
from agora.reviews.models import Review
from agora.reviews.selectors import reviewable_for_user
from tests.factories import ListingFactory, UserFactory, VendorFactory
from tests.reviews.helpers import NOW, Shop, completed_booking

pytestmark = pytest.mark.django_db


def test_demo_reviews_include_flagged_ones_and_load_once(shop: Shop) -> None:
    demo_customer = UserFactory(email="customer@agora.test", name="Chloe Customer")
    other = ListingFactory(vendor=VendorFactory(name="Other Garage"))
    people = [demo_customer, *UserFactory.create_batch(4)]
    for day in range(8):
        listing = shop.listing if day % 2 else other
        completed_booking(
            people[day % len(people)], listing, completed_at=NOW - timedelta(days=20 - day)
        )
    completed_booking(demo_customer, shop.listing, completed_at=NOW - timedelta(days=2))

    summary = demo_reviews.load()

    reasons = sorted(
        reason
        for review in Review.objects.select_related("signals")
        for reason in review.signals.reasons
    )
    assert Review.objects.count() == 8
    assert "near_duplicate" in reasons
    assert "shared_network" in reasons
    assert summary.startswith("8 reviews (")
    assert [item.id for item in reviewable_for_user(user=demo_customer)] != []
    assert demo_reviews.load() == "reviews already there"
    assert Review.objects.count() == 8
