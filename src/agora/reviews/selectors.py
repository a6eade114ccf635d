"""Reads of reviews and ratings. Public lists show published reviews only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Exists, F, FloatField, OuterRef, Prefetch, QuerySet, Value
from django.db.models.functions import Coalesce

from agora.bookings.models import Booking, BookingStatus
from agora.core import clock
from agora.core.errors import InvalidInput, NotFound
from agora.core.pagination import Page, paginate
from agora.orders.models import OrderLine, OrderStatus, VendorOrder
from agora.reviews import ratings
from agora.reviews.models import (
    ListingRating,
    RatingAggregate,
    Review,
    ReviewRevision,
    ReviewStatus,
    VendorQualityFlag,
    VendorRating,
)
from agora.vendors.models import Vendor

REVIEWABLE_ORDER_STATUSES = (OrderStatus.DELIVERED, OrderStatus.COMPLETED)


@dataclass(frozen=True)
class RatingSummary:
    count: int
    average: float | None
    bayesian: float
    distribution: dict[int, int]

    @classmethod
    def of(cls, aggregate: RatingAggregate | None) -> RatingSummary:
        if aggregate is None or aggregate.count == 0:
            return cls.empty()
        return cls(
            count=aggregate.count,
            average=aggregate.average,
            bayesian=round(aggregate.bayesian, 4),
            distribution=aggregate.distribution,
        )

    @classmethod
    def empty(cls) -> RatingSummary:
        return cls(
            count=0,
            average=None,
            bayesian=round(ratings.bayesian(0, 0), 4),
            distribution=dict.fromkeys(ratings.STARS, 0),
        )


def _published() -> QuerySet[Review]:
    return Review.objects.filter(status=ReviewStatus.PUBLISHED).select_related("author")


def reviews_for_vendor(
    *, vendor_id: int, cursor: str | None = None, limit: int = 20
) -> Page[Review]:
    """The vendor's published reviews, newest first (the caller checks the vendor is
    visible)."""
    return paginate(
        _published().filter(vendor_id=vendor_id),
        ordering=("-created_at", "-id"),
        cursor=cursor,
        limit=limit,
    )


def reviews_for_listing(
    *, listing_id: int, cursor: str | None = None, limit: int = 20
) -> Page[Review]:
    return paginate(
        _published().filter(listing_id=listing_id),
        ordering=("-created_at", "-id"),
        cursor=cursor,
        limit=limit,
    )


def rating_for_vendor(vendor_id: int) -> RatingSummary:
    return RatingSummary.of(VendorRating.objects.filter(vendor_id=vendor_id).first())


def rating_for_listing(listing_id: int) -> RatingSummary:
    return RatingSummary.of(ListingRating.objects.filter(listing_id=listing_id).first())


def ratings_for_vendors(vendor_ids: list[int] | set[int]) -> dict[int, RatingSummary]:
    """Every vendor's summary in one query; vendors without reviews get the empty one."""
    found = {r.vendor_id: r for r in VendorRating.objects.filter(vendor_id__in=list(vendor_ids))}
    return {vendor_id: RatingSummary.of(found.get(vendor_id)) for vendor_id in vendor_ids}


def ratings_for_listings(listing_ids: list[int] | set[int]) -> dict[int, RatingSummary]:
    found = {
        r.listing_id: r for r in ListingRating.objects.filter(listing_id__in=list(listing_ids))
    }
    return {listing_id: RatingSummary.of(found.get(listing_id)) for listing_id in listing_ids}


def bayesian_rank(relation: str = "rating") -> Coalesce:
    """An ORDER BY expression for vendors or listings by Bayesian rating, those without
    reviews at the prior: `Listing.objects.order_by(bayesian_rank().desc(), "id")`."""
    return Coalesce(
        F(f"{relation}__bayesian"), Value(ratings.bayesian(0, 0)), output_field=FloatField()
    )


def review_get_visible(*, user: Any, review_id: int) -> Review:
    """A published review to anyone; any review to its author and to operators."""
    review = Review.objects.select_related("author", "vendor").filter(pk=review_id).first()
    if review is None:
        raise NotFound("No such review.")
    if review.status == ReviewStatus.PUBLISHED:
        return review
    if getattr(user, "is_operator", False) or (
        getattr(user, "pk", None) is not None and review.author_id == user.pk
    ):
        return review
    raise NotFound("No such review.")


