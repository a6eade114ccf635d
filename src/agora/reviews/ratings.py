"""Vendor and listing ratings, kept in step with published reviews.

Every change is a set of deltas applied with one conditional `UPDATE ... SET count =
count + 1, ...` per aggregate, inside the review's own transaction: two reviews of the
same vendor committing at once each add their own numbers, and none is lost (no
read-modify-save). The Bayesian score is computed in the same UPDATE from the new sums.

The vendor's and listing's own `rating_count` / `rating_sum` (read by the catalogue's
search and profiles) move with the same deltas. `recompute_all` rebuilds everything from
the reviews, for the `recompute_ratings` command and for tests that compare the two.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import Count, F, FloatField, Value
from django.db.models.functions import Cast
from django.dispatch import Signal

from agora.catalog.models import Listing
from agora.reviews.models import (
    ListingRating,
    RatingAggregate,
    Review,
    ReviewStatus,
    VendorRating,
)
from agora.vendors.models import Vendor

STARS = range(1, 6)

# Sent inside the transaction that changed listing ratings, with `listing_ids`: search
# re-ranks those listings (these updates bypass save(), so no post_save reaches it).
ratings_changed = Signal()


def prior() -> tuple[float, int]:
    return float(settings.AGORA_REVIEW_PRIOR_MEAN), int(settings.AGORA_REVIEW_PRIOR_WEIGHT)


def bayesian(count: int, total: int) -> float:
    """(weight × prior mean + sum of ratings) / (weight + count): with few reviews the score
    stays near the prior, so one 5★ review does not outrank 200 reviews averaging 4.8★."""
    mean, weight = prior()
    if weight + count == 0:
        return 0.0
    return (weight * mean + total) / (weight + count)


@dataclass
class Delta:
    """What one change does to an aggregate: counts per star, plus or minus."""

    stars: dict[int, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, rating: int, sign: int = 1) -> Delta:
        self.stars[rating] += sign
        return self

    @property
    def count(self) -> int:
        return sum(self.stars.values())

    @property
    def total(self) -> int:
        return sum(stars * n for stars, n in self.stars.items())

    def is_empty(self) -> bool:
        return all(n == 0 for n in self.stars.values())


def _aggregate_updates(delta: Delta) -> dict[str, models.Expression | F]:
    mean, weight = prior()
    updates: dict[str, models.Expression | F] = {
        "count": F("count") + delta.count,
        "total": F("total") + delta.total,
    }
    for stars, n in delta.stars.items():
        if n:
            updates[f"stars_{stars}"] = F(f"stars_{stars}") + n
    # The right-hand side reads the row's old values on both databases, so the new sums
    # are old + delta here too.
    updates["bayesian"] = Cast(
        F("total") + Value(delta.total) + Value(weight * mean), FloatField()
    ) / Cast(F("count") + Value(delta.count + weight), FloatField())
    return updates


def _apply(model: type[RatingAggregate], key: str, key_value: int, delta: Delta) -> None:
    updates = _aggregate_updates(delta)
    manager = model._default_manager
    if manager.filter(**{key: key_value}).update(**updates):
        return
    # First review of this vendor or listing: create its row. Two first reviews at once
    # both get here; the loser's INSERT fails on the primary key (after the winner
    # commits) and it adds its delta to the winner's row instead.
    try:
        with transaction.atomic():
            manager.create(
                **{key: key_value},
                count=delta.count,
                total=delta.total,
                bayesian=bayesian(delta.count, delta.total),
                **{f"stars_{s}": n for s, n in delta.stars.items()},
            )
    except IntegrityError:
        manager.filter(**{key: key_value}).update(**updates)


def apply(*, vendor_id: int, listing_id: int | None, delta: Delta) -> None:
    """Add `delta` to the vendor's (and listing's) ratings. Call inside the transaction
    that changed the reviews."""
    if delta.is_empty():
        return
    _apply(VendorRating, "vendor_id", vendor_id, delta)
    Vendor.objects.filter(pk=vendor_id).update(
        rating_count=F("rating_count") + delta.count, rating_sum=F("rating_sum") + delta.total
    )
    if listing_id is not None:
        _apply(ListingRating, "listing_id", listing_id, delta)
        Listing.objects.filter(pk=listing_id).update(
            rating_count=F("rating_count") + delta.count,
            rating_sum=F("rating_sum") + delta.total,
        )
        ratings_changed.send(sender=Listing, listing_ids=[listing_id])


def published(review: Review, sign: int = 1) -> None:
    """Count (sign=1) or uncount (sign=-1) one review in its vendor's and listing's ratings."""
    apply(
        vendor_id=review.vendor_id,
        listing_id=review.listing_id,
        delta=Delta().add(review.rating, sign),
    )


# --- from scratch ---------------------------------------------------------------------------


def _sums(group_by: str, ids: Iterable[int] | None = None) -> dict[int, dict[int, int]]:
    reviews = Review.objects.filter(status=ReviewStatus.PUBLISHED, **{f"{group_by}__isnull": False})
    if ids is not None:
        reviews = reviews.filter(**{f"{group_by}__in": list(ids)})
    sums: dict[int, dict[int, int]] = defaultdict(lambda: dict.fromkeys(STARS, 0))
    for row in reviews.values(group_by, "rating").annotate(n=Count("id")).order_by():
        sums[row[group_by]][row["rating"]] = row["n"]
    return sums


def _rebuild(
    model: type[RatingAggregate], key: str, owner: type[Vendor] | type[Listing], group_by: str
) -> int:
    sums = _sums(group_by)
    model._default_manager.exclude(**{f"{key}__in": list(sums)}).delete()
    for owner_id, stars in sums.items():
        count = sum(stars.values())
        total = sum(s * n for s, n in stars.items())
        lookup: dict[str, Any] = {key: owner_id}
        model._default_manager.update_or_create(
            **lookup,
            defaults={
                "count": count,
                "total": total,
                "bayesian": bayesian(count, total),
                **{f"stars_{s}": n for s, n in stars.items()},
            },
        )
        owner.objects.filter(pk=owner_id).update(rating_count=count, rating_sum=total)
    owner.objects.exclude(pk__in=list(sums)).exclude(rating_count=0, rating_sum=0).update(
        rating_count=0, rating_sum=0
    )
    return len(sums)


@transaction.atomic
def recompute_all() -> tuple[int, int]:
    """Rebuild every vendor and listing rating from the published reviews (and the
    Bayesian score from the current prior). Returns (vendors, listings) with reviews."""
    vendors = _rebuild(VendorRating, "vendor_id", Vendor, "vendor")
    listings = _rebuild(ListingRating, "listing_id", Listing, "listing")
    ratings_changed.send(
        sender=Listing, listing_ids=list(Listing.objects.values_list("pk", flat=True))
    )
    return vendors, listings


def expected_from_reviews(group_by: str) -> dict[int, tuple[int, int, dict[int, int]]]:
    """(count, total, distribution) per vendor or listing, summed from the reviews now."""
    return {
        owner_id: (sum(stars.values()), sum(s * n for s, n in stars.items()), dict(stars))
        for owner_id, stars in _sums(group_by).items()
    }
