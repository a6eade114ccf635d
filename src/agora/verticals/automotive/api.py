from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema, Status
from pydantic import Field

from agora.accounts.auth import acting_user, bearer
from agora.bookings import selectors as booking_selectors
from agora.core.pagination import PageOut
from agora.verticals.automotive import selectors, services
from agora.verticals.automotive.schemas import (
    JobStageIn,
    JobStageOut,
    SavedVehicleOut,
    VehicleIn,
    VehicleProfileOut,
)

router = Router(tags=["vehicles"])


def client_ip(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR") or "unknown"


class LookupQuery(Schema):
    registration: str = Field(max_length=40, description="e.g. AB12CDE or ab12 cde")


@router.get(
    "/vehicles/lookup",
    response=VehicleProfileOut,
    summary="Vehicle data and MOT history by registration (rate-limited)",
)
def vehicle_lookup(request: HttpRequest, query: Query[LookupQuery]) -> VehicleProfileOut:
    profile = services.vehicle_lookup(registration=query.registration, client_ip=client_ip(request))
    return VehicleProfileOut.of(profile, today=selectors.uk_today())


@router.post(
    "/me/vehicles",
    response={201: SavedVehicleOut},
    auth=bearer,
    summary="Save a vehicle to my garage",
)
def vehicle_add(request: HttpRequest, payload: VehicleIn) -> Status[SavedVehicleOut]:
    vehicle = services.vehicle_add(owner=acting_user(request), registration=payload.registration)
    return Status(201, SavedVehicleOut.of_vehicle(vehicle, today=selectors.uk_today()))


class GarageQuery(Schema):
    cursor: str | None = None
    limit: int = Field(20, ge=1, le=100)


@router.get("/me/vehicles", response=PageOut[SavedVehicleOut], auth=bearer, summary="My garage")
def vehicle_list(request: HttpRequest, query: Query[GarageQuery]) -> PageOut[SavedVehicleOut]:
    page = selectors.vehicles_for_owner(
        owner=acting_user(request), cursor=query.cursor, limit=query.limit
    )
    today = selectors.uk_today()
    return PageOut[SavedVehicleOut](
        items=[SavedVehicleOut.of_vehicle(v, today=today) for v in page.items],
        next_cursor=page.next_cursor,
    )


@router.get(
    "/me/vehicles/{vehicle_id}",
    response=SavedVehicleOut,
    auth=bearer,
    summary="One of my vehicles with its service history",
)
def vehicle_detail(request: HttpRequest, vehicle_id: int) -> SavedVehicleOut:
    vehicle = selectors.vehicle_get_for_owner(owner=acting_user(request), vehicle_id=vehicle_id)
    return SavedVehicleOut.of_vehicle(
        vehicle,
        today=selectors.uk_today(),
        bookings=selectors.vehicle_service_history(vehicle=vehicle),
    )


@router.delete(
    "/me/vehicles/{vehicle_id}",
    response={204: None},
    auth=bearer,
    summary="Remove a vehicle from my garage",
)
def vehicle_remove(request: HttpRequest, vehicle_id: int) -> HttpResponse:
    user = acting_user(request)
    vehicle = selectors.vehicle_get_for_owner(owner=user, vehicle_id=vehicle_id)
    services.vehicle_remove(owner=user, vehicle=vehicle)
    return HttpResponse(status=204)


@router.post(
    "/bookings/{booking_id}/stages",
    response={201: JobStageOut},
    auth=bearer,
    summary="Tell the customer where the job is (vendor staff)",
)
def job_stage_add(
    request: HttpRequest, booking_id: int, payload: JobStageIn
) -> Status[JobStageOut]:
    user = acting_user(request)
    booking = booking_selectors.booking_get_for_staff(user=user, booking_id=booking_id)
    stage = services.job_stage_add(
        actor=user, booking=booking, stage=payload.stage, note=payload.note
    )
    return Status(201, JobStageOut.of(stage))


@router.get(
    "/bookings/{booking_id}/stages",
    response=list[JobStageOut],
    auth=bearer,
    summary="Where the job is: its stages, oldest first",
)
def job_stage_list(request: HttpRequest, booking_id: int) -> list[JobStageOut]:
    booking = booking_selectors.booking_get_visible(
        user=acting_user(request), booking_id=booking_id
    )
    return [JobStageOut.of(stage) for stage in selectors.job_stages(booking=booking)]
