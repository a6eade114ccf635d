from enum import StrEnum

from agora.core.errors import DomainError


class BookingErrorCode(StrEnum):
    SLOT_UNAVAILABLE = "slot_unavailable"
    INVALID_SLOT = "invalid_slot"
    HOLD_EXPIRED = "hold_expired"
    NOT_BOOKABLE = "not_bookable"
    SCHEDULE_MISSING = "schedule_missing"


class BookingError(DomainError):
    status = 409


def slot_unavailable() -> BookingError:
    return BookingError(
        "That slot was just taken or is full; choose another.",
        code=BookingErrorCode.SLOT_UNAVAILABLE,
    )


def invalid_slot(detail: str) -> BookingError:
    return BookingError(
        detail,
        code=BookingErrorCode.INVALID_SLOT,
        status=422,
        extra={"errors": [{"loc": ["body", "start"], "msg": detail, "type": "invalid_slot"}]},
    )
