"""A marketplace where two customers have done everything a person can do, through the
real API: Alice booked and paid a service (completed), bought and received goods, wrote
messages and a review, has notifications and preferences and is staff of a vendor; Carol,
her neighbour, did the same on her own. The export and deletion tests are about Alice and
must never touch Carol."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agora.accounts.models import User
from agora.bookings.models import Booking
from agora.notifications import delivery
from agora.orders.models import VendorOrder
from agora.vendors.models import Vendor
from tests.conftest import ApiClient
from tests.factories import VendorFactory, VendorMembershipFactory
from tests.messaging.helpers import VISA, World, make_world

SHIP = {"carrier": "Royal Mail", "tracking_number": "RM123456789GB"}


def ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body: dict[str, Any] = response.json() if response.content else {}
    return body


@dataclass
class PrivacyWorld:
    world: World
    alice: User
    carol: User
    as_alice: ApiClient
    as_carol: ApiClient
    booking: Booking  # Alice's, completed
    order: VendorOrder  # Alice's, delivered
    carols_booking: Booking
    carols_order: VendorOrder
    alices_other_vendor: Vendor  # Alice is one of its two owners


def _serve(world: World, client: ApiClient, booking: Booking, order: VendorOrder) -> None:
    """Pay, then the vendor does the work: the booking completed, the order delivered."""
    ok(client.post(f"/bookings/{booking.pk}/pay", {"payment_method": VISA}))
    ok(
        client.post(
            f"/checkout/{order.checkout_id}/pay",
            {"payment_method": VISA},
            idempotency_key=f"pay-{order.checkout_id}",
        )
    )
    for step in ("accept", "start", "complete"):
        response = world.as_owner.post(f"/bookings/{booking.pk}/{step}")
        if step == "accept" and response.status_code == 409:  # auto-accepted
            continue
        ok(response)
    ok(world.as_owner.post(f"/orders/{order.pk}/accept"))
    ok(world.as_owner.post(f"/orders/{order.pk}/ship", SHIP))
    ok(world.as_owner.post(f"/orders/{order.pk}/deliver"))


def make_privacy_world() -> PrivacyWorld:
    """Call with agora's clock stopped (tests.messaging.helpers.NOW)."""
    world = make_world()
    alice, carol = world.alice, world.carol
    _serve(world, world.as_alice, world.booking, world.order)
    _serve(world, world.as_carol, world.carols_booking, world.carols_order)
    # Alice's own words: notes on her booking are in the hold; messages and a review here
    world.send(world.as_alice, f"/bookings/{world.booking.pk}/messages", "Is parking free?")
    world.send(world.as_owner, f"/bookings/{world.booking.pk}/messages", "Yes, at the back.")
    world.send(world.as_alice, f"/orders/{world.order.pk}/messages", "Thanks, arrived safely")
    world.send(world.as_carol, f"/bookings/{world.carols_booking.pk}/messages", "Carol here")
    ok(
        world.as_alice.post(
            "/reviews",
            {"booking_id": world.booking.pk, "rating": 5, "text": "Friendly and quick work."},
        ),
        201,
    )
    ok(
        world.as_carol.post(
            "/reviews",
            {"booking_id": world.carols_booking.pk, "rating": 4, "text": "Carol liked it."},
        ),
        201,
    )
    ok(
        world.as_alice.put(
            "/me/notification-preferences", {"groups": [{"group": "reviews", "email": False}]}
        )
    )
    delivery.run_once()  # notifications for both
    other_vendor = VendorFactory(name="Alice & Co", owner=alice)
    VendorMembershipFactory(vendor=other_vendor, role="owner")
    world.booking.refresh_from_db()
    world.order.refresh_from_db()
    return PrivacyWorld(
        world=world,
        alice=alice,
        carol=carol,
        as_alice=world.as_alice,
        as_carol=world.as_carol,
        booking=world.booking,
        order=world.order,
        carols_booking=world.carols_booking,
        carols_order=world.carols_order,
        alices_other_vendor=other_vendor,
    )


def quote_request_for(customer: User, title: str, description: str) -> Any:
    """A quote request of `customer`, written as the quotes service leaves a new one."""
    from datetime import timedelta

    from agora.catalog.models import Category
    from agora.core import clock
    from agora.quotes.models import QuoteRequest

    return QuoteRequest.objects.create(
        customer=customer,
        category=Category.objects.get(slug="mot-servicing"),
        title=title,
        description=description,
        answers={"access": "side gate"},
        expires_at=clock.now() + timedelta(days=7),
    )
