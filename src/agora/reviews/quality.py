"""Vendor quality: completion and cancellation rates, and the gate that flags vendors to
operators (and, when AGORA_REVIEW_AUTO_SUSPEND is on, suspends them).

Over the vendor's paid bookings and vendor orders created in the last
AGORA_REVIEW_QUALITY_WINDOW_DAYS that have reached an outcome:

- completed: bookings completed or reviewed; orders delivered or completed;
- cancelled: bookings cancelled, declined, or expired unanswered after payment; orders
  cancelled or refunded;
- no-show: bookings the customer did not come to.

cancellation rate = cancelled ÷ outcomes. completion rate = completed ÷ (outcomes − the
customer's own cancellations − no-shows): what the customer did is not held against the
vendor.

The gate flags a vendor whose Bayesian rating is below AGORA_REVIEW_QUALITY_MIN_RATING with
at least AGORA_REVIEW_QUALITY_MIN_REVIEWS published reviews, or whose completion rate is
below AGORA_REVIEW_QUALITY_MIN_COMPLETION over at least AGORA_REVIEW_QUALITY_MIN_OUTCOMES
outcomes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.db.models import CharField, Count, Exists, OuterRef, Q
from django.db.models.functions import Cast

from agora.accounts.models import User
from agora.bookings.models import Booking, BookingStatus
from agora.core import clock
from agora.core.audit import audit_log
from agora.core.errors import Forbidden, NotFound
from agora.core.models import AuditLog
from agora.orders.models import OrderStatus, VendorOrder
from agora.reviews.models import QualityReason, VendorQualityFlag, VendorRating
from agora.vendors.models import Vendor, VendorStatus
from agora.vendors.services import VENDOR_LIFECYCLE, vendor_announce


@dataclass(frozen=True)
class VendorQuality:
    vendor_id: int
    outcomes: int
    completed: int
    cancelled: int
    customer_ended: int
    completion_rate: float | None
    cancellation_rate: float | None


def _cancelled_by_customer(model: type[Booking] | type[VendorOrder], action: str) -> Exists:
    # Used straight inside the aggregate's filter: an annotation referenced from several
    # filtered aggregates is left out of Django's inner query (and reads as false).
    return Exists(
        AuditLog.objects.filter(
            content_type=ContentType.objects.get_for_model(model),
            object_id=Cast(OuterRef("pk"), CharField()),
            action=action,
            actor_id=OuterRef("customer_id"),
        )
    )


def vendor_quality(vendor_id: int) -> VendorQuality:
    """The vendor's completion and cancellation rates (two queries)."""
    since = clock.now() - timedelta(days=settings.AGORA_REVIEW_QUALITY_WINDOW_DAYS)
    booking_cancelled = Q(
        status__in=[BookingStatus.CANCELLED, BookingStatus.DECLINED, BookingStatus.EXPIRED]
    )
    bookings = Booking.objects.filter(
        vendor_id=vendor_id, paid_at__isnull=False, created_at__gte=since
    ).aggregate(
        completed=Count(
            "id", filter=Q(status__in=[BookingStatus.COMPLETED, BookingStatus.REVIEWED])
        ),
        cancelled=Count("id", filter=booking_cancelled),
        no_show=Count("id", filter=Q(status=BookingStatus.NO_SHOW)),
        by_customer=Count(
            "id",
            filter=Q(
                _cancelled_by_customer(Booking, "booking.cancelled"),
                status=BookingStatus.CANCELLED,
            ),
        ),
    )
    orders = VendorOrder.objects.filter(
        vendor_id=vendor_id, paid_at__isnull=False, created_at__gte=since
    ).aggregate(
        completed=Count("id", filter=Q(status__in=[OrderStatus.DELIVERED, OrderStatus.COMPLETED])),
        cancelled=Count("id", filter=Q(status__in=[OrderStatus.CANCELLED, OrderStatus.REFUNDED])),
        by_customer=Count(
            "id",
            filter=Q(
                _cancelled_by_customer(VendorOrder, "order.cancelled"),
                status=OrderStatus.CANCELLED,
            ),
        ),
    )
    completed = bookings["completed"] + orders["completed"]
    cancelled = bookings["cancelled"] + orders["cancelled"]
    outcomes = completed + cancelled + bookings["no_show"]
    customer_ended = bookings["by_customer"] + orders["by_customer"] + bookings["no_show"]
    vendor_outcomes = outcomes - customer_ended
    return VendorQuality(
        vendor_id=vendor_id,
        outcomes=outcomes,
        completed=completed,
        cancelled=cancelled,
        customer_ended=customer_ended,
        completion_rate=round(completed / vendor_outcomes, 4) if vendor_outcomes else None,
        cancellation_rate=round(cancelled / outcomes, 4) if outcomes else None,
    )


