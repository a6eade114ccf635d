"""What a vendor sets up so it can be booked: opening hours, resources, blocked time and
the cancellation policy."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db import transaction

from agora.accounts.models import User
from agora.availability import ScheduleError, parse_schedule, schedule_to_payload
from agora.bookings.models import (
    CancellationPolicy,
    Resource,
    ResourceAssignment,
    TimeBlock,
    VendorSchedule,
)
from agora.catalog.models import Listing, ListingKind
from agora.core import clock
from agora.core.audit import audit_log
from agora.core.errors import InvalidInput, NotFound
from agora.core.validation import field_error
from agora.vendors.models import Vendor


def _schedule_error(error: ScheduleError) -> InvalidInput:
    return InvalidInput(
        "The schedule is not valid; see `errors`.",
        errors=[
            {"loc": ["body", *item["loc"]], "msg": item["msg"], "type": item["type"]}
            for item in error.errors
        ],
    )


def _checked_payload(payload: dict[str, Any], *, timezone: str) -> dict[str, Any]:
    try:
        return schedule_to_payload(parse_schedule(payload, timezone=timezone))
    except ScheduleError as error:
        raise _schedule_error(error) from error


def _checked_holidays(holidays: list[str]) -> list[str]:
    try:
        return sorted({date.fromisoformat(value).isoformat() for value in holidays})
    except ValueError as error:
        raise field_error("holidays", "use ISO dates such as 2026-12-25") from error


@transaction.atomic
def schedule_set(
    *,
    actor: User,
    vendor: Vendor,
    weekly: dict[str, Any],
    overrides: list[Any],
    holidays: list[str] | None = None,
) -> VendorSchedule:
    """Replace the vendor's opening hours (wall-clock times in the vendor's time zone)."""
    payload = _checked_payload({"weekly": weekly, "overrides": overrides}, timezone=vendor.timezone)
    schedule, _ = VendorSchedule.objects.update_or_create(
        vendor=vendor,
        defaults={
            "weekly": payload["weekly"],
            "overrides": payload.get("overrides", []),
            "holidays": _checked_holidays(holidays or []),
            "updated_at": clock.now(),
        },
    )
    audit_log(actor=actor, action="vendor.schedule_set", target=vendor)
    return schedule


@transaction.atomic
def resource_create(
    *,
    actor: User,
    vendor: Vendor,
    name: str,
    kind: str,
    capacity: int,
    schedule: dict[str, Any] | None = None,
) -> Resource:
    if capacity < 1:
        raise field_error("capacity", "at least 1")
    if not name.strip():
        raise field_error("name", "must not be blank")
    stored = _checked_payload(schedule, timezone=vendor.timezone) if schedule else None
    resource = Resource.objects.create(
        vendor=vendor, name=name.strip(), kind=kind, capacity=capacity, schedule=stored
    )
    audit_log(
        actor=actor,
        action="vendor.resource_created",
        target=vendor,
        data={"resource_id": resource.pk},
    )
    return resource


@transaction.atomic
def resource_assign(*, actor: User, listing: Listing, resource_id: int | None) -> Listing:
    """Make `listing` share its resource's capacity (or its own again, with None)."""
    if listing.kind != ListingKind.SERVICE:
        raise field_error("resource_id", "only services use resources")
    if resource_id is None:
        ResourceAssignment.objects.filter(listing=listing).delete()
    else:
        resource = Resource.objects.filter(pk=resource_id, vendor_id=listing.vendor_id).first()
        if resource is None:
            raise NotFound("No such resource.")
        ResourceAssignment.objects.update_or_create(
            listing=listing, defaults={"resource": resource}
        )
    audit_log(
        actor=actor,
        action="listing.resource_assigned",
        target=listing,
        data={"resource_id": resource_id},
    )
    return listing


@transaction.atomic
def time_block_create(
    *,
    actor: User,
    vendor: Vendor,
    start: datetime,
    end: datetime,
    resource_id: int | None = None,
    reason: str = "",
) -> TimeBlock:
    if end <= start:
        raise field_error("end", "must be after start")
    if (
        resource_id is not None
        and not Resource.objects.filter(pk=resource_id, vendor=vendor).exists()
    ):
        raise NotFound("No such resource.")
    block = TimeBlock.objects.create(
        vendor=vendor,
        resource_id=resource_id,
        start=start,
        end=end,
        reason=reason,
        created_by=actor,
    )
    audit_log(actor=actor, action="vendor.time_blocked", target=vendor, data={"block_id": block.pk})
    return block


@transaction.atomic
def time_block_delete(*, actor: User, vendor: Vendor, block_id: int) -> None:
    deleted, _ = TimeBlock.objects.filter(pk=block_id, vendor=vendor).delete()
    if not deleted:
        raise NotFound("No such block.")
    audit_log(
        actor=actor, action="vendor.time_unblocked", target=vendor, data={"block_id": block_id}
    )


@transaction.atomic
def cancellation_policy_set(
    *,
    actor: User,
    vendor: Vendor,
    free_until_hours: int,
    late_fee_bp: int,
    acceptance_timeout_hours: int,
) -> CancellationPolicy:
    if not 0 <= late_fee_bp <= 10000:
        raise field_error("late_fee_bp", "between 0 and 10000 (100 %)")
    policy, _ = CancellationPolicy.objects.update_or_create(
        vendor=vendor,
        defaults={
            "free_until_hours": free_until_hours,
            "late_fee_bp": late_fee_bp,
            "acceptance_timeout_hours": acceptance_timeout_hours,
        },
    )
    audit_log(actor=actor, action="vendor.cancellation_policy_set", target=vendor)
    return policy
