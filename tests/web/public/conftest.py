"""A small public marketplace: a London garage with a bookable service, a quote job and a
product with variants; a Manchester electrician; a suspended vendor and a draft listing
that must never show. Agora's clock stands still on Monday 5 January 2026, 08:00 UTC."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from agora.catalog.models import Listing
from agora.core import clock
from agora.vendors.models import Vendor
from tests.factories import (
    ListingFactory,
    ProductFactory,
    ProductVariantFactory,
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
        rating_count=4,
        rating_sum=18,
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
        rating_count=2,
        rating_sum=9,
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
    return Market(garage, electrician, suspended, pending, mot, clutch, pads, rewire, draft, hidden)
