"""Reviews under /api/v1: write and edit (customers), reply (vendors), read (anyone),
moderate and watch vendor quality (operators)."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Status

from agora.accounts.api import client_ip
from agora.accounts.auth import acting_user, bearer, operator, optional_user
from agora.catalog.selectors import listing_get_visible
from agora.core.pagination import Page, PageOut
from agora.reviews import quality, selectors, services
from agora.reviews.models import Review
from agora.reviews.schemas import (
    ModerationIn,
    QualityFlagOut,
    QueueItemOut,
    ReplyIn,
    RequiredReasonIn,
    ReviewableOut,
    ReviewEditIn,
    ReviewIn,
    ReviewOut,
    ReviewPageOut,
    RevisionOut,
    VendorQualityOut,
)
from agora.reviews.selectors import RatingSummary
from agora.vendors.selectors import vendor_get_for_operator, vendor_get_visible

router = Router(tags=["reviews"])
operator_router = Router(tags=["operator: reviews"])


@router.post("/reviews", response={201: ReviewOut}, auth=bearer, summary="Review a transaction")
def review_create(request: HttpRequest, payload: ReviewIn) -> Status[ReviewOut]:
    review = services.review_create(
        author=acting_user(request),
        booking_id=payload.booking_id,
        order_id=payload.order_id,
        rating=payload.rating,
        text=payload.text,
        ip_address=client_ip(request),
        user_agent=request.headers.get("User-Agent", ""),
    )
    return Status(201, ReviewOut.of(review))


@router.get("/reviews/{review_id}", response=ReviewOut, summary="A review")
def review_detail(request: HttpRequest, review_id: int) -> ReviewOut:
    return ReviewOut.of(
        selectors.review_get_visible(user=optional_user(request), review_id=review_id)
    )


@router.patch("/reviews/{review_id}", response=ReviewOut, auth=bearer, summary="Edit your review")
def review_edit(request: HttpRequest, review_id: int, payload: ReviewEditIn) -> ReviewOut:
    return ReviewOut.of(
        services.review_edit(
            author=acting_user(request),
            review_id=review_id,
            rating=payload.rating,
            text=payload.text,
        )
    )


@router.get(
    "/reviews/{review_id}/revisions",
    response=list[RevisionOut],
    auth=bearer,
    summary="Earlier versions of a review (its author and operators)",
)
def review_revisions(request: HttpRequest, review_id: int) -> list[RevisionOut]:
    revisions = selectors.review_revisions(user=acting_user(request), review_id=review_id)
    return [RevisionOut.of(revision) for revision in revisions]


@router.post(
    "/reviews/{review_id}/reply", response=ReviewOut, auth=bearer, summary="The vendor's reply"
)
def review_reply(request: HttpRequest, review_id: int, payload: ReplyIn) -> ReviewOut:
    return ReviewOut.of(
        services.review_reply(user=acting_user(request), review_id=review_id, text=payload.text)
    )


def _page_out(page: Page[Review], summary: RatingSummary) -> ReviewPageOut:
    return ReviewPageOut(
        items=[ReviewOut.of(review) for review in page.items],
        next_cursor=page.next_cursor,
        rating_average=summary.average,
        rating_count=summary.count,
        rating_bayesian=summary.bayesian,
        rating_distribution={str(k): v for k, v in summary.distribution.items()},
    )


@router.get("/vendors/{vendor_id}/reviews", response=ReviewPageOut, summary="A vendor's reviews")
def vendor_reviews(
    request: HttpRequest, vendor_id: int, cursor: str | None = None, limit: int = 20
) -> ReviewPageOut:
    vendor = vendor_get_visible(user=optional_user(request), vendor_id=vendor_id)
    page = selectors.reviews_for_vendor(vendor_id=vendor.pk, cursor=cursor, limit=limit)
    return _page_out(page, selectors.rating_for_vendor(vendor.pk))


@router.get("/listings/{listing_id}/reviews", response=ReviewPageOut, summary="A listing's reviews")
def listing_reviews(
    request: HttpRequest, listing_id: int, cursor: str | None = None, limit: int = 20
) -> ReviewPageOut:
    listing = listing_get_visible(user=optional_user(request), listing_id=listing_id)
    page = selectors.reviews_for_listing(listing_id=listing.pk, cursor=cursor, limit=limit)
    return _page_out(page, selectors.rating_for_listing(listing.pk))


@router.get(
    "/me/reviewable",
    response=list[ReviewableOut],
    auth=bearer,
    summary="Your bookings and orders awaiting a review",
)
def my_reviewable(request: HttpRequest) -> list[ReviewableOut]:
    return [
        ReviewableOut.of(item) for item in selectors.reviewable_for_user(user=acting_user(request))
    ]


# --- operators ------------------------------------------------------------------------------


@operator_router.get(
    "/operator/reviews",
    response=PageOut[QueueItemOut],
    auth=operator,
    summary="Moderation queue: flagged reviews (or ?status=published|hidden) with their signals",
)
def moderation_queue(
    request: HttpRequest, status: str = "flagged", cursor: str | None = None, limit: int = 20
) -> PageOut[QueueItemOut]:
    page = selectors.moderation_queue(status=status, cursor=cursor, limit=limit)
    return PageOut[QueueItemOut](
        items=[QueueItemOut.of(review) for review in page.items], next_cursor=page.next_cursor
    )


@operator_router.post(
    "/operator/reviews/{review_id}/approve", response=ReviewOut, auth=operator, summary="Publish"
)
def review_approve(
    request: HttpRequest, review_id: int, payload: ModerationIn | None = None
) -> ReviewOut:
    return ReviewOut.of(
        services.review_moderate(
            operator=acting_user(request),
            review_id=review_id,
            action="approve",
            reason=payload.reason if payload else "",
        )
    )


@operator_router.post(
    "/operator/reviews/{review_id}/hide", response=ReviewOut, auth=operator, summary="Hide"
)
def review_hide(request: HttpRequest, review_id: int, payload: RequiredReasonIn) -> ReviewOut:
    return ReviewOut.of(
        services.review_moderate(
            operator=acting_user(request), review_id=review_id, action="hide", reason=payload.reason
        )
    )


@operator_router.post(
    "/operator/reviews/{review_id}/ban",
    response=ReviewOut,
    auth=operator,
    summary="Ban the author: deactivate the account and hide all their reviews",
)
def review_ban(request: HttpRequest, review_id: int, payload: RequiredReasonIn) -> ReviewOut:
    return ReviewOut.of(
        services.review_moderate(
            operator=acting_user(request), review_id=review_id, action="ban", reason=payload.reason
        )
    )


@operator_router.get(
    "/operator/quality-flags",
    response=list[QualityFlagOut],
    auth=operator,
    summary="Vendors flagged by the quality gate",
)
def quality_flags(request: HttpRequest, include_resolved: bool = False) -> list[QualityFlagOut]:
    return [
        QualityFlagOut.of(flag)
        for flag in selectors.vendor_quality_flags(include_resolved=include_resolved)
    ]


@operator_router.post(
    "/operator/quality-flags/{flag_id}/resolve",
    response=QualityFlagOut,
    auth=operator,
    summary="Close a quality flag",
)
def quality_flag_resolve(
    request: HttpRequest, flag_id: int, payload: RequiredReasonIn
) -> QualityFlagOut:
    flag = quality.quality_flag_resolve(
        operator=acting_user(request), flag_id=flag_id, resolution=payload.reason
    )
    return QualityFlagOut.of(flag)


@operator_router.get(
    "/operator/vendors/{vendor_id}/quality",
    response=VendorQualityOut,
    auth=operator,
    summary="A vendor's rating, completion and cancellation rates",
)
def vendor_quality(request: HttpRequest, vendor_id: int) -> VendorQualityOut:
    vendor = vendor_get_for_operator(user=acting_user(request), vendor_id=vendor_id)
    return VendorQualityOut.of(
        quality.vendor_quality(vendor.pk), selectors.rating_for_vendor(vendor.pk)
    )
