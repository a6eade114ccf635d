"""Checks shared by several apps, raising InvalidInput with field paths."""

from __future__ import annotations

import functools
import zoneinfo
from decimal import Decimal

from agora.core.errors import InvalidInput
from agora.core.money import CURRENCY_EXPONENTS


@functools.cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def field_error(field: str, message: str, kind: str = "value_error") -> InvalidInput:
    return InvalidInput(
        f"{field}: {message}",
        errors=[{"loc": ["body", *field.split(".")], "msg": message, "type": kind}],
    )


def check_timezone(name: str, field: str = "timezone") -> str:
    if name not in _time_zones():
        raise field_error(field, f"unknown IANA time zone {name!r}")
    return name


def check_currency(code: str, field: str = "currency") -> str:
    if code not in CURRENCY_EXPONENTS:
        raise field_error(field, f"unsupported ISO 4217 currency {code!r}")
    return code


def check_coordinates(lat: Decimal | float | None, lng: Decimal | float | None) -> None:
    if (lat is None) != (lng is None):
        raise field_error("lat", "give both lat and lng, or neither")
    if lat is not None and not -90 <= float(lat) <= 90:
        raise field_error("lat", "must be between -90 and 90")
    if lng is not None and not -180 <= float(lng) <= 180:
        raise field_error("lng", "must be between -180 and 180")
