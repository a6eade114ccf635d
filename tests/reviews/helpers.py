"""Builders shared by the review tests: completed bookings and delivered orders written
straight to the database (their lifecycles have their own tests), and read-outs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db.models import Model

from agora.accounts.models import User
from agora.bookings.models import Booking
from agora.catalog.models import Listing
from agora.core.models import AuditLog
from agora.orders.models import Checkout, OrderLine, VendorOrder
from agora.reviews.models import (
    ListingRating,
    Review,
    ReviewRevision,
    ReviewSignals,
    VendorQualityFlag,
    VendorRating,
)
from agora.vendors.models import Vendor
from tests.conftest import ApiClient
from tests.factories import (
    BookingFactory,
    ListingFactory,
    ProductFactory,
    UserFactory,
    VendorFactory,
    VendorMembershipFactory,
)
from tests.orders.helpers import client_for
from tests.vendors.helpers import snapshot

# A Monday, noon UTC.
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
ADDRESS = {"name": "A", "line1": "1 High St", "city": "London", "postcode": "N1", "country": "GB"}

REVIEW_MODELS: tuple[type[Model], ...] = (
    Review,
    ReviewRevision,
    ReviewSignals,
    VendorRating,
    ListingRating,
    VendorQualityFlag,
    Booking,
    VendorOrder,
    Vendor,
    Listing,
    AuditLog,
    User,
)


def rows() -> dict[str, list[dict[str, Any]]]:
    """Every row a review request could change, to show a refusal changed nothing."""
    return snapshot(*REVIEW_MODELS)


def completed_booking(
    customer: User,
    listing: Listing,
    *,
    completed_at: datetime | None = None,
    status: str = "completed",
    **extra: Any,
) -> Booking:
    done = completed_at or NOW - timedelta(days=1)
    return BookingFactory(
        listing=listing,
        customer=customer,
        status=status,
        start=done - timedelta(hours=2),
        hold_expires_at=None,
        paid_at=done - timedelta(days=3),
        accepted_at=done - timedelta(days=3),
        completed_at=done if status in ("completed", "reviewed") else None,
        **extra,
    )


def vendor_order(
    customer: User,
    vendor: Vendor,
    *listings: Listing,
    status: str = "delivered",
    delivered_at: datetime | None = None,
) -> VendorOrder:
    """A paid vendor order of `listings` (one unit each), in `status`."""
    when = delivered_at or NOW - timedelta(days=1)
    checkout = Checkout.objects.create(
        customer=customer,
        status="paid",
        currency="GBP",
        total_amount=1000 * len(listings),
        shipping_address=dict(ADDRESS),
        expires_at=when,
        created_at=when - timedelta(days=4),
        paid_at=when - timedelta(days=4),
    )
    order = VendorOrder.objects.create(
        checkout=checkout,
        vendor=vendor,
        customer=customer,
        status=status,
        currency="GBP",
        subtotal_amount=1000 * len(listings),
        shipping_amount=0,
        total_amount=1000 * len(listings),
        created_at=when - timedelta(days=4),
        paid_at=when - timedelta(days=4),
        delivered_at=when if status in ("delivered", "completed") else None,
    )
    for listing in listings:
        OrderLine.objects.create(
            order=order,
            listing=listing,
            title=listing.title,
            unit_price_amount=1000,
            quantity=1,
            line_total_amount=1000,
        )
    return order


@dataclass
class Shop:
    """An active London vendor with a service and a product, an owner, a manager, a
    `staff` member, two customers and a rival vendor's owner — each with an API client."""

    vendor: Vendor
    listing: Listing
    product: Listing
    owner: User
    manager: User
    staff: User
    customer: User
    other_customer: User
    rival_owner: User
    as_owner: ApiClient
    as_manager: ApiClient
    as_staff: ApiClient
    as_customer: ApiClient
    as_other_customer: ApiClient
    as_rival: ApiClient

    def booking(self, **extra: Any) -> Booking:
        return completed_booking(self.customer, self.listing, **extra)


def client_from(user: User, ip: str) -> ApiClient:
    """An API client whose requests come from `ip` (each person in these tests has their own
    address, so the shared-network rule sees what it would see in real use)."""
    client = client_for(user)
    client.client.defaults["REMOTE_ADDR"] = ip
    return client


def make_shop() -> Shop:
    owner, manager, staff, rival_owner = UserFactory.create_batch(4)
    customer = UserFactory(name="Chloe Customer")
    other_customer = UserFactory(name="Olly Other")
    vendor = VendorFactory(owner=owner, name="Camden Motors")
    VendorMembershipFactory(vendor=vendor, user=manager, role="manager")
    VendorMembershipFactory(vendor=vendor, user=staff, role="staff")
    VendorFactory(owner=rival_owner, name="Rival Motors")
    listing = ListingFactory(vendor=vendor, title="Full service")
    product = ProductFactory(vendor=vendor, title="Wiper blades")
    return Shop(
        vendor=vendor,
        listing=listing,
        product=product,
        owner=owner,
        manager=manager,
        staff=staff,
        customer=customer,
        other_customer=other_customer,
        rival_owner=rival_owner,
        as_owner=client_from(owner, "198.51.100.10"),
        as_manager=client_from(manager, "198.51.100.11"),
        as_staff=client_from(staff, "198.51.100.12"),
        as_customer=client_from(customer, "198.51.100.13"),
        as_other_customer=client_from(other_customer, "198.51.100.14"),
        as_rival=client_from(rival_owner, "198.51.100.20"),
    )


def review_via_api(client: ApiClient, *, booking: Booking | None = None, **body: Any) -> Any:
    payload = {"rating": 5, "text": "Quick, friendly and fairly priced.", **body}
    if booking is not None:
        payload["booking_id"] = booking.pk
    return client.post("/reviews", payload)


def vendor_rating(vendor: Vendor) -> tuple[int, int, dict[int, int]] | None:
    row = VendorRating.objects.filter(vendor=vendor).first()
    return (row.count, row.total, row.distribution) if row else None


def stars(**counts: int) -> dict[int, int]:
    """stars(five=2, one=1) → {1: 1, 2: 0, 3: 0, 4: 0, 5: 2}."""
    names = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5}
    result = dict.fromkeys(range(1, 6), 0)
    for name, n in counts.items():
        result[names[name]] = n
    return result
