"""The demo step: the demo customer's garage holds AB12CDE, with a past MOT booked for it,
and MT05OLD; running it again adds nothing."""

from __future__ import annotations

import pytest

from agora.bookings.models import Booking
from agora.demo import accounts, bookings, marketplace, vehicles
from agora.verticals.automotive.models import Vehicle

pytestmark = pytest.mark.django_db


def test_the_demo_customer_has_two_vehicles_one_with_a_past_booking() -> None:
    for step in (accounts.load, marketplace.load, bookings.load):
        step()

    vehicles.load()
    again = vehicles.load()

    garage = Vehicle.objects.filter(owner__email="customer@agora.test").order_by("registration")
    assert [v.registration for v in garage] == ["AB12CDE", "MT05OLD"]
    (booking,) = Booking.objects.filter(vehicle__registration="AB12CDE")
    assert (booking.customer.email, booking.status) == ("customer@agora.test", "completed")
    assert booking.listing.title == "MOT test (class 4)"
    assert list(booking.job_stages.order_by("at").values_list("stage", flat=True)) == [
        "checked_in",
        "inspecting",
        "ready",
        "returned",
    ]
    assert "(0 new)" in again
    assert Booking.objects.filter(vehicle__isnull=False).count() == 1
