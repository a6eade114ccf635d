from __future__ import annotations

from datetime import date, datetime

from ninja import Schema
from pydantic import Field

from agora.bookings.models import Booking
from agora.core.money import MoneySchema
from agora.vendors.schemas import StrictIn
from agora.verticals.automotive.models import JobStage, JobStageKind, Vehicle
from agora.verticals.automotive.profile import VehicleProfile


class VehicleIn(StrictIn):
    registration: str = Field(max_length=20, examples=["AB12 CDE"])


class TaxOut(Schema):
    status: str | None = Field(description="taxed, untaxed, sorn, not_taxed_for_on_road_use")
    due_date: date | None


class OdometerOut(Schema):
    value: int | None
    unit: str | None = Field(description='"mi" or "km"; null when it was not read')


class DefectOut(Schema):
    text: str
    type: str = Field(description="advisory, minor, major, dangerous, fail, prs, user_entered")
    dangerous: bool


class MotTestOut(Schema):
    completed_at: datetime
    result: str = Field(description='"passed" or "failed"')
    expiry_date: date | None
    odometer: OdometerOut
    test_number: str
    defects: list[DefectOut]


class MotOut(Schema):
    status: str = Field(description="valid, expired or unknown (as of today, UK time)")
    expiry_date: date | None
    days_left: int | None = Field(description="Days until expiry (negative once expired).")
    tests: list[MotTestOut] = Field(description="Newest first.")


class VehicleProfileOut(Schema):
    registration: str
    make: str | None
    model: str | None
    colour: str | None
    fuel_type: str | None
    year_of_manufacture: int | None
    engine_capacity_cc: int | None
    first_registered: str | None
    vehicle_type: str | None = Field(description="car, van or motorbike (from DVLA)")
    tax: TaxOut
    mot: MotOut
    partial: bool = Field(description="True when a data source did not answer.")
    unavailable_sources: list[str] = Field(description='Which: "dvla" and/or "dvsa".')

    @classmethod
    def fields_of(cls, profile: VehicleProfile, *, today: date) -> dict[str, object]:
        expiry = profile.mot_expiry_date
        return {
            "registration": profile.registration,
            "make": profile.make,
            "model": profile.model,
            "colour": profile.colour,
            "fuel_type": profile.fuel_type,
            "year_of_manufacture": profile.year_of_manufacture,
            "engine_capacity_cc": profile.engine_capacity_cc,
            "first_registered": profile.first_registered,
            "vehicle_type": profile.vehicle_type,
            "tax": TaxOut(status=profile.tax_status, due_date=profile.tax_due_date),
            "mot": MotOut(
                status=profile.mot_status(today),
                expiry_date=expiry,
                days_left=(expiry - today).days if expiry else None,
                tests=[
                    MotTestOut(
                        completed_at=test.completed_at,
                        result=test.result,
                        expiry_date=test.expiry_date,
                        odometer=OdometerOut(value=test.odometer.value, unit=test.odometer.unit),
                        test_number=test.test_number,
                        defects=[
                            DefectOut(text=d.text, type=d.type, dangerous=d.dangerous)
                            for d in test.defects
                        ],
                    )
                    for test in profile.mot_tests
                ],
            ),
            "partial": profile.partial,
            "unavailable_sources": list(profile.unavailable_sources),
        }

    @classmethod
    def of(cls, profile: VehicleProfile, *, today: date) -> VehicleProfileOut:
        return cls(**cls.fields_of(profile, today=today))  # type: ignore[arg-type]


class ServiceBookingOut(Schema):
    id: int
    status: str
    listing_id: int
    listing_title: str
    vendor_id: int
    vendor_name: str
    start: datetime
    end: datetime
    price: MoneySchema

    @classmethod
    def of(cls, booking: Booking) -> ServiceBookingOut:
        return cls(
            id=booking.pk,
            status=booking.status,
            listing_id=booking.listing_id,
            listing_title=booking.listing.title,
            vendor_id=booking.vendor_id,
            vendor_name=booking.vendor.name,
            start=booking.start,
            end=booking.end,
            price=MoneySchema(amount=booking.price_amount, currency=booking.currency),
        )


class SavedVehicleOut(VehicleProfileOut):
    id: int
    created_at: datetime
    refreshed_at: datetime
    bookings: list[ServiceBookingOut] | None = Field(
        None, description="The service history on Agora (GET /me/vehicles/{id} only)."
    )

    @classmethod
    def of_vehicle(
        cls, vehicle: Vehicle, *, today: date, bookings: list[Booking] | None = None
    ) -> SavedVehicleOut:
        return cls(
            **cls.fields_of(vehicle.vehicle_profile, today=today),  # type: ignore[arg-type]
            id=vehicle.pk,
            created_at=vehicle.created_at,
            refreshed_at=vehicle.refreshed_at,
            bookings=[ServiceBookingOut.of(b) for b in bookings] if bookings is not None else None,
        )


class JobStageIn(StrictIn):
    stage: str = Field(
        description="One of: " + ", ".join(JobStageKind.values), examples=["inspecting"]
    )
    note: str = Field("", max_length=500)


class JobStageOut(Schema):
    id: int
    stage: str
    label: str
    note: str
    at: datetime

    @classmethod
    def of(cls, stage: JobStage) -> JobStageOut:
        return cls(
            id=stage.pk,
            stage=stage.stage,
            label=JobStageKind(stage.stage).label,
            note=stage.note,
            at=stage.at,
        )
