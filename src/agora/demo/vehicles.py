"""The demo customer's garage: AB12CDE (MOT due within weeks, advisories from its last
test) with a past MOT booked and done on Agora — its job stages told as it went — and
MT05OLD (MOT expired). Looked up with
the offline provider whatever AGORA_VEHICLE_PROVIDER says, since the demo's registrations
are not real. The MOT reminder sweep runs once at the end, so a reminder that is due
shows in the notification centre at once."""

from __future__ import annotations

from datetime import timedelta

from agora.accounts.models import User
from agora.bookings.models import Booking
from agora.bookings.selectors import listing_slots
from agora.bookings.services import holds, lifecycle
from agora.catalog.models import Listing
from agora.core import clock
from agora.verticals.automotive import providers, reminders, services
from agora.verticals.automotive.models import Vehicle

CUSTOMER = "customer@agora.test"
GARAGE = ("AB12CDE", "MT05OLD")
MOT_LISTING = ("Camden MOT & Service Centre", "MOT test (class 4)")
STAGES = (
    (0, "checked_in", "Keys left at the desk."),
    (10, "inspecting", ""),
    (45, "ready", "Passed, with three advisories: see the MOT history."),
    (70, "returned", ""),
)


def _past_mot(customer: User, vehicle: Vehicle) -> bool:
    """Last year's MOT of the car, booked for it and completed, as real use leaves it."""
    if Booking.objects.filter(vehicle=vehicle).exists():
        return False
    listing = (
        Listing.objects.filter(vendor__name=MOT_LISTING[0], title=MOT_LISTING[1])
        .select_related("vendor")
        .first()
    )
    if listing is None:
        return False
    staff = listing.vendor.memberships.order_by("id").first()
    if staff is None:
        return False
    at = clock.now() - timedelta(days=40)
    with clock.frozen(at):
        slots = listing_slots(
            listing=listing, start=at + timedelta(days=1), end=at + timedelta(days=8)
        )
        if not slots.slots:
            return False
        booking = holds.booking_hold(
            customer=customer, listing=listing, start=slots.slots[0].start, vehicle_id=vehicle.pk
        )
        booking = lifecycle.booking_pay(
            customer=customer,
            booking=booking,
            payment_method="pm_card_visa",
            idempotency_key=f"demo-vehicle-{vehicle.pk}",
        )
    with clock.frozen(booking.start - timedelta(minutes=10)):
        if booking.status == "pending":
            booking = lifecycle.booking_accept(actor=staff.user, booking=booking)
    # The job as the workshop told it, stage by stage (the first starts the booking).
    for minutes, stage, note in STAGES:
        with clock.frozen(booking.start + timedelta(minutes=minutes)):
            services.job_stage_add(actor=staff.user, booking=booking, stage=stage, note=note)
    booking.refresh_from_db()
    with clock.frozen(booking.end):
        lifecycle.booking_complete(actor=staff.user, booking=booking)
    return True


def load() -> str:
    customer = User.objects.filter(email=CUSTOMER).first()
    if customer is None:
        return "no demo customer"
    added, booked = 0, 0
    with providers.using(providers.build("offline")):
        for registration in GARAGE:
            vehicle = Vehicle.objects.filter(
                owner=customer, registration=registration, removed_at__isnull=True
            ).first()
            if vehicle is None:
                vehicle = services.vehicle_add(owner=customer, registration=registration)
                added += 1
            if registration == GARAGE[0]:
                booked += _past_mot(customer, vehicle)
        reminded = reminders.send_due_mot_reminders()
    history = Booking.objects.filter(vehicle__owner=customer).count()
    return (
        f"{len(GARAGE)} vehicles in {CUSTOMER}'s garage ({added} new), "
        f"{history} booking(s) in their service history ({booked} new), "
        f"{reminded} MOT reminder(s) sent"
    )
