"""A small public marketplace: a London garage with a bookable service, a quote job and a
product with variants; a Manchester electrician; a suspended vendor and a draft listing
that must never show. Agora's clock stands still on Monday 5 January 2026, 08:00 UTC."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from agora.catalog.models import Listing
from agora.core import clock
from agora.reviews import services as review_services
from agora.vendors.models import Vendor
from tests.factories import (
    BookingFactory,
    ListingFactory,
    ProductFactory,
    ProductVariantFactory,
    UserFactory,
    VendorFactory,
    VendorScheduleFactory,
    _category,
    _city,
)
from tests.vendors.fixtures import _no_static_finders

__all__ = ["_no_static_finders", "market", "now"]

NOW = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


@dataclass
class Market:
    garage: Vendor
    electrician: Vendor
    suspended: Vendor
    pending: Vendor
    mot: Listing
    clutch: Listing
    pads: Listing
    rewire: Listing
    draft: Listing
    hidden: Listing


@pytest.fixture
def now() -> Iterator[datetime]:
    with clock.frozen(NOW):
        yield NOW


@pytest.fixture
def market(db: Any, now: datetime) -> Market:
    garage = VendorFactory(
        name="Camden Motors",
        slug="camden-motors",
        vertical="automotive",
        description="Independent garage: MOTs, servicing and repairs since 1998.",
        address="1 Camden Road",
        postcode="NW1 9AA",
        contact_phone="+44 20 7946 0000",
        owner=UserFactory(name="Gary Owner"),
    )
    VendorScheduleFactory(vendor=garage)
    electrician = VendorFactory(
        name="Northern Sparks",
        slug="northern-sparks",
        vertical="home-services",
        city=_city("manchester"),
    )
    suspended = VendorFactory(name="Gone Garage", slug="gone-garage", status="suspended")
    pending = VendorFactory(name="Soon Garage", slug="soon-garage", status="pending")
    mot = ListingFactory(
        vendor=garage,
        title="MOT test",
        description="The annual MOT for cars.",
        price_amount=5485,
        attributes={"mot_class": "4"},
    )
    clutch = ListingFactory(
        vendor=garage,
        kind="quote",
        title="Clutch replacement",
        category=_category("car-repairs"),
        price_amount=39900,
        duration_minutes=None,
    )
    pads = ProductFactory(
        vendor=garage,
        title="Brake pad set",
        category=_category("auto-parts"),
        price_amount=3499,
        stock=0,
        sku="BP-1",
    )
    ProductVariantFactory(listing=pads, name="Front axle", stock=3, price_amount=None)
    ProductVariantFactory(listing=pads, name="Rear axle", stock=0, price_amount=2999)
    rewire = ListingFactory(
        vendor=electrician,
        kind="quote",
        title="Full house rewire",
        category=_category("electricians"),
        price_amount=350000,
        duration_minutes=None,
    )
    draft = ListingFactory(vendor=garage, title="Secret draft", status="draft")
    hidden = ListingFactory(vendor=suspended, title="Hidden service")
    ListingFactory(vendor=pending, title="Pending service")
    _reviews(garage, mot)
    return Market(garage, electrician, suspended, pending, mot, clutch, pads, rewire, draft, hidden)


REVIEWS = [
    # (author, stars, text, days before now)
    ("Ann Example", 5, "Quick and friendly, car passed first time.", 20),
    ("Bob Builder", 4, "Fair price, they explained every advisory.", 15),
    ("Cara Smith", 5, "Booked online at 9 in the evening, done by noon the next day.", 10),
    ("Dev Patel", 4, "Good work but the waiting room was cold.", 5),
    ("Eve Troll", 1, "Terrible!!! Never again!!! Call my cousin's garage instead.", 2),
]


def _reviews(garage: Vendor, mot: Listing) -> None:
    """Five verified reviews of completed MOT bookings, through the real service; the
    operator hides the last one, and the owner replies to Dev's. Published: 5, 4, 5, 4."""
    owner = garage.memberships.get().user
    operator = UserFactory(is_operator=True)
    written = []
    for name, stars, text, days in REVIEWS:
        at = NOW - timedelta(days=days)
        customer = UserFactory(name=name)
        booking = BookingFactory(
            listing=mot,
            customer=customer,
            status="completed",
            start=at - timedelta(days=1, hours=2),
            hold_expires_at=None,
            paid_at=at - timedelta(days=3),
            accepted_at=at - timedelta(days=3),
            completed_at=at - timedelta(days=1),
        )
        with clock.frozen(at):
            written.append(
                review_services.review_create(
                    author=customer, booking_id=booking.pk, rating=stars, text=text
                )
            )
    assert all(review.status == "published" for review in written)
    review_services.review_reply(
        user=owner, review_id=written[3].pk, text="Sorry! The heater is fixed now."
    )
    review_services.review_moderate(
        operator=operator, review_id=written[4].pk, action="hide", reason="Abusive, off-topic"
    )