def review_revisions(*, user: Any, review_id: int) -> list[ReviewRevision]:
    """Earlier versions of a review, oldest first: for its author and operators only."""
    review = Review.objects.filter(pk=review_id).first()
    if review is None or not (
        getattr(user, "is_operator", False) or review.author_id == getattr(user, "pk", None)
    ):
        raise NotFound("No such review.")
    return list(review.revisions.order_by("replaced_at", "id"))


# --- what a customer may review -------------------------------------------------------------


@dataclass(frozen=True)
class Reviewable:
    kind: str  # "booking" | "order"
    id: int
    vendor: Vendor
    title: str
    completed_at: datetime
    review_by: datetime


def review_window() -> timedelta:
    return timedelta(days=settings.AGORA_REVIEW_WINDOW_DAYS)


def order_finished_at(order: VendorOrder) -> datetime | None:
    """When a vendor order became reviewable: its delivery (or completion, if it was
    completed without a delivery date)."""
    return order.delivered_at or order.completed_at


def reviewable_for_user(*, user: Any) -> list[Reviewable]:
    """Completed bookings and delivered vendor orders of `user` still in the review window
    and not reviewed, most recently finished first (three queries)."""
    if getattr(user, "pk", None) is None:
        return []
    since = clock.now() - review_window()
    reviewed = Review.objects.filter(booking_id=OuterRef("pk"))
    bookings = (
        Booking.objects.filter(
            customer_id=user.pk, status=BookingStatus.COMPLETED, completed_at__gte=since
        )
        .exclude(Exists(reviewed))
        .select_related("vendor", "listing")
    )
    items = [
        Reviewable(
            kind="booking",
            id=booking.pk,
            vendor=booking.vendor,
            title=booking.listing.title,
            completed_at=booking.completed_at,
            review_by=booking.completed_at + review_window(),
        )
        for booking in bookings
        if booking.completed_at is not None
    ]
    orders = (
        VendorOrder.objects.filter(customer_id=user.pk, status__in=REVIEWABLE_ORDER_STATUSES)
        .exclude(Exists(Review.objects.filter(vendor_order_id=OuterRef("pk"))))
        .select_related("vendor")
        .prefetch_related(Prefetch("lines", queryset=OrderLine.objects.order_by("id")))
    )
    for order in orders:
        finished = order_finished_at(order)
        if finished is None or finished < since:
            continue
        lines = list(order.lines.all())
        title = lines[0].title if len(lines) == 1 else f"{len(lines)} items"
        items.append(
            Reviewable(
                kind="order",
                id=order.pk,
                vendor=order.vendor,
                title=title,
                completed_at=finished,
                review_by=finished + review_window(),
            )
        )
    return sorted(items, key=lambda item: (item.completed_at, item.id), reverse=True)


# --- operators ------------------------------------------------------------------------------


def moderation_queue(
    *, status: str = ReviewStatus.FLAGGED, cursor: str | None = None, limit: int = 20
) -> Page[Review]:
    """Reviews in `status` (flagged by default: the ones awaiting an operator; published or
    hidden to look back), oldest first, with their fraud signals and who moderated them.
    An unknown status is refused (422)."""
    if status not in ReviewStatus.values:
        raise InvalidInput(
            f"status must be one of {', '.join(ReviewStatus.values)}.",
            errors=[{"loc": ["query", "status"], "msg": "unknown status", "type": "enum"}],
        )
    return paginate(
        Review.objects.filter(status=status).select_related(
            "author", "vendor", "listing", "signals", "moderated_by"
        ),
        ordering=("created_at", "id"),
        cursor=cursor,
        limit=limit,
    )


def vendor_quality_flags(*, include_resolved: bool = False) -> list[VendorQualityFlag]:
    """Vendors flagged by the quality gate, newest first (open flags only by default)."""
    flags = VendorQualityFlag.objects.select_related("vendor")
    if not include_resolved:
        flags = flags.filter(resolved_at__isnull=True)
    return list(flags.order_by("-created_at", "-id"))
