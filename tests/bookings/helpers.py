"""Builders and read-outs shared by the booking tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db.models import Model

from agora.accounts.models import User
from agora.bookings.models import (
    Booking,
    CalendarFeedToken,
    CancellationPolicy,
    CapacityUnit,
    PickupOption,
    Resource,
    ResourceAssignment,
    TimeBlock,
    VendorSchedule,
)
from agora.bookings.services.context import capacity_unit_for
from agora.catalog.models import Listing
from agora.core.models import AuditLog, IdempotencyKey
from agora.payments.models import JournalEntry, JournalTransaction, Payment, Refund
from agora.vendors.models import Vendor
from tests.conftest import ApiClient
from tests.factories import (
    ListingFactory,
    UserFactory,
    VendorFactory,
    VendorMembershipFactory,
    VendorScheduleFactory,
)
from tests.vendors.helpers import client_for, snapshot

# A Monday. Europe/London is on GMT (UTC+0) until 29 March 2026.
NOW = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
PRICE = 4599  # £45.99: its 3 % and 2.9 % both need rounding

# Every row a booking request could write.
BOOKING_MODELS: tuple[type[Model], ...] = (
    Booking,
    CalendarFeedToken,
    CapacityUnit,
    VendorSchedule,
    Resource,
    ResourceAssignment,
    TimeBlock,
    CancellationPolicy,
    PickupOption,
    AuditLog,
    Payment,
    Refund,
    JournalTransaction,
    JournalEntry,
)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def tuesday(hour: int, minute: int = 0) -> datetime:
    """Tuesday 6 January 2026 at hour:minute UTC (= London wall-clock time)."""
    return utc(2026, 1, 6, hour, minute)


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value)


def rows() -> dict[str, list[dict[str, Any]]]:
    """Every booking, audit, payment and ledger row, to show a refusal changed nothing."""
    return snapshot(*BOOKING_MODELS, IdempotencyKey)


@dataclass
class Shop:
    """A London workshop (open Mon–Fri 09:00–17:00) selling a one-hour service for £45.99,
    its owner and a `staff`-role member, and two customers — each with an API client."""

    vendor: Vendor
    listing: Listing
    owner: User
    staff: User
    customer: User
    other_customer: User
    as_owner: ApiClient
    as_staff: ApiClient
    as_customer: ApiClient
    as_other_customer: ApiClient

    def hold(self, start: datetime, *, client: ApiClient | None = None, **extra: Any) -> Any:
        return hold(client or self.as_customer, self.listing, start, **extra)

    def held(self, start: datetime, **extra: Any) -> Booking:
        """A held booking of the customer's, made through the API."""
        response = self.hold(start, **extra)
        assert response.status_code == 201, response.content
        return Booking.objects.get(pk=response.json()["id"])

    def paid(self, start: datetime, **extra: Any) -> Booking:
        """A booking the customer has paid for (pending, or accepted with auto-accept)."""
        booking = self.held(start, **extra)
        response = pay(self.as_customer, booking)
        assert response.status_code == 200, response.content
        booking.refresh_from_db()
        return booking

    def accepted(self, start: datetime, **extra: Any) -> Booking:
        booking = self.paid(start, **extra)
        response = self.as_staff.post(f"/bookings/{booking.pk}/accept")
        assert response.status_code == 200, response.content
        booking.refresh_from_db()
        return booking


def make_shop(*, timezone: str = "Europe/London", **listing: Any) -> Shop:
    owner, staff, customer, other_customer = UserFactory.create_batch(4)
    vendor = VendorFactory(owner=owner, name="Camden Motors", timezone=timezone)
    VendorMembershipFactory(vendor=vendor, user=staff, role="staff")
    VendorScheduleFactory(vendor=vendor)
    service = ListingFactory(
        vendor=vendor, title="Full service", price_amount=PRICE, **{"capacity": 1, **listing}
    )
    # The listing's lock row, as the first look at its slots creates it: a refused request
    # must leave every row as it was, and this one exists before any of them.
    capacity_unit_for(listing=service, resource=None)
    return Shop(
        vendor=vendor,
        listing=service,
        owner=owner,
        staff=staff,
        customer=customer,
        other_customer=other_customer,
        as_owner=client_for(owner),
        as_staff=client_for(staff),
        as_customer=client_for(customer),
        as_other_customer=client_for(other_customer),
    )


def hold(
    client: ApiClient,
    listing: Listing | int,
    start: datetime,
    *,
    idempotency_key: str | None = None,
    **extra: Any,
) -> Any:
    listing_id = listing if isinstance(listing, int) else listing.pk
    return client.post(
        "/bookings",
        {"listing_id": listing_id, "start": start.isoformat(), **extra},
        idempotency_key=idempotency_key,
    )


def pay(client: ApiClient, booking: Booking | int, method: str = "pm_card_visa") -> Any:
    booking_id = booking if isinstance(booking, int) else booking.pk
    return client.post(f"/bookings/{booking_id}/pay", {"payment_method": method})


def slots(client: ApiClient, listing: Listing, start: datetime, end: datetime) -> Any:
    return client.get(
        f"/listings/{listing.pk}/slots", **{"from": start.isoformat(), "to": end.isoformat()}
    )


def slot_starts(client: ApiClient, listing: Listing, start: datetime, end: datetime) -> list[Any]:
    response = slots(client, listing, start, end)
    assert response.status_code == 200, response.content
    return [parse(slot["start"]) for slot in response.json()["slots"]]


def history(client: ApiClient, booking: Booking) -> list[tuple[str, int | None]]:
    """The booking's history as (status, actor id) pairs, oldest first."""
    response = client.get(f"/bookings/{booking.pk}")
    assert response.status_code == 200, response.content
    return [(item["status"], item["actor"]) for item in response.json()["history"]]


def audit_actions(booking: Booking) -> list[str]:
    from agora.core.audit import audit_trail

    return list(audit_trail(booking).values_list("action", flat=True))


def hours(count: float) -> timedelta:
    return timedelta(hours=count)
