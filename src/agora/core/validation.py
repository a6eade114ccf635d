"""Checks shared by several apps, raising InvalidInput with field paths, and the input
types their schemas share."""

from __future__ import annotations

import functools
import unicodedata
import zoneinfo
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field

from agora.core import clock
from agora.core.countries import ISO_3166_ALPHA2
from agora.core.errors import InvalidInput
from agora.core.money import CURRENCY_EXPONENTS, Money

# Database ids: 64-bit positive integers, and strictly integers — lax mode would take
# `true` for 1 and "7" for 7, and a number past 64 bits overflows the database driver.
MAX_ID = 2**63 - 1
Id = Annotated[int, Field(strict=True, ge=1, le=MAX_ID)]

# A moment a request names (a booking's start, a block's end): within fifty years of now.
# Nothing books further out, and near the ends of the calendar (year 1, year 9999) adding
# a duration or changing the time zone overflows.
MAX_MOMENT_DISTANCE = timedelta(days=50 * 365)


def is_near_now(value: datetime) -> bool:
    """Whether `value` lies within MAX_MOMENT_DISTANCE of agora's clock."""
    now = clock.now()
    reference = now if value.tzinfo is not None else now.replace(tzinfo=None)
    return reference - MAX_MOMENT_DISTANCE <= value <= reference + MAX_MOMENT_DISTANCE


def _near_now(value: datetime) -> datetime:
    if not is_near_now(value):
        raise ValueError("must be within fifty years of today")
    return value


Moment = Annotated[datetime, AfterValidator(_near_now)]

# Names in zoneinfo's list that are not IANA zone names a person chooses: the machine's
# own zone ("localtime", whatever it is today), tzdata's template for POSIX rules, and
# the placeholder zone for a machine with none set.
_NOT_ZONES = frozenset({"localtime", "posixrules", "Factory"})

# Characters that make text more than one line or not text at all: C0/C1 controls (CR,
# LF, NUL, ESC, DEL...) and the Unicode line and paragraph separators. In a name they
# break e-mail headers (a line break in a Subject is refused by the mailer, so every mail
# naming the vendor would fail) and forge lines in logs and CSV exports.
_LINE_BREAKING = frozenset({"Cc", "Zl", "Zp"})


@functools.cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones()) - _NOT_ZONES


def field_error(
    field: str, message: str, kind: str = "value_error", *, where: str = "body"
) -> InvalidInput:
    return InvalidInput(
        f"{field}: {message}",
        errors=[{"loc": [where, *field.split(".")], "msg": message, "type": kind}],
    )


def check_timezone(name: str, field: str = "timezone") -> str:
    if name not in _time_zones():
        raise field_error(field, f"unknown IANA time zone {name!r}")
    return name


def check_currency(code: str, field: str = "currency") -> str:
    if code not in CURRENCY_EXPONENTS:
        raise field_error(field, f"unsupported ISO 4217 currency {code!r}")
    return code


def check_country(code: str, field: str = "country") -> str:
    """An ISO 3166-1 alpha-2 code in capitals (GB, DE), as assigned — not XX, not ÄÖ."""
    if code not in ISO_3166_ALPHA2:
        raise field_error(field, "ISO 3166-1 alpha-2 country code such as GB")
    return code


def check_positive_amount(amount: Money, field: str = "amount") -> Money:
    """An amount of money to move: more than zero (the ledger refuses any other)."""
    if amount.amount <= 0:
        raise field_error(field, "must be more than 0")
    return amount


def check_coordinates(
    lat: Decimal | float | None,
    lng: Decimal | float | None,
    *,
    where: Literal["body", "query"] = "body",
) -> None:
    if (lat is None) != (lng is None):
        raise field_error("lat", "give both lat and lng, or neither", where=where)
    if lat is not None and not -90 <= float(lat) <= 90:
        raise field_error("lat", "must be between -90 and 90", where=where)
    if lng is not None and not -180 <= float(lng) <= 180:
        raise field_error("lng", "must be between -180 and 180", where=where)


def check_single_line(value: str, field: str) -> str:
    """Refuse control characters and line breaks in a name or title shown on one line
    (and put in e-mail subjects)."""
    if any(unicodedata.category(char) in _LINE_BREAKING for char in value):
        raise field_error(field, "must be one line without control characters")
    return value


def check_web_url(value: str, field: str = "website") -> str:
    """Empty, or an absolute http(s) URL with a host: never `javascript:`, `data:` or a
    relative path that a link would follow."""
    if not value:
        return value
    try:
        parts = urlsplit(value)
    except ValueError:
        parts = None
    if (
        parts is None
        or parts.scheme.lower() not in ("http", "https")
        or not parts.hostname
        or any(unicodedata.category(char) in _LINE_BREAKING or char.isspace() for char in value)
    ):
        raise field_error(field, "an http:// or https:// address")
    return value


def is_web_url(value: str) -> bool:
    """Whether `value` may be rendered as a link (stored values predating the check)."""
    try:
        return bool(value) and check_web_url(value) == value
    except InvalidInput:
        return False
