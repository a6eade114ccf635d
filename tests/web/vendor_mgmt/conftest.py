"""A London workshop with an owner, a manager and a `staff` member; a rival vendor with its
own owner and listing; a customer on no vendor's staff — each with a signed-in browser
client (Django's test client with a session)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from agora.accounts.models import User
from agora.catalog.models import Listing
from agora.vendors.models import Vendor
from tests.factories import (
    ListingFactory,
    ProductFactory,
    UserFactory,
    VendorFactory,
    VendorMembershipFactory,
)

# A Monday in winter: London is on UTC.
NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@dataclass
class Shop:
    vendor: Vendor
    owner: User
    manager: User
    staff: User
    service: Listing
    product: Listing
    rival: Vendor
    rival_owner: User
    rival_listing: Listing
    customer: User
    as_owner: Client
    as_manager: Client
    as_staff: Client
    as_rival: Client
    as_customer: Client
    anonymous: Client


@pytest.fixture
def shop(db: Any, settings: Any, tmp_path: Path) -> Shop:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    owner, manager, staff = (UserFactory() for _ in range(3))
    vendor = VendorFactory(name="Camden Motors", owner=owner)
    VendorMembershipFactory(vendor=vendor, user=manager, role="manager")
    VendorMembershipFactory(vendor=vendor, user=staff, role="staff")
    service = ListingFactory(vendor=vendor, title="Full service", price_amount=12_000)
    product = ProductFactory(vendor=vendor, title="Wiper blades", price_amount=1500, stock=4)
    rival_owner = UserFactory()
    rival = VendorFactory(name="Rival Garage", owner=rival_owner)
    rival_listing = ListingFactory(vendor=rival, title="Rival MOT", price_amount=4000)
    customer = UserFactory()
    return Shop(
        vendor=vendor,
        owner=owner,
        manager=manager,
        staff=staff,
        service=service,
        product=product,
        rival=rival,
        rival_owner=rival_owner,
        rival_listing=rival_listing,
        customer=customer,
        as_owner=signed_in(owner),
        as_manager=signed_in(manager),
        as_staff=signed_in(staff),
        as_rival=signed_in(rival_owner),
        as_customer=signed_in(customer),
        anonymous=Client(),
    )


def html(response: Any) -> str:
    return response.content.decode()
