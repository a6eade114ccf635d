"""Fixtures of the vendor portal's operations pages: a London workshop that also sells
goods, its owner, manager and staff member, a second vendor, customers, and agora's clock
stopped on Monday 5 January 2026 at 08:00 UTC (London is on UTC in winter)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client

from agora.accounts.models import User
from agora.bookings.models import Booking
from agora.bookings.services import holds, lifecycle
from agora.bookings.services.context import capacity_unit_for
from agora.catalog.models import Listing
from agora.core import clock
from agora.orders.models import VendorOrder
from agora.orders.services import checkout as checkout_services
from agora.vendors.models import Vendor
from tests.factories import (
    ListingFactory,
    ProductFactory,
    UserFactory,
    VendorFactory,
    VendorMembershipFactory,
    VendorScheduleFactory,
)
from tests.vendors.fixtures import _no_static_finders, mailbox, media_root

__all__ = ["_no_static_finders", "mailbox", "media_root"]

NOW = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)  # a Monday
ADDRESS = {
    "name": "Alice Buyer",
    "line1": "1 High Street",
    "city": "London",
    "postcode": "N1 1AA",
    "country": "GB",
}


def monday(hour: int, minute: int = 0, *, days: int = 0) -> datetime:
    return NOW.replace(hour=hour, minute=minute) + timedelta(days=days)


@dataclass
class Shop:
    vendor: Vendor
    service: Listing
    product: Listing
    owner: User
    manager: User
    staff: User
    customer: User
    other_vendor: Vendor
    other_owner: User
    other_service: Listing
    outsider: User

    def held(self, start: datetime, *, listing: Listing | None = None) -> Booking:
        return holds.booking_hold(
            customer=self.customer, listing=listing or self.service, start=start
        )

    def pending(self, start: datetime, *, listing: Listing | None = None) -> Booking:
        """A booking the customer has paid for, waiting for the vendor's answer."""
        booking = self.held(start, listing=listing)
        return lifecycle.booking_pay(
            customer=self.customer,
            booking=booking,
            payment_method="pm_card_visa",
            idempotency_key=f"pay-{booking.pk}",
        )

    def accepted(self, start: datetime, *, listing: Listing | None = None) -> Booking:
        booking = self.pending(start, listing=listing)
        owner = self.other_owner if listing is not None else self.owner
        return lifecycle.booking_accept(actor=owner, booking=booking)

    def paid_order(self, *, product: Listing | None = None, quantity: int = 2) -> VendorOrder:
        product = product or self.product
        checkout = checkout_services.checkout_create(
            customer=self.customer,
            items=[checkout_services.ItemRequest(product.pk, None, quantity)],
            shipping_address=ADDRESS,
            payment_method="pm_card_visa",
            idempotency_key=f"checkout-{product.pk}-{VendorOrder.objects.count()}",
        )
        return VendorOrder.objects.get(checkout=checkout)


@pytest.fixture
def now() -> Iterator[datetime]:
    with clock.frozen(NOW):
        yield NOW


def _shop() -> Shop:
    owner = UserFactory(name="Olive Owner")
    manager = UserFactory(name="Max Manager")
    staff = UserFactory(name="Sam Staff")
    customer = UserFactory(name="Alice Buyer")
    vendor = VendorFactory(name="Camden Motors", owner=owner)
    VendorMembershipFactory(vendor=vendor, user=manager, role="manager")
    VendorMembershipFactory(vendor=vendor, user=staff, role="staff")
    VendorScheduleFactory(vendor=vendor)
    service = ListingFactory(vendor=vendor, title="Full service", price_amount=4599, capacity=1)
    capacity_unit_for(listing=service, resource=None)
    product = ProductFactory(vendor=vendor, title="Wiper blades", price_amount=1299, stock=10)
    other_owner = UserFactory(name="Otto Other")
    other_vendor = VendorFactory(name="Brixton Tyres", owner=other_owner)
    VendorScheduleFactory(vendor=other_vendor)
    other_service = ListingFactory(vendor=other_vendor, title="Tyre fitting", capacity=1)
    capacity_unit_for(listing=other_service, resource=None)
    return Shop(
        vendor=vendor,
        service=service,
        product=product,
        owner=owner,
        manager=manager,
        staff=staff,
        customer=customer,
        other_vendor=other_vendor,
        other_owner=other_owner,
        other_service=other_service,
        outsider=UserFactory(name="Carl Customer"),
    )


@pytest.fixture
def shop(db: Any, now: datetime) -> Shop:
    return _shop()


@pytest.fixture
def client_as() -> Callable[[User], Client]:
    def make(user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make
