"""Filters for the notification templates: money and times as people read them.

Event data is JSON, so amounts arrive as Money dicts (`{"amount": 4599, "currency": "GBP"}`)
and times as ISO strings in UTC; these filters turn them into "£45.99" and
"Tue 8 Dec 2026, 09:30" (in the vendor's time zone, where the work happens).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django import template

from agora.core.money import CURRENCY_EXPONENTS, Money

register = template.Library()

# Symbols people recognise without a code; every other currency is written with its code.
CURRENCY_SYMBOLS = {
    "GBP": "£",
    "EUR": "€",
    "USD": "$",
    "AUD": "A$",
    "CAD": "C$",
    "NZD": "NZ$",
    "HKD": "HK$",
    "SGD": "S$",
    "JPY": "¥",
    "INR": "₹",
    "KRW": "₩",
}


def _as_money(value: Any) -> Money | None:
    if isinstance(value, Money):
        return value
    if isinstance(value, dict):
        amount, currency = value.get("amount"), value.get("currency")
        if isinstance(amount, int) and not isinstance(amount, bool) and currency:
            try:
                return Money(amount, str(currency))
            except (TypeError, ValueError):
                return None
    return None


@register.filter
def money(value: Any) -> str:
    """`{"amount": 4599, "currency": "GBP"}` → "£45.99"; "1,200 JPY"-style codes where no
    symbol is common; "" for anything that is not an amount of money."""
    amount = _as_money(value)
    if amount is None:
        return ""
    exponent = CURRENCY_EXPONENTS[amount.currency]
    major, minor = divmod(abs(amount.amount), 10**exponent)
    number = f"{major:,}.{minor:0{exponent}d}" if exponent else f"{major:,}"
    sign = "-" if amount.amount < 0 else ""
    symbol = CURRENCY_SYMBOLS.get(amount.currency)
    return f"{sign}{symbol}{number}" if symbol else f"{sign}{number} {amount.currency}"


def _moment(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str) and value:
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _zone(name: Any) -> ZoneInfo | None:
    if not name or not isinstance(name, str):
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


@register.filter
def when(value: Any, timezone: Any = "") -> str:
    """An ISO time and a time-zone name → "Tue 8 Dec 2026, 09:30" in that zone (UTC
    when the zone is missing or unknown); "" for anything that is not a time."""
    moment = _moment(value)
    if moment is None:
        return ""
    zone = _zone(timezone) or UTC
    local = moment.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M}"


@register.filter
def day(value: Any, timezone: Any = "") -> str:
    """Like `when`, the date only: "Tue 8 Dec 2026"."""
    moment = _moment(value)
    if moment is None:
        return ""
    local = moment.astimezone(_zone(timezone) or UTC)
    return f"{local:%a} {local.day} {local:%b %Y}"


@register.filter
def clock_time(value: Any, timezone: Any = "") -> str:
    """Like `when`, the time of day only: "09:30"."""
    moment = _moment(value)
    if moment is None:
        return ""
    return f"{moment.astimezone(_zone(timezone) or UTC):%H:%M}"
