from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from agora.core import clock


class ReviewStatus(models.TextChoices):
    PUBLISHED = "published", "Published"
    FLAGGED = "flagged", "Flagged (awaiting an operator)"
    HIDDEN = "hidden", "Hidden by an operator"


class Review(models.Model):
    """A verified review of one completed booking or one delivered vendor order.

    Only `published` reviews are public and counted in ratings. A review is created
    `flagged` when a fraud rule matches; an operator approves (→ published) or hides it.
    """

    vendor = models.ForeignKey("vendors.Vendor", on_delete=models.CASCADE, related_name="reviews")
    listing = models.ForeignKey(
        "catalog.Listing",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reviews",
        help_text="The listing reviewed: a booking's, or an order's when it has only one.",
    )
    booking = models.OneToOneField(
        "bookings.Booking",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="review",
    )
    vendor_order = models.OneToOneField(
        "orders.VendorOrder",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="review",
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reviews"
    )
    rating = models.PositiveSmallIntegerField()
    text = models.TextField()
    status = models.CharField(
        max_length=16, choices=ReviewStatus.choices, default=ReviewStatus.PUBLISHED
    )
    created_at = models.DateTimeField(default=clock.now)
    edited_at = models.DateTimeField(null=True, blank=True)
    reply_text = models.TextField(blank=True, default="")
    replied_at = models.DateTimeField(null=True, blank=True)
    replied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    moderated_at = models.DateTimeField(null=True, blank=True)
    moderated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    moderation_reason = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        indexes = [
            models.Index(fields=["vendor", "status", "-created_at", "-id"]),
            models.Index(fields=["listing", "status", "-created_at", "-id"]),
            models.Index(fields=["status", "created_at"]),
            models.Index(fields=["vendor", "created_at"]),
            models.Index(fields=["author", "created_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__gte=1, rating__lte=5), name="review_rating_1_to_5"
            ),
            models.CheckConstraint(
                condition=(Q(booking__isnull=False) & Q(vendor_order__isnull=True))
                | (Q(booking__isnull=True) & Q(vendor_order__isnull=False)),
                name="review_one_transaction",
            ),
            models.CheckConstraint(
                condition=Q(status__in=ReviewStatus.values), name="review_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"review {self.pk} ({self.rating}★, {self.status})"

    @property
    def is_published(self) -> bool:
        return self.status == ReviewStatus.PUBLISHED


class ReviewRevision(models.Model):
    """What a review said before an edit: the history the customer cannot rewrite."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="revisions")
    rating = models.PositiveSmallIntegerField()
    text = models.TextField()
    written_at = models.DateTimeField(help_text="When this version was written.")
    replaced_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["replaced_at", "id"]

    def __str__(self) -> str:
        return f"revision of {self.review_id} at {self.replaced_at:%Y-%m-%d %H:%M}"


class ReviewSignals(models.Model):
    """Fraud signals captured with a review, and the rules that matched.

    The IP address is never stored: only an HMAC of it keyed with SECRET_KEY, enough to
    tell that two reviews came from the same address without being able to say which.
    """

    review = models.OneToOneField(Review, on_delete=models.CASCADE, related_name="signals")
    ip_hash = models.CharField(max_length=64, blank=True, default="", db_index=True)
    device_hash = models.CharField(max_length=64, blank=True, default="", db_index=True)
    user_agent = models.CharField(max_length=300, blank=True, default="")
    account_age_days = models.PositiveIntegerField(default=0)
    author_review_count = models.PositiveIntegerField(
        default=0, help_text="The author's other reviews when this one was written."
    )
    reasons = models.JSONField(default=list, blank=True, help_text="Codes of the rules matched.")
    related_review_ids = models.JSONField(
        default=list, blank=True, help_text="Reviews that made a rule match."
    )

    def __str__(self) -> str:
        return f"signals of {self.review_id}: {', '.join(self.reasons) or 'clean'}"


class RatingAggregate(models.Model):
    """Published reviews summed up: changed only with F() expressions in the same
    transaction as the review, and recomputable from the reviews by `recompute_ratings`."""

    count = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    stars_1 = models.PositiveIntegerField(default=0)
    stars_2 = models.PositiveIntegerField(default=0)
    stars_3 = models.PositiveIntegerField(default=0)
    stars_4 = models.PositiveIntegerField(default=0)
    stars_5 = models.PositiveIntegerField(default=0)
    bayesian = models.FloatField(default=0.0, help_text="Ranking score; see README.")

    class Meta:
        abstract = True

    @property
    def average(self) -> float | None:
        return round(self.total / self.count, 2) if self.count else None

    @property
    def distribution(self) -> dict[int, int]:
        return {stars: getattr(self, f"stars_{stars}") for stars in range(1, 6)}


class VendorRating(RatingAggregate):
    vendor = models.OneToOneField(
        "vendors.Vendor", on_delete=models.CASCADE, primary_key=True, related_name="rating"
    )

    class Meta:
        indexes = [models.Index(fields=["-bayesian"])]

    def __str__(self) -> str:
        return f"vendor {self.vendor_id}: {self.count} reviews"


class ListingRating(RatingAggregate):
    listing = models.OneToOneField(
        "catalog.Listing", on_delete=models.CASCADE, primary_key=True, related_name="rating"
    )

    class Meta:
        indexes = [models.Index(fields=["-bayesian"])]

    def __str__(self) -> str:
        return f"listing {self.listing_id}: {self.count} reviews"


class QualityReason(models.TextChoices):
    LOW_RATING = "low_rating", "Bayesian rating below the minimum"
    LOW_COMPLETION = "low_completion", "Completion rate below the minimum"


class VendorQualityFlag(models.Model):
    """A vendor the quality gate flagged to operators; open until an operator resolves it.

    At most one open flag per vendor and reason, so the periodic check can run any number
    of times."""

    vendor = models.ForeignKey(
        "vendors.Vendor", on_delete=models.CASCADE, related_name="quality_flags"
    )
    reason = models.CharField(max_length=32, choices=QualityReason.choices)
    bayesian = models.FloatField(null=True, blank=True)
    rating_count = models.PositiveIntegerField(default=0)
    completion_rate = models.FloatField(null=True, blank=True)
    cancellation_rate = models.FloatField(null=True, blank=True)
    suspended = models.BooleanField(default=False, help_text="Suspended automatically.")
    created_at = models.DateTimeField(default=clock.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    resolution = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["vendor", "reason"],
                condition=Q(resolved_at__isnull=True),
                name="quality_flag_one_open",
            )
        ]
        indexes = [models.Index(fields=["resolved_at", "created_at"])]

    def __str__(self) -> str:
        return f"{self.vendor_id}: {self.reason}"
