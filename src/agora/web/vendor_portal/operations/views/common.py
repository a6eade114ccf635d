"""What every operations view shares: the current vendor, rendering with it, and turning a
service's refusal into a message on the page instead of an error page."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from agora.core import clock
from agora.core.errors import InvalidInput
from agora.vendors.selectors import ALL_ROLES, MANAGER_ROLES, StaffContext
from agora.web.vendor_portal.current import current_staff_context

TEMPLATES = "web/vendor/ops/"


def staff_for(request: HttpRequest, roles: Collection[str] = ALL_ROLES) -> StaffContext:
    """The vendor the person works for now; too small a role there is a 403 page."""
    return current_staff_context(request, roles=roles)


def can_manage(staff: StaffContext) -> bool:
    return staff.role in MANAGER_ROLES


def page(
    request: HttpRequest,
    template: str,
    staff: StaffContext | None,
    context: dict[str, Any],
    *,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        TEMPLATES + template,
        {"staff": staff, "portal_name": "Vendor portal", **context},
        status=status,
    )


def vendor_today(staff: StaffContext) -> date:
    return clock.now().astimezone(ZoneInfo(staff.vendor.timezone)).date()


# Pages step a day or a week either way from the one shown; a date near the ends of the
# calendar (year 1, year 9999) has no neighbours, and none that far off means anything.
MAX_DAYS_AWAY = 10 * 366


def parse_day(value: str | None, *, default: date, field: str = "day") -> date:
    """The ISO date in `value`, within ten years of `default` (today); else 422."""
    if not value:
        return default
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            f"{field} must be a date such as 2026-01-05.",
            errors=[{"loc": ["query", field], "msg": "not a date", "type": "value_error"}],
        ) from None
    if abs((day - default).days) > MAX_DAYS_AWAY:
        raise InvalidInput(
            f"{field} must be within ten years of today.",
            errors=[{"loc": ["query", field], "msg": "too far from today", "type": "value_error"}],
        )
    return day


def is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))
