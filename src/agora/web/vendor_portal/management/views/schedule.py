"""/vendor/schedule/: weekly opening hours, date overrides, holidays, blocked time and shared
resources, through the bookings set-up services the API uses.

Opening hours, overrides and holidays are one document (`setup.schedule_set` replaces it as
a whole), so each small form here rebuilds the document from what is stored plus its one
change. Owners and managers change the hours and resources; any staff member may block
time, as in the API (a mechanic off sick is a daily matter)."""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone as dj_timezone
from django.views.decorators.http import require_POST, require_safe

from agora.availability.schedule import WEEKDAY_KEYS
from agora.bookings.models import Resource, TimeBlock, VendorSchedule
from agora.bookings.services import setup
from agora.core import clock
from agora.core.errors import DomainError, NotFound
from agora.vendors.selectors import StaffContext
from agora.web.access import vendor_staff_required
from agora.web.vendor_portal.management.common import (
    add_domain_error,
    manager_for,
    page,
    staff_for,
)
from agora.web.vendor_portal.management.forms import (
    DAY_LABELS,
    BlockForm,
    HolidayForm,
    OverrideForm,
    ResourceForm,
    WeeklyForm,
    format_hours,
)

BLOCKS_SHOWN = 50


def _stored(staff: StaffContext) -> tuple[dict[str, Any], list[dict[str, Any]], list[str]]:
    schedule = VendorSchedule.objects.filter(vendor_id=staff.vendor.pk).first()
    if schedule is None:
        return {}, [], []
    return dict(schedule.weekly), list(schedule.overrides), list(schedule.holidays)


def _resources(staff: StaffContext) -> list[Resource]:
    return list(Resource.objects.filter(vendor_id=staff.vendor.pk).order_by("name", "id"))


def _save(
    request: HttpRequest,
    staff: StaffContext,
    weekly: dict[str, Any],
    overrides: list[dict[str, Any]],
    holidays: list[str],
) -> None:
    setup.schedule_set(
        actor=request.user,  # type: ignore[arg-type]
        vendor=staff.vendor,
        weekly=weekly,
        overrides=overrides,
        holidays=holidays,
    )


@vendor_staff_required
@require_safe
def schedule(request: HttpRequest) -> HttpResponse:
    return _page(request, staff_for(request))


def _page(
    request: HttpRequest, staff: StaffContext, *, status: int = 200, **forms_: Any
) -> HttpResponse:
    weekly, overrides, holidays = _stored(staff)
    resources = _resources(staff)
    zone = ZoneInfo(staff.vendor.timezone)
    blocks = list(
        TimeBlock.objects.filter(vendor_id=staff.vendor.pk, end__gt=clock.now())
        .select_related("resource")
        .order_by("start", "id")[:BLOCKS_SHOWN]
    )
    context: dict[str, Any] = {
        "page_title": "Schedule",
        "timezone": staff.vendor.timezone,
        "days": [(DAY_LABELS[key], format_hours(weekly.get(key, []))) for key in WEEKDAY_KEYS],
        "overrides": [
            {"date": date.fromisoformat(item["date"]), "hours": format_hours(item["intervals"])}
            for item in sorted(overrides, key=lambda item: item["date"])
        ],
        "holidays": [date.fromisoformat(value) for value in holidays],
        "blocks": blocks,
        "resources": resources,
        "weekly_form": WeeklyForm(
            initial={key: format_hours(weekly.get(key, [])) for key in WEEKDAY_KEYS}
        ),
        "override_form": OverrideForm(),
        "holiday_form": HolidayForm(),
        "block_form": BlockForm(resources=resources),
        "resource_form": ResourceForm(),
        "vendor_zone": zone,
    }
    context.update(forms_)
    return page(request, "schedule.html", staff, context, status=status)


@vendor_staff_required
@require_POST
def weekly_save(request: HttpRequest) -> HttpResponse:
    staff = manager_for(request)
    form = WeeklyForm(request.POST)
    if form.is_valid():
        _, overrides, holidays = _stored(staff)
        try:
            _save(request, staff, form.weekly(), overrides, holidays)
        except DomainError as error:
            add_domain_error(form, error, names={f"weekly.{key}": key for key in WEEKDAY_KEYS})
        else:
            messages.success(request, "Opening hours saved.")
            return redirect("web:vendor-schedule")
    return _page(request, staff, status=422, weekly_form=form)


