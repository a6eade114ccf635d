from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ninja import Schema
from pydantic import Field

from agora.bookings.models import Booking
from agora.bookings.selectors import HistoryItem
from agora.core.money import MoneySchema
from agora.core.validation import Id, Moment
from agora.vendors.schemas import StrictIn


class ScheduleIn(StrictIn):
    weekly: dict[str, list[list[str]]] = Field(
        examples=[{"mon": [["09:00", "17:00"]], "sat": [["09:00", "13:00"]]}],
        description="Wall-clock intervals per weekday (mon..sun) in the vendor's time zone.",
    )
    overrides: list[dict[str, Any]] = Field(
        default_factory=list, examples=[[{"date": "2026-12-24", "intervals": [["09:00", "13:00"]]}]]
    )
    holidays: list[str] = Field(default_factory=list, examples=[["2026-12-25"]])


class ScheduleOut(Schema):
    timezone: str
    weekly: dict[str, Any]
    overrides: list[Any]
    holidays: list[str]


class SlotOut(Schema):
    start: datetime
    end: datetime
    remaining: int


class SlotsOut(Schema):
    timezone: str
    slots: list[SlotOut]


class FirstSlotOut(Schema):
    listing_id: int
    listing_title: str
    vendor_id: int
    vendor_name: str
    city: str | None
    price: MoneySchema
    start: datetime
    end: datetime
    remaining: int


class PickupIn(StrictIn):
    pickup_address: str = Field(min_length=3, max_length=300)
    pickup_after: Moment
    pickup_before: Moment
    return_address: str = Field(min_length=3, max_length=300)
    return_after: Moment | None = None
    return_before: Moment | None = None
    instructions: str = Field("", max_length=1000)


class HoldIn(StrictIn):
    listing_id: Id
    start: Moment
    notes: str = Field("", max_length=2000)
    pickup: PickupIn | None = None
    options: dict[str, str] = Field(
        default_factory=dict, description='Chosen price options, e.g. {"urgency": "emergency"}.'
    )
    vehicle_id: Id | None = Field(
        None, description="One of the caller's saved vehicles (GET /me/vehicles) the work is for."
    )


class PayIn(StrictIn):
    payment_method: str = Field(min_length=1, max_length=100, examples=["pm_card_visa"])


class RescheduleIn(StrictIn):
    start: Moment


class ReasonIn(StrictIn):
    reason: str = Field("", max_length=500)


class HistoryOut(Schema):
    status: str
    at: datetime
    actor: int | None
    reason: str


class BookingVehicleOut(Schema):
    """The customer's vehicle as the vendor sees it on the booking."""

    id: int
    registration: str
    make: str
    model: str
    colour: str
    fuel_type: str
    year_of_manufacture: int | None
    engine_capacity_cc: int | None
    mileage: dict[str, Any] | None = Field(
        description="The odometer at the last MOT: {value, unit}.",
        examples=[{"value": 61250, "unit": "mi"}],
    )

    @classmethod
    def of(cls, vehicle: Any) -> BookingVehicleOut:
        odometer = vehicle.latest_odometer
        return cls(
            id=vehicle.pk,
            registration=vehicle.registration,
            make=vehicle.make,
            model=vehicle.model,
            colour=vehicle.colour,
            fuel_type=vehicle.fuel_type,
            year_of_manufacture=vehicle.year_of_manufacture,
            engine_capacity_cc=vehicle.engine_capacity_cc,
            mileage={"value": odometer.value, "unit": odometer.unit} if odometer else None,
        )


class BookingOut(Schema):
    id: int
    status: str
    listing_id: int
    listing_title: str
    vendor_id: int
    customer_id: int
    start: datetime
    end: datetime
    hold_expires_at: datetime | None
    price: MoneySchema
    notes: str
    pickup: dict[str, Any] | None
    pickup_confirmed: bool
    cancellation_fee: MoneySchema
    created_at: datetime
    history: list[HistoryOut] | None = None
    vehicle: BookingVehicleOut | None = None

    @classmethod
    def of(cls, booking: Booking, history: list[HistoryItem] | None = None) -> BookingOut:
        return cls(
            id=booking.pk,
            status=booking.status,
            listing_id=booking.listing_id,
            listing_title=booking.listing.title,
            vendor_id=booking.vendor_id,
            customer_id=booking.customer_id,
            start=booking.start,
            end=booking.end,
            hold_expires_at=booking.hold_expires_at if booking.status == "held" else None,
            price=MoneySchema(amount=booking.price_amount, currency=booking.currency),
            notes=booking.notes,
            pickup=booking.pickup,
            pickup_confirmed=booking.pickup_confirmed_at is not None,
            cancellation_fee=MoneySchema(
                amount=booking.cancellation_fee_amount, currency=booking.currency
            ),
            created_at=booking.created_at,
            history=[
                HistoryOut(status=item.status, at=item.at, actor=item.actor_id, reason=item.reason)
                for item in history
            ]
            if history is not None
            else None,
            vehicle=BookingVehicleOut.of(booking.vehicle) if booking.vehicle_id else None,
        )


class BookingStatusOut(Schema):
    id: int
    status: str


class ResourceIn(StrictIn):
    name: str = Field(min_length=1, max_length=120)
    kind: str = "bay"
    capacity: int = Field(1, ge=1, le=1000)
    schedule: dict[str, Any] | None = None


class ResourceOut(Schema):
    id: int
    name: str
    kind: str
    capacity: int
    schedule: dict[str, Any] | None


class AssignIn(StrictIn):
    resource_id: Id | None


class BlockIn(StrictIn):
    start: Moment
    end: Moment
    resource_id: Id | None = None
    reason: str = Field("", max_length=200)


class BlockOut(Schema):
    id: int
    start: datetime
    end: datetime
    resource_id: int | None
    reason: str


class PolicyIn(StrictIn):
    free_until_hours: int = Field(24, ge=0, le=24 * 60)
    late_fee_bp: int = Field(5000, ge=0, le=10000)
    acceptance_timeout_hours: int = Field(24, ge=1, le=24 * 14)


class AgendaOut(Schema):
    date: date
    timezone: str
    bookings: list[BookingOut]


class CalendarFeedOut(Schema):
    """The caller's own feed address: a secret, as good as a password to the bookings."""

    url: str
    resource_id: int | None = None
    created_at: datetime
    last_used_at: datetime | None = None
