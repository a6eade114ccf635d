"""The quality gate: vendors with a low Bayesian rating over enough reviews, or a low
completion rate over enough outcomes, are flagged to operators — and suspended when the
setting says so. Completion and cancellation rates are computed per vendor."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command

from agora.accounts.models import User
from agora.bookings.models import Booking
from agora.catalog.models import Listing
from agora.core import clock, periodic
from agora.core.audit import audit_log, audit_trail
from agora.reviews import quality, ratings, selectors, services
from agora.reviews.models import ListingRating, Review, VendorQualityFlag, VendorRating
from agora.reviews.tasks import check_vendor_quality
from agora.vendors.models import Vendor
from tests.conftest import ApiClient, assert_problem
from tests.factories import BookingFactory, ListingFactory, UserFactory, VendorFactory
from tests.reviews.helpers import NOW, Shop, completed_booking, stars, vendor_order

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _gate(settings: Any) -> None:
    settings.AGORA_REVIEW_QUALITY_MIN_REVIEWS = 3
    settings.AGORA_REVIEW_QUALITY_MIN_OUTCOMES = 10
    settings.AGORA_REVIEW_BURST_COUNT = 1000
    settings.AGORA_REVIEW_PRIOR_MEAN = 3.5
    settings.AGORA_REVIEW_PRIOR_WEIGHT = 10


def review(listing: Listing, rating: int, *, author: User | None = None) -> Review:
    author = author or UserFactory()
    booking = completed_booking(author, listing)
    return services.review_create(
        author=author,
        booking_id=booking.pk,
        rating=rating,
        text=f"{rating} stars",
        ip_address=f"10.{author.pk % 250}.{author.pk // 250}.1",
    )


# --- rating -----------------------------------------------------------------------------------


def test_a_low_bayesian_rating_over_enough_reviews_is_flagged(
    shop: Shop, as_operator: ApiClient
) -> None:
    good_vendor_listing = ListingFactory(vendor=VendorFactory(name="Good Garage"))
    for _ in range(3):
        review(good_vendor_listing, 4)
    review(shop.listing, 1)
    review(shop.listing, 1)
    # two 1★ reviews: (35 + 2) / 12 = 3.08 and too few reviews anyway
    assert selectors.vendor_quality_flags() == []

    review(shop.listing, 1)  # (35 + 3) / 13 = 2.92 over 3 reviews

    [flag] = selectors.vendor_quality_flags()
    assert (flag.vendor_id, flag.reason, flag.rating_count, flag.suspended) == (
        shop.vendor.pk,
        "low_rating",
        3,
        False,
    )
    assert flag.bayesian == pytest.approx(38 / 13, abs=1e-4)
    assert [e.action for e in audit_trail(shop.vendor)][-1] == "vendor.quality_flagged"
    assert Vendor.objects.get(pk=shop.vendor.pk).status == "active"  # not suspended by default
    # a fourth bad review opens no second flag
    review(shop.listing, 1)
    assert VendorQualityFlag.objects.count() == 1

    listed = as_operator.get("/operator/quality-flags").json()
    assert [(f["vendor_id"], f["reason"], f["vendor_status"]) for f in listed] == [
        (shop.vendor.pk, "low_rating", "active")
    ]


def test_the_gate_can_suspend_automatically(shop: Shop, settings: Any) -> None:
    settings.AGORA_REVIEW_AUTO_SUSPEND = True
    for _ in range(3):
        review(shop.listing, 1)

    vendor = Vendor.objects.get(pk=shop.vendor.pk)
    assert vendor.status == "suspended"
    assert vendor.status_reason.startswith("Suspended automatically by the quality gate")
    entry = next(e for e in audit_trail(vendor) if e.action == "vendor.suspended")
    assert (entry.actor_id, entry.data["from"], entry.data["to"]) == (None, "active", "suspended")
    assert VendorQualityFlag.objects.get().suspended is True
    assert_problem(ApiClient().get(f"/vendors/{vendor.pk}"), 404, "not_found")


def test_a_resolved_flag_leaves_the_list_and_may_open_again(
    shop: Shop, as_operator: ApiClient
) -> None:
    for _ in range(3):
        review(shop.listing, 1)
    flag = VendorQualityFlag.objects.get()

    assert_problem(
        as_operator.post(f"/operator/quality-flags/{flag.pk}/resolve", {}), 422, "validation_error"
    )
    response = as_operator.post(
        f"/operator/quality-flags/{flag.pk}/resolve", {"reason": "Spoke to the owner"}
    )

    assert response.json()["resolved_at"] is not None
    assert as_operator.get("/operator/quality-flags").json() == []
    assert_problem(
        as_operator.post(f"/operator/quality-flags/{flag.pk}/resolve", {"reason": "x"}),
        404,
        "not_found",
    )
    review(shop.listing, 1)
    assert VendorQualityFlag.objects.filter(resolved_at__isnull=True).count() == 1


# --- completion and cancellation --------------------------------------------------------------


def _booking(listing: Listing, status: str, *, cancelled_by: User | None = None) -> Booking:
    customer = UserFactory()
    booking = BookingFactory(
        listing=listing,
        customer=customer,
        status=status,
        hold_expires_at=None,
        paid_at=NOW - timedelta(days=5),
        created_at=NOW - timedelta(days=6),
    )
    if status == "cancelled":
        actor = cancelled_by or customer
        audit_log(actor=actor, action="booking.cancelled", target=booking, data={})
    return booking


def _troubled_vendor(shop: Shop) -> None:
    """6 completed, 2 declined, 1 cancelled by the vendor, 1 by the customer, 1 expired
    unanswered, 1 no-show; 2 delivered orders, 1 cancelled by its customer — and an unpaid
    hold and a live booking, which are no outcome yet."""
    for _ in range(5):
        _booking(shop.listing, "completed")
    _booking(shop.listing, "reviewed")
    _booking(shop.listing, "declined")
    _booking(shop.listing, "declined")
    _booking(shop.listing, "cancelled", cancelled_by=shop.staff)
    cancelled_by_customer = _booking(shop.listing, "cancelled")
    _booking(shop.listing, "expired")
    _booking(shop.listing, "no_show")
    _booking(shop.listing, "accepted")
    BookingFactory(listing=shop.listing, status="expired", paid_at=None)
    vendor_order(UserFactory(), shop.vendor, shop.product)
    vendor_order(UserFactory(), shop.vendor, shop.product, status="completed")
    cancelled_order = vendor_order(UserFactory(), shop.vendor, shop.product, status="cancelled")
    audit_log(actor=cancelled_order.customer, action="order.cancelled", target=cancelled_order)
    assert cancelled_by_customer.customer_id != shop.staff.pk


def test_completion_and_cancellation_rates(shop: Shop, as_operator: ApiClient) -> None:
    _troubled_vendor(shop)

    report = as_operator.get(f"/operator/vendors/{shop.vendor.pk}/quality").json()

    # outcomes 15 = 8 completed + 6 cancelled + 1 no-show; the customer ended 3 of them
    assert report == {
        "vendor_id": shop.vendor.pk,
        "rating": {
            "count": 0,
            "average": None,
            "bayesian": 3.5,
            "distribution": {str(s): 0 for s in range(1, 6)},
        },
        "outcomes": 15,
        "completed": 8,
        "cancelled": 6,
        "customer_ended": 3,
        "completion_rate": round(8 / 12, 4),
        "cancellation_rate": 0.4,
    }


def test_a_low_completion_rate_is_flagged_by_the_periodic_check(shop: Shop) -> None:
    _troubled_vendor(shop)
    steady = ListingFactory(vendor=VendorFactory(name="Steady Sparks"))
    for _ in range(12):
        _booking(steady, "completed")
    for _ in range(3):
        _booking(steady, "cancelled")  # all by their customers: not the vendor's fault

    assert "agora.reviews.tasks.check_vendor_quality" in [job.name for job in periodic.jobs()]
    opened = check_vendor_quality.call()

    assert opened == 1
    [flag] = selectors.vendor_quality_flags()
    assert (flag.vendor_id, flag.reason) == (shop.vendor.pk, "low_completion")
    assert flag.completion_rate == round(8 / 12, 4)
    assert flag.cancellation_rate == 0.4
    assert quality.vendor_quality(steady.vendor_id).completion_rate == 1.0
    # idempotent: running again opens nothing new
    assert check_vendor_quality.call() == 0


def test_too_few_outcomes_are_not_judged(shop: Shop) -> None:
    _booking(shop.listing, "declined")
    _booking(shop.listing, "completed")

    assert quality.check_vendor(shop.vendor) == []
    assert quality.vendor_quality(shop.vendor.pk).completion_rate == 0.5


def test_old_outcomes_fall_out_of_the_window(shop: Shop) -> None:
    _troubled_vendor(shop)
    clock.advance(timedelta(days=181))

    assert quality.vendor_quality(shop.vendor.pk).outcomes == 0


# --- recomputation ------------------------------------------------------------------------------


def test_recompute_ratings_rebuilds_every_aggregate(shop: Shop, capsys: Any) -> None:
    review(shop.listing, 5)
    review(shop.listing, 3)
    hidden = review(shop.listing, 2)
    Review.objects.filter(pk=hidden.pk).update(status="hidden")  # bypassing the services
    VendorRating.objects.filter(vendor=shop.vendor).update(count=99, total=1, stars_5=7)
    Listing.objects.filter(pk=shop.listing.pk).update(rating_count=0, rating_sum=0)
    stray = VendorFactory()
    VendorRating.objects.create(vendor=stray, count=4, total=20, stars_5=4, bayesian=4.0)
    Vendor.objects.filter(pk=stray.pk).update(rating_count=4, rating_sum=20)

    call_command("recompute_ratings")

    assert "1 vendors and 1 listings" in capsys.readouterr().out
    rating = selectors.rating_for_vendor(shop.vendor.pk)
    assert (rating.count, rating.average, rating.distribution) == (
        2,
        4.0,
        stars(three=1, five=1),
    )
    assert rating.bayesian == pytest.approx((35 + 8) / 12, abs=1e-4)
    assert ListingRating.objects.get(listing=shop.listing).count == 2
    assert Listing.objects.values_list("rating_count", "rating_sum").get(pk=shop.listing.pk) == (
        2,
        8,
    )
    assert not VendorRating.objects.filter(vendor=stray).exists()
    assert Vendor.objects.values_list("rating_count", "rating_sum").get(pk=stray.pk) == (0, 0)
    assert ratings.recompute_all() == (1, 1)


def test_a_new_prior_takes_effect_on_recomputation(shop: Shop, settings: Any) -> None:
    review(shop.listing, 5)
    settings.AGORA_REVIEW_PRIOR_MEAN = 4.0
    settings.AGORA_REVIEW_PRIOR_WEIGHT = 4

    call_command("recompute_ratings", "--quality")

    assert selectors.rating_for_vendor(shop.vendor.pk).bayesian == pytest.approx(21 / 5)


def test_one_five_star_review_does_not_outrank_two_hundred_at_4_8(shop: Shop) -> None:
    newcomer = ListingFactory(vendor=VendorFactory(name="Newcomer"))
    established = VendorFactory(name="Established")
    review(newcomer, 5)
    ratings.apply(
        vendor_id=established.pk,
        listing_id=None,
        delta=ratings.Delta(stars={5: 160, 4: 40}),
    )

    summaries = selectors.ratings_for_vendors([newcomer.vendor_id, established.pk])

    assert summaries[newcomer.vendor_id].average == 5.0
    assert summaries[established.pk].average == 4.8
    assert summaries[established.pk].bayesian > summaries[newcomer.vendor_id].bayesian
    ranked = VendorRating.objects.order_by("-bayesian").values_list("vendor_id", flat=True)
    assert list(ranked) == [established.pk, newcomer.vendor_id]


def test_listings_rank_by_bayesian_rating_with_unreviewed_ones_at_the_prior(shop: Shop) -> None:
    loved, disliked = ListingFactory(vendor=shop.vendor), ListingFactory(vendor=shop.vendor)
    for _ in range(3):
        review(loved, 5)
        review(disliked, 1)
    unreviewed = shop.listing

    ranked = list(
        Listing.objects.filter(pk__in=[loved.pk, disliked.pk, unreviewed.pk])
        .order_by(selectors.bayesian_rank().desc(), "id")
        .values_list("pk", flat=True)
    )

    assert ranked == [loved.pk, unreviewed.pk, disliked.pk]
