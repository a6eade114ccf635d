"""The people and things the messaging tests talk about.

A London workshop (owner and a staff member) selling a one-hour service and a product; its
customer Alice with a held booking and a reserved (unpaid) order, both made through the API;
Carol, another customer of the same workshop, with her own booking and order; Bob, who
bought nothing; a rival vendor's owner; an operator. Each has an API client. Agora's clock
is stopped on Monday 5 January 2026 at 08:00 UTC by the `now` fixture.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db.models import Model
from PIL import Image

from agora.accounts.models import User
from agora.bookings.models import Booking
from agora.bookings.services.context import capacity_unit_for
from agora.catalog.models import Listing
from agora.core.models import IdempotencyKey
from agora.messaging.models import Attachment, Conversation, Message
from agora.notifications.models import Event
from agora.orders.models import VendorOrder
from agora.vendors.models import Vendor
from tests.conftest import ApiClient
from tests.factories import (
    ListingFactory,
    ProductFactory,
    UserFactory,
    VendorFactory,
    VendorMembershipFactory,
    VendorScheduleFactory,
)
from tests.orders.helpers import client_for
from tests.vendors.helpers import PDF_BYTES, snapshot

NOW = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)  # a Monday
VISA = "pm_card_visa"
ADDRESS = {
    "name": "Alice Buyer",
    "line1": "1 High Street",
    "city": "London",
    "postcode": "N1 1AA",
    "country": "GB",
}

# Every row a message request could write: a refused request changes none of them.
MESSAGE_MODELS: tuple[type[Model], ...] = (Conversation, Message, Attachment, Event)


def rows() -> dict[str, list[dict[str, Any]]]:
    return snapshot(*MESSAGE_MODELS, IdempotencyKey)


def tuesday(hour: int) -> datetime:
    return datetime(2026, 1, 6, hour, 0, tzinfo=UTC)


@dataclass
class World:
    vendor: Vendor
    rival: Vendor
    service: Listing
    product: Listing
    owner: User
    staff: User
    alice: User
    bob: User
    carol: User
    rival_owner: User
    operator: User
    booking: Booking  # Alice's, held
    order: VendorOrder  # Alice's, reserved
    carols_booking: Booking
    carols_order: VendorOrder
    as_owner: ApiClient
    as_staff: ApiClient
    as_alice: ApiClient
    as_bob: ApiClient
    as_carol: ApiClient
    as_rival: ApiClient
    as_operator: ApiClient

    def send(self, client: ApiClient, path: str, text: str, **extra: Any) -> dict[str, Any]:
        response = client.post(path, {"text": text, **extra})
        assert response.status_code == 201, response.content
        body: dict[str, Any] = response.json()
        return body

    def pay_booking(self) -> None:
        response = self.as_alice.post(f"/bookings/{self.booking.pk}/pay", {"payment_method": VISA})
        assert response.status_code == 200, response.content
        self.booking.refresh_from_db()

    def pay_order(self) -> None:
        response = self.as_alice.post(
            f"/checkout/{self.order.checkout_id}/pay",
            {"payment_method": VISA},
            idempotency_key=f"pay-{self.order.checkout_id}",
        )
        assert response.status_code == 200, response.content
        self.order.refresh_from_db()


def _hold(client: ApiClient, listing: Listing, start: datetime) -> Booking:
    response = client.post("/bookings", {"listing_id": listing.pk, "start": start.isoformat()})
    assert response.status_code == 201, response.content
    return Booking.objects.get(pk=response.json()["id"])


def _reserve(client: ApiClient, product: Listing) -> VendorOrder:
    response = client.post(
        "/checkout",
        {"items": [{"listing_id": product.pk, "quantity": 1}], "shipping_address": ADDRESS},
        idempotency_key=f"checkout-{client.token}",
    )
    assert response.status_code == 201, response.content
    return VendorOrder.objects.get(pk=response.json()["orders"][0]["id"])


def make_world() -> World:
    owner = UserFactory(name="Wendy Workshop")
    staff = UserFactory(name="Sam Spanner")
    alice = UserFactory(name="Alice Buyer")
    bob = UserFactory(name="Bob Other")
    carol = UserFactory(name="Carol Neighbour")
    rival_owner = UserFactory(name="Rita Rival")
    operator = UserFactory(name="Olivia Operator", is_operator=True, is_staff=True)
    vendor = VendorFactory(name="Camden Motors", owner=owner)
    VendorMembershipFactory(vendor=vendor, user=staff, role="staff")
    VendorScheduleFactory(vendor=vendor)
    rival = VendorFactory(name="Rival Garage", owner=rival_owner)
    service = ListingFactory(vendor=vendor, title="Full service", price_amount=4599)
    capacity_unit_for(listing=service, resource=None)
    product = ProductFactory(vendor=vendor, title="Wiper blades", price_amount=1299)
    as_alice, as_carol = client_for(alice), client_for(carol)
    return World(
        vendor=vendor,
        rival=rival,
        service=service,
        product=product,
        owner=owner,
        staff=staff,
        alice=alice,
        bob=bob,
        carol=carol,
        rival_owner=rival_owner,
        operator=operator,
        booking=_hold(as_alice, service, tuesday(10)),
        order=_reserve(as_alice, product),
        carols_booking=_hold(as_carol, service, tuesday(12)),
        carols_order=_reserve(as_carol, product),
        as_owner=client_for(owner),
        as_staff=client_for(staff),
        as_alice=as_alice,
        as_bob=client_for(bob),
        as_carol=as_carol,
        as_rival=client_for(rival_owner),
        as_operator=client_for(operator),
    )


# --- files -----------------------------------------------------------------------------------


def image_bytes(fmt: str, *, size: tuple[int, int] = (40, 30), gps: bool = False) -> bytes:
    """A small image; with `gps`, carrying EXIF with a camera model and a GPS position."""
    buffer = io.BytesIO()
    image = Image.new("RGB", size, "red")
    if gps:
        exif = Image.Exif()
        exif[0x0110] = "Phone Camera 12"  # Model
        exif[0x8825] = {1: "N", 2: (51.0, 30.0, 0.0), 3: "W", 4: (0.0, 7.0, 0.0)}  # GPSInfo
        image.save(buffer, format=fmt, exif=exif)
    else:
        image.save(buffer, format=fmt)
    return buffer.getvalue()


SVG_BYTES = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg">'
    b"<script>alert(document.cookie)</script></svg>"
)
HTML_BYTES = b"<!doctype html><html><body><script>alert(1)</script></body></html>"

__all__ = ["PDF_BYTES"]
