"""Opening hours for every demo vendor, a shared MOT bay, and bookings in every state —
past ones made by running the real services with the clock set back, so their audit
trails, payments and ledger entries are what real use would leave."""

from __future__ import annotations

from datetime import datetime, timedelta

from agora.accounts.models import User
from agora.bookings.models import Booking, BookingStatus, PickupOption
from agora.bookings.selectors import listing_slots
from agora.bookings.services import holds, lifecycle, setup
from agora.catalog.models import Listing, ListingKind
from agora.core import clock
from agora.demo.accounts import DEMO_PASSWORD
from agora.vendors.models import Vendor, VendorStatus

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
HOURS = {
    "automotive": {**{d: [["08:00", "18:00"]] for d in WEEKDAYS}, "sat": [["09:00", "13:00"]]},
    "home-services": {d: [["08:00", "20:00"]] for d in (*WEEKDAYS, "sat")},
}
CUSTOMERS = [
    ("customer@agora.test", "Chloe Customer"),
    ("sam@agora.test", "Sam Patel"),
    ("mia@agora.test", "Mia Nguyen"),
    ("oliver@agora.test", "Oliver Smith"),
]


def _customers() -> list[User]:
    users = []
    for email, name in CUSTOMERS:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User(email=email, name=name)
            user.set_password(DEMO_PASSWORD)
            user.save()
        users.append(user)
    return users


def _schedules() -> int:
    count = 0
    for vendor in Vendor.objects.filter(status=VendorStatus.ACTIVE).exclude(schedule__isnull=False):
        owner = vendor.memberships.order_by("id").first()
        if owner is None:
            continue
        setup.schedule_set(
            actor=owner.user,
            vendor=vendor,
            weekly=HOURS.get(vendor.vertical, HOURS["home-services"]),
            overrides=[],
            holidays=["2026-12-25", "2026-12-26", "2027-01-01"],
        )
        count += 1
    return count


def _mot_bay() -> None:
    vendor = Vendor.objects.filter(name="Camden MOT & Service Centre").first()
    if vendor is None or vendor.resources.exists():
        return
    owner = vendor.memberships.order_by("id").first()
    assert owner is not None
    bay = setup.resource_create(
        actor=owner.user, vendor=vendor, name="MOT bay", kind="bay", capacity=1
    )
    for listing in vendor.listings.filter(kind=ListingKind.SERVICE, title__startswith="MOT"):
        setup.resource_assign(actor=owner.user, listing=listing, resource_id=bay.pk)
    full_service = vendor.listings.filter(title="Full service").first()
    if full_service is not None:
        PickupOption.objects.get_or_create(listing=full_service, defaults={"fee_amount": 1500})


def _slot(listing: Listing, after: datetime, index: int = 0) -> datetime:
    found = listing_slots(listing=listing, start=after, end=after + timedelta(days=14)).slots
    return found[min(index, len(found) - 1)].start


def _book(listing: Listing, customer: User, *, at: datetime, index: int, key: str) -> Booking:
    """Hold and pay a slot as of `at`, with the clock set to `at`."""
    with clock.frozen(at):
        booking = holds.booking_hold(
            customer=customer, listing=listing, start=_slot(listing, at + timedelta(days=1), index)
        )
        return lifecycle.booking_pay(
            customer=customer, booking=booking, payment_method="pm_card_visa", idempotency_key=key
        )


def _staff(listing: Listing) -> User:
    membership = listing.vendor.memberships.order_by("id").first()
    assert membership is not None
    return membership.user


def _bookings(customers: list[User]) -> int:
    if Booking.objects.filter(customer=customers[0]).exists():
        return 0
    services = list(
        Listing.objects.filter(
            kind=ListingKind.SERVICE, status="active", vendor__status=VendorStatus.ACTIVE
        )
        .select_related("vendor")
        .order_by("id")
    )
    now = clock.now()
    made = 0
    for number, listing in enumerate(services[:12]):
        staff = _staff(listing)
        customer = customers[number % len(customers)]
        past = now - timedelta(days=20 - number)
        # Completed in the past; its escrow window has passed, so it is released below.
        done = _book(listing, customer, at=past, index=0, key=f"demo-{listing.pk}-done")
        with clock.frozen(done.start + timedelta(hours=2)):
            if done.status == BookingStatus.PENDING:
                lifecycle.booking_accept(actor=staff, booking=done)
            lifecycle.booking_complete(actor=staff, booking=done)
        made += 1
        state = number % 6
        future = _book(
            listing,
            customers[(number + 1) % len(customers)],
            at=now,
            index=number % 4,
            key=f"demo-{listing.pk}-future",
        )
        made += 1
        if state == 1 and future.status == BookingStatus.PENDING:
            lifecycle.booking_accept(actor=staff, booking=future)
        elif state == 2:
            lifecycle.booking_cancel(
                actor=future.customer, booking=future, by_vendor=False, reason="Plans changed"
            )
        elif state == 3 and future.status == BookingStatus.PENDING:
            lifecycle.booking_decline(actor=staff, booking=future, reason="Fully booked that week")
        if number % 4 == 0:
            # A no-show in the past, and a hold someone abandoned.
            missed = _book(
                listing,
                customers[(number + 2) % len(customers)],
                at=past,
                index=2,
                key=f"demo-{listing.pk}-missed",
            )
            with clock.frozen(missed.end + timedelta(hours=1)):
                if missed.status == BookingStatus.PENDING:
                    lifecycle.booking_accept(actor=staff, booking=missed)
                lifecycle.booking_no_show(actor=staff, booking=missed)
            with clock.frozen(now - timedelta(hours=3)):
                holds.booking_hold(
                    customer=customers[3],
                    listing=listing,
                    start=_slot(listing, now + timedelta(days=2), 5),
                )
            made += 2
        if number % 5 == 0:
            held = holds.booking_hold(
                customer=customers[2],
                listing=listing,
                start=_slot(listing, now + timedelta(days=3), 6),
            )
            started = _book(
                listing, customers[1], at=now, index=7, key=f"demo-{listing.pk}-started"
            )
            if started.status == BookingStatus.PENDING:
                lifecycle.booking_accept(actor=staff, booking=started)
            lifecycle.booking_start(actor=staff, booking=started)
            made += 2 if held else 1
    lifecycle.expire_stale_holds()
    lifecycle.release_due_escrow()
    return made


def load() -> str:
    schedules = _schedules()
    _mot_bay()
    created = _bookings(_customers())
    by_status = sorted({b.status for b in Booking.objects.only("status")})
    return f"{schedules} schedules set, {created} bookings made; states: {', '.join(by_status)}"
