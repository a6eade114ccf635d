from __future__ import annotations

from enum import StrEnum
from http import HTTPStatus

from agora.core.errors import DomainError, ErrorCode, InvalidInput, NotFound


class VehicleErrorCode(StrEnum):
    VEHICLE_NOT_FOUND = "vehicle_not_found"
    VEHICLE_DATA_UNAVAILABLE = "vehicle_data_unavailable"
    VEHICLE_ALREADY_SAVED = "vehicle_already_saved"
    GARAGE_FULL = "garage_full"


class VehicleError(DomainError):
    status = HTTPStatus.CONFLICT


def vehicle_not_found(registration: str) -> VehicleError:
    return VehicleError(
        f"No vehicle is registered as {registration}.",
        code=VehicleErrorCode.VEHICLE_NOT_FOUND,
        status=HTTPStatus.NOT_FOUND,
    )


def vehicle_data_unavailable(*, retry_after: int) -> VehicleError:
    return VehicleError(
        "The vehicle data service is not answering just now; try again shortly.",
        code=VehicleErrorCode.VEHICLE_DATA_UNAVAILABLE,
        status=HTTPStatus.SERVICE_UNAVAILABLE,
        extra={"retry_after": retry_after},
        headers={"Retry-After": str(retry_after)},
    )


def vehicle_already_saved(registration: str) -> VehicleError:
    return VehicleError(
        f"{registration} is already in your garage.", code=VehicleErrorCode.VEHICLE_ALREADY_SAVED
    )


def garage_full(limit: int) -> VehicleError:
    return VehicleError(
        f"A garage holds at most {limit} vehicles; remove one first.",
        code=VehicleErrorCode.GARAGE_FULL,
    )


def invalid_registration(detail: str, *, loc: list[str]) -> InvalidInput:
    return InvalidInput(
        detail,
        errors=[{"loc": loc, "msg": detail, "type": "registration"}],
        code=ErrorCode.VALIDATION_ERROR,
    )


def vehicle_missing() -> NotFound:
    """A vehicle id that is not one of the caller's saved vehicles (someone else's, too)."""
    return NotFound("No such vehicle.")