@vendor_staff_required
@require_POST
def override_add(request: HttpRequest) -> HttpResponse:
    staff = manager_for(request)
    form = OverrideForm(request.POST)
    if form.is_valid():
        weekly, overrides, holidays = _stored(staff)
        day = form.cleaned_data["date"].isoformat()
        kept = [item for item in overrides if item["date"] != day]
        index = len(kept)
        try:
            _save(
                request,
                staff,
                weekly,
                [*kept, {"date": day, "intervals": form.cleaned_data["hours"]}],
                holidays,
            )
        except DomainError as error:
            add_domain_error(
                form,
                error,
                names={f"overrides.{index}.intervals": "hours", f"overrides.{index}.date": "date"},
            )
        else:
            messages.success(request, f"Hours for {day} saved.")
            return redirect("web:vendor-schedule")
    return _page(request, staff, status=422, override_form=form)


@vendor_staff_required
@require_POST
def override_delete(request: HttpRequest, day: str) -> HttpResponse:
    staff = manager_for(request)
    weekly, overrides, holidays = _stored(staff)
    if not any(item["date"] == day for item in overrides):
        raise NotFound("No such date override.")
    _save(request, staff, weekly, [item for item in overrides if item["date"] != day], holidays)
    messages.success(request, f"{day} follows the weekly hours again.")
    return redirect("web:vendor-schedule")


@vendor_staff_required
@require_POST
def holiday_add(request: HttpRequest) -> HttpResponse:
    staff = manager_for(request)
    form = HolidayForm(request.POST)
    if form.is_valid():
        weekly, overrides, holidays = _stored(staff)
        day = form.cleaned_data["date"].isoformat()
        try:
            _save(request, staff, weekly, overrides, [*holidays, day])
        except DomainError as error:
            add_domain_error(form, error, names={"holidays": "date"})
        else:
            messages.success(request, f"Closed on {day}.")
            return redirect("web:vendor-schedule")
    return _page(request, staff, status=422, holiday_form=form)


@vendor_staff_required
@require_POST
def holiday_delete(request: HttpRequest, day: str) -> HttpResponse:
    staff = manager_for(request)
    weekly, overrides, holidays = _stored(staff)
    if day not in holidays:
        raise NotFound("No such holiday.")
    _save(request, staff, weekly, overrides, [value for value in holidays if value != day])
    messages.success(request, f"{day} is no longer a holiday.")
    return redirect("web:vendor-schedule")


@vendor_staff_required
@require_POST
def block_add(request: HttpRequest) -> HttpResponse:
    staff = staff_for(request)
    resources = _resources(staff)
    form = BlockForm(request.POST, resources=resources)
    # The times are typed in the vendor's wall-clock time, whatever the server's zone.
    with dj_timezone.override(ZoneInfo(staff.vendor.timezone)):
        valid = form.is_valid()
    if valid:
        data = form.cleaned_data
        try:
            setup.time_block_create(
                actor=request.user,  # type: ignore[arg-type]
                vendor=staff.vendor,
                start=data["start"],
                end=data["end"],
                resource_id=data["resource"],
                reason=data["reason"],
            )
        except DomainError as error:
            add_domain_error(form, error, names={"resource_id": "resource"})
        else:
            messages.success(request, "Time blocked.")
            return redirect("web:vendor-schedule")
    return _page(request, staff, status=422, block_form=form)


@vendor_staff_required
@require_POST
def block_delete(request: HttpRequest, block_id: int) -> HttpResponse:
    staff = staff_for(request)
    setup.time_block_delete(
        actor=request.user,  # type: ignore[arg-type]
        vendor=staff.vendor,
        block_id=block_id,
    )
    messages.success(request, "The block was removed.")
    return redirect("web:vendor-schedule")


@vendor_staff_required
@require_POST
def resource_add(request: HttpRequest) -> HttpResponse:
    staff = manager_for(request)
    form = ResourceForm(request.POST)
    if form.is_valid():
        try:
            setup.resource_create(
                actor=request.user,  # type: ignore[arg-type]
                vendor=staff.vendor,
                name=form.cleaned_data["name"],
                kind=form.cleaned_data["kind"],
                capacity=form.cleaned_data["capacity"],
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, f"“{form.cleaned_data['name']}” added.")
            return redirect("web:vendor-schedule")
    return _page(request, staff, status=422, resource_form=form)