# --- the gate -------------------------------------------------------------------------------


def _flag(vendor: Vendor, reason: str, **figures: Any) -> VendorQualityFlag | None:
    """Open a flag unless one is open for this vendor and reason; None if one was."""
    if VendorQualityFlag.objects.filter(
        vendor=vendor, reason=reason, resolved_at__isnull=True
    ).exists():
        return None
    try:
        with transaction.atomic():
            flag = VendorQualityFlag.objects.create(vendor=vendor, reason=reason, **figures)
    except IntegrityError:  # a concurrent check opened it first
        return None
    audit_log(
        actor=None,
        action="vendor.quality_flagged",
        target=vendor,
        data={"reason": reason, **figures},
    )
    if settings.AGORA_REVIEW_AUTO_SUSPEND and vendor.status == VendorStatus.ACTIVE:
        why = f"Suspended automatically by the quality gate: {QualityReason(reason).label}."
        VENDOR_LIFECYCLE.apply(
            vendor,
            VendorStatus.SUSPENDED,
            actor=None,
            reason=why,
            data={"quality_flag_id": flag.pk},
            updates={"status_reason": why},
        )
        vendor_announce("vendor.suspended", vendor, page="/vendor/profile/")
        VendorQualityFlag.objects.filter(pk=flag.pk).update(suspended=True)
        flag.suspended = True
    return flag


def check_rating(vendor_id: int) -> VendorQualityFlag | None:
    """The rating half of the gate, after a review changed the vendor's rating."""
    rating = VendorRating.objects.filter(vendor_id=vendor_id).select_related("vendor").first()
    if rating is None:
        return None
    if (
        rating.count >= settings.AGORA_REVIEW_QUALITY_MIN_REVIEWS
        and rating.bayesian < settings.AGORA_REVIEW_QUALITY_MIN_RATING
    ):
        return _flag(
            rating.vendor,
            QualityReason.LOW_RATING,
            bayesian=round(rating.bayesian, 4),
            rating_count=rating.count,
        )
    return None


def check_completion(vendor: Vendor) -> VendorQualityFlag | None:
    quality = vendor_quality(vendor.pk)
    if (
        quality.completion_rate is not None
        and quality.outcomes >= settings.AGORA_REVIEW_QUALITY_MIN_OUTCOMES
        and quality.completion_rate < settings.AGORA_REVIEW_QUALITY_MIN_COMPLETION
    ):
        return _flag(
            vendor,
            QualityReason.LOW_COMPLETION,
            completion_rate=quality.completion_rate,
            cancellation_rate=quality.cancellation_rate,
        )
    return None


def check_vendor(vendor: Vendor) -> list[VendorQualityFlag]:
    with transaction.atomic():
        found = [check_rating(vendor.pk), check_completion(vendor)]
    return [flag for flag in found if flag is not None]


def check_all() -> int:
    """Run the gate over every active vendor (the periodic job); returns flags opened."""
    opened = 0
    for vendor in Vendor.objects.filter(status=VendorStatus.ACTIVE).order_by("id"):
        opened += len(check_vendor(vendor))
    return opened


@transaction.atomic
def quality_flag_resolve(*, operator: User, flag_id: int, resolution: str) -> VendorQualityFlag:
    """An operator closes a flag (after acting on the vendor, or deciding not to)."""
    if not operator.is_operator:
        raise Forbidden("Only operators resolve quality flags.")
    flag = (
        VendorQualityFlag.objects.select_for_update()
        .select_related("vendor")
        .filter(pk=flag_id, resolved_at__isnull=True)
        .first()
    )
    if flag is None:
        raise NotFound("No such open quality flag.")
    flag.resolved_at = clock.now()
    flag.resolved_by = operator
    flag.resolution = resolution.strip()[:500]
    flag.save(update_fields=["resolved_at", "resolved_by", "resolution"])
    audit_log(
        actor=operator,
        action="vendor.quality_flag_resolved",
        target=flag.vendor,
        data={"reason": flag.reason, "resolution": flag.resolution},
    )
    return flag
