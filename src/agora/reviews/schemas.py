from __future__ import annotations

from datetime import datetime

from ninja import Schema
from pydantic import Field

from agora.core.validation import Id
from agora.reviews.models import Review, ReviewRevision, VendorQualityFlag
from agora.reviews.quality import VendorQuality
from agora.reviews.selectors import RatingSummary, Reviewable
from agora.vendors.schemas import StrictIn


class ReviewIn(StrictIn):
    booking_id: Id | None = Field(None, description="A completed booking of yours.")
    order_id: Id | None = Field(None, description="A delivered vendor order of yours.")
    # strict: lax mode would take 4.0, "4" or true as a rating.
    rating: int = Field(strict=True, ge=1, le=5, description="Stars, 1 to 5.")
    text: str = Field(max_length=20000, description="Plain text; HTML is removed.")


class ReviewEditIn(StrictIn):
    rating: int = Field(strict=True, ge=1, le=5)
    text: str = Field(max_length=20000)


class ReplyIn(StrictIn):
    text: str = Field(max_length=20000)


class ModerationIn(StrictIn):
    reason: str = Field("", max_length=500)


class RequiredReasonIn(StrictIn):
    reason: str = Field(min_length=1, max_length=500)


class ReplyOut(Schema):
    text: str
    replied_at: datetime


def display_name(name: str) -> str:
    """ "Chloe Customer" → "Chloe C.": reviews are public, surnames need not be."""
    parts = name.split()
    if not parts:
        return "A customer"
    if len(parts) == 1:
        return parts[0]
    return f"{parts[0]} {parts[-1][0]}."


class ReviewOut(Schema):
    id: int
    vendor_id: int
    listing_id: int | None
    booking_id: int | None
    order_id: int | None
    rating: int
    text: str
    status: str
    author_name: str
    created_at: datetime
    edited_at: datetime | None
    reply: ReplyOut | None

    @classmethod
    def of(cls, review: Review) -> ReviewOut:
        return cls(
            id=review.pk,
            vendor_id=review.vendor_id,
            listing_id=review.listing_id,
            booking_id=review.booking_id,
            order_id=review.vendor_order_id,
            rating=review.rating,
            text=review.text,
            status=review.status,
            author_name=display_name(review.author.name),
            created_at=review.created_at,
            edited_at=review.edited_at,
            reply=(
                ReplyOut(text=review.reply_text, replied_at=review.replied_at)
                if review.reply_text and review.replied_at
                else None
            ),
        )


class RatingOut(Schema):
    count: int
    average: float | None
    bayesian: float
    distribution: dict[str, int]

    @classmethod
    def of(cls, summary: RatingSummary) -> RatingOut:
        return cls(
            count=summary.count,
            average=summary.average,
            bayesian=summary.bayesian,
            distribution={str(k): v for k, v in summary.distribution.items()},
        )


class ReviewPageOut(Schema):
    items: list[ReviewOut]
    next_cursor: str | None
    rating_average: float | None = Field(description="The plain mean of published reviews.")
    rating_count: int
    rating_bayesian: float = Field(description="The Bayesian average used for ranking.")
    rating_distribution: dict[str, int]


class RevisionOut(Schema):
    rating: int
    text: str
    written_at: datetime
    replaced_at: datetime

    @classmethod
    def of(cls, revision: ReviewRevision) -> RevisionOut:
        return cls(
            rating=revision.rating,
            text=revision.text,
            written_at=revision.written_at,
            replaced_at=revision.replaced_at,
        )


class ReviewableOut(Schema):
    kind: str
    id: int
    vendor_id: int
    vendor_name: str
    title: str
    completed_at: datetime
    review_by: datetime

    @classmethod
    def of(cls, item: Reviewable) -> ReviewableOut:
        return cls(
            kind=item.kind,
            id=item.id,
            vendor_id=item.vendor.pk,
            vendor_name=item.vendor.name,
            title=item.title,
            completed_at=item.completed_at,
            review_by=item.review_by,
        )


class SignalsOut(Schema):
    ip_hash: str
    device_hash: str
    user_agent: str
    account_age_days: int
    author_review_count: int
    reasons: list[str]
    related_review_ids: list[int]


class QueueItemOut(ReviewOut):
    vendor_name: str
    author_id: int
    author_email: str
    signals: SignalsOut | None

    @classmethod
    def of(cls, review: Review) -> QueueItemOut:
        base = ReviewOut.of(review).model_dump()
        signals = getattr(review, "signals", None)
        return cls(
            **base,
            vendor_name=review.vendor.name,
            author_id=review.author_id,
            author_email=review.author.email,
            signals=(
                SignalsOut(
                    ip_hash=signals.ip_hash,
                    device_hash=signals.device_hash,
                    user_agent=signals.user_agent,
                    account_age_days=signals.account_age_days,
                    author_review_count=signals.author_review_count,
                    reasons=list(signals.reasons),
                    related_review_ids=list(signals.related_review_ids),
                )
                if signals is not None
                else None
            ),
        )


class QualityFlagOut(Schema):
    id: int
    vendor_id: int
    vendor_name: str
    vendor_status: str
    reason: str
    bayesian: float | None
    rating_count: int
    completion_rate: float | None
    cancellation_rate: float | None
    suspended: bool
    created_at: datetime
    resolved_at: datetime | None

    @classmethod
    def of(cls, flag: VendorQualityFlag) -> QualityFlagOut:
        return cls(
            id=flag.pk,
            vendor_id=flag.vendor_id,
            vendor_name=flag.vendor.name,
            vendor_status=flag.vendor.status,
            reason=flag.reason,
            bayesian=flag.bayesian,
            rating_count=flag.rating_count,
            completion_rate=flag.completion_rate,
            cancellation_rate=flag.cancellation_rate,
            suspended=flag.suspended,
            created_at=flag.created_at,
            resolved_at=flag.resolved_at,
        )


class VendorQualityOut(Schema):
    vendor_id: int
    rating: RatingOut
    outcomes: int
    completed: int
    cancelled: int
    customer_ended: int
    completion_rate: float | None
    cancellation_rate: float | None

    @classmethod
    def of(cls, quality: VendorQuality, rating: RatingSummary) -> VendorQualityOut:
        return cls(
            vendor_id=quality.vendor_id,
            rating=RatingOut.of(rating),
            outcomes=quality.outcomes,
            completed=quality.completed,
            cancelled=quality.cancelled,
            customer_ended=quality.customer_ended,
            completion_rate=quality.completion_rate,
            cancellation_rate=quality.cancellation_rate,
        )
