"""Fixtures of the customer portal tests: a London workshop open Monday to Friday
09:00–17:00 selling a one-hour service for £45.99, two shops selling products, and two
customers with signed-in test clients; agora's clock is stopped on Monday 5 January 2026
at 08:00 UTC (London is on UTC in winter)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client

from agora.accounts.models import User
from agora.bookings.services.context import capacity_unit_for
from agora.catalog.models import Listing, ProductVariant
from agora.core import clock
from agora.orders.models import ShippingRule
from agora.vendors.models import Vendor
from tests.factories import (
    ListingFactory,
    ProductFactory,
    ProductVariantFactory,
    UserFactory,
    VendorFactory,
    VendorScheduleFactory,
)

NOW = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)  # a Monday
PRICE = 4599


def tuesday(hour: int, minute: int = 0) -> datetime:
    """Tuesday 6 January 2026 at hour:minute UTC (= London wall-clock time)."""
    return datetime(2026, 1, 6, hour, minute, tzinfo=UTC)


@dataclass
class World:
    workshop: Vendor
    service: Listing
    quote_job: Listing
    owner: User
    anvil: Vendor
    bolt: Vendor
    widget: Listing
    tyre: Listing
    tyre_16: ProductVariant
    gadget: Listing
    alice: User
    bob: User


@pytest.fixture(autouse=True)
def _no_static_finders(settings: Any) -> None:
    # Pages link static files but these tests never fetch them: skip WhiteNoise's walk.
    settings.WHITENOISE_USE_FINDERS = False


@pytest.fixture
def now() -> Iterator[datetime]:
    with clock.frozen(NOW):
        yield NOW


def make_world() -> World:
    owner = UserFactory(name="Wendy Workshop")
    workshop = VendorFactory(
        name="Camden Motors",
        owner=owner,
        contact_email="hello@camden.example",
        contact_phone="+44 20 7946 0000",
    )
    VendorScheduleFactory(vendor=workshop)
    service = ListingFactory(vendor=workshop, title="Full service", price_amount=PRICE)
    capacity_unit_for(listing=service, resource=None)
    quote_job = ListingFactory(
        vendor=workshop,
        kind="quote",
        title="Engine diagnostics",
        price_amount=4500,
        duration_minutes=None,
    )
    anvil = VendorFactory(name="Anvil Parts", owner=UserFactory())
    bolt = VendorFactory(name="Bolt Supplies", owner=UserFactory())
    widget = ProductFactory(vendor=anvil, title="Widget", price_amount=1299, stock=10)
    tyre = ProductFactory(vendor=anvil, title="Tyre", price_amount=3999, stock=0)
    tyre_16 = ProductVariantFactory(listing=tyre, name='16"', price_amount=4500, stock=4)
    gadget = ProductFactory(vendor=bolt, title="Gadget", price_amount=2450, stock=5)
    ShippingRule.objects.create(vendor=bolt, country="", kind="flat", amount=499)
    return World(
        workshop=workshop,
        service=service,
        quote_job=quote_job,
        owner=owner,
        anvil=anvil,
        bolt=bolt,
        widget=widget,
        tyre=tyre,
        tyre_16=tyre_16,
        gadget=gadget,
        alice=UserFactory(name="Alice Buyer"),
        bob=UserFactory(name="Bob Buyer"),
    )


@pytest.fixture
def world(db: Any, now: datetime) -> World:
    return make_world()


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def alice(world: World) -> Client:
    return signed_in(world.alice)


@pytest.fixture
def bob(world: World) -> Client:
    return signed_in(world.bob)
