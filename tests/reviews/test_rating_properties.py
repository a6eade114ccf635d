"""Ratings kept by deltas equal ratings recomputed from scratch, after any sequence of
reviews, edits, approvals, hides and bans (Hypothesis).

Each example runs the real services in a savepoint rolled back afterwards. Among the
reviewers is a member of vendor A's staff, whose reviews of A are flagged, so approvals
have something to publish; two reviewers share an address, so the shared-network rule
sends reviews (and their earlier siblings) back to the queue mid-sequence.
"""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agora.accounts.models import User
from agora.catalog.models import Listing
from agora.core.errors import DomainError
from agora.reviews import ratings, services
from agora.reviews.models import ListingRating, Review, VendorRating
from agora.vendors.models import Vendor
from tests.factories import ListingFactory, UserFactory, VendorFactory, VendorMembershipFactory
from tests.reviews.helpers import completed_booking

pytestmark = pytest.mark.django_db

REVIEWERS = 5
LISTINGS = 3

review_op = st.tuples(
    st.just("review"),
    st.integers(0, REVIEWERS - 1),
    st.integers(0, LISTINGS - 1),
    st.integers(1, 5),
)
edit_op = st.tuples(st.just("edit"), st.integers(0, 50), st.integers(1, 5))
moderate_op = st.tuples(
    st.just("moderate"), st.integers(0, 50), st.sampled_from(["approve", "hide", "ban"])
)
operations = st.lists(
    st.one_of(review_op, review_op, edit_op, moderate_op), min_size=1, max_size=25
)


class Rollback(Exception):
    pass


def _snapshot() -> dict[str, Any]:
    def rows(model: Any, key: str) -> dict[int, tuple[Any, ...]]:
        return {
            getattr(r, key): (r.count, r.total, r.distribution, round(r.bayesian, 9))
            for r in model.objects.all()
            if r.count
        }

    return {
        "vendor_ratings": rows(VendorRating, "vendor_id"),
        "listing_ratings": rows(ListingRating, "listing_id"),
        "vendors": dict(Vendor.objects.filter(rating_count__gt=0).values_list("pk", "rating_sum")),
        "vendor_counts": dict(
            Vendor.objects.filter(rating_count__gt=0).values_list("pk", "rating_count")
        ),
        "listings": dict(
            Listing.objects.filter(rating_count__gt=0).values_list("pk", "rating_sum")
        ),
        "listing_counts": dict(
            Listing.objects.filter(rating_count__gt=0).values_list("pk", "rating_count")
        ),
    }


@pytest.fixture
def world(db: Any, now: Any, settings: Any) -> dict[str, Any]:
    settings.AGORA_REVIEW_BURST_COUNT = 1000
    vendor_a, vendor_b = VendorFactory(), VendorFactory()
    listings = [
        ListingFactory(vendor=vendor_a),
        ListingFactory(vendor=vendor_a),
        ListingFactory(vendor=vendor_b),
    ]
    reviewers = UserFactory.create_batch(REVIEWERS)
    VendorMembershipFactory(vendor=vendor_a, user=reviewers[0], role="staff")
    operator = UserFactory(is_operator=True)
    # reviewers 3 and 4 share a household address; the others have their own
    addresses = ["10.0.1.1", "10.0.2.1", "10.0.3.1", "10.0.4.1", "10.0.4.1"]
    return {
        "listings": listings,
        "reviewers": reviewers,
        "addresses": addresses,
        "operator": operator,
    }


def _run(world: dict[str, Any], op: tuple[Any, ...]) -> None:
    reviews = list(Review.objects.order_by("pk").values_list("pk", "author_id"))
    kind = op[0]
    if kind == "review":
        _, who, which, rating = op
        author: User = world["reviewers"][who]
        booking = completed_booking(author, world["listings"][which])
        services.review_create(
            author=author,
            booking_id=booking.pk,
            rating=rating,
            text=f"{rating} stars from reviewer {who}",
            ip_address=world["addresses"][who],
            user_agent="UA",
        )
    elif not reviews:
        return
    elif kind == "edit":
        review_id, author_id = reviews[op[1] % len(reviews)]
        services.review_edit(
            author=User.objects.get(pk=author_id),
            review_id=review_id,
            rating=op[2],
            text=f"now {op[2]} stars",
        )
    else:
        review_id, _author = reviews[op[1] % len(reviews)]
        services.review_moderate(
            operator=world["operator"], review_id=review_id, action=op[2], reason="checked"
        )


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=operations)
def test_ratings_equal_a_recomputation_after_any_sequence(
    world: dict[str, Any], ops: list[tuple[Any, ...]]
) -> None:
    try:
        with transaction.atomic():
            for op in ops:
                # a refusal (already approved, hidden, ...) changes nothing
                with contextlib.suppress(DomainError):
                    _run(world, op)
            kept = _snapshot()
            # the published reviews, summed by hand
            expected_vendors = ratings.expected_from_reviews("vendor")
            assert {k: v[:3] for k, v in kept["vendor_ratings"].items()} == expected_vendors
            assert {k: v[:3] for k, v in kept["listing_ratings"].items()} == (
                ratings.expected_from_reviews("listing")
            )
            for vendor_id, (count, total, _dist, score) in kept["vendor_ratings"].items():
                assert score == pytest.approx(ratings.bayesian(count, total))
                assert kept["vendor_counts"][vendor_id] == count
                assert kept["vendors"][vendor_id] == total
            for listing_id, (count, total, _dist, _score) in kept["listing_ratings"].items():
                assert kept["listing_counts"][listing_id] == count
                assert kept["listings"][listing_id] == total
            assert set(kept["vendor_counts"]) == set(kept["vendor_ratings"])
            assert set(kept["listing_counts"]) == set(kept["listing_ratings"])
            # and the command's rebuild from scratch agrees with what the deltas kept
            ratings.recompute_all()
            rebuilt = _snapshot()
            assert rebuilt.keys() == kept.keys()
            for key in kept:
                if key.endswith("ratings"):
                    assert {k: v[:3] for k, v in rebuilt[key].items()} == {
                        k: v[:3] for k, v in kept[key].items()
                    }
                    for owner, row in rebuilt[key].items():
                        assert row[3] == pytest.approx(kept[key][owner][3])
                else:
                    assert rebuilt[key] == kept[key]
            raise Rollback
    except Rollback:
        pass
