"""POST /reviews and its refusals, edits with history, the vendor's one reply, and the
public lists with their ratings (API.md "Reviews")."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from agora.bookings.models import Booking
from agora.core import clock
from agora.core.audit import audit_trail
from agora.reviews import fraud
from agora.reviews.models import ListingRating, Review, ReviewRevision, ReviewSignals
from agora.vendors.models import Vendor
from tests.conftest import ApiClient, assert_problem
from tests.factories import ListingFactory, UserFactory
from tests.reviews.helpers import (
    NOW,
    Shop,
    client_from,
    completed_booking,
    review_via_api,
    rows,
    stars,
    vendor_order,
    vendor_rating,
)

pytestmark = pytest.mark.django_db


# --- writing a review -----------------------------------------------------------------------


def test_the_customer_reviews_a_completed_booking(shop: Shop) -> None:
    booking = shop.booking()

    response = shop.as_customer.post(
        "/reviews",
        {"booking_id": booking.pk, "rating": 4, "text": "Good work, <b>slightly</b> late."},
        headers={"User-Agent": "TestBrowser/1.0"},
    )

    assert response.status_code == 201, response.content
    body = response.json()
    review = Review.objects.get()
    assert body == {
        "id": review.pk,
        "vendor_id": shop.vendor.pk,
        "listing_id": shop.listing.pk,
        "booking_id": booking.pk,
        "order_id": None,
        "rating": 4,
        "text": "Good work, slightly late.",
        "status": "published",
        "author_name": "Chloe C.",
        "created_at": NOW.isoformat().replace("+00:00", "Z"),
        "edited_at": None,
        "reply": None,
    }
    # the booking moved on, audited with the review
    booking.refresh_from_db()
    assert booking.status == "reviewed"
    last = list(audit_trail(booking))[-1]
    assert (last.action, last.actor_id, last.data["review_id"]) == (
        "booking.reviewed",
        shop.customer.pk,
        review.pk,
    )
    # the signals: the address only as a keyed hash
    signals = ReviewSignals.objects.get(review=review)
    assert signals.ip_hash == fraud.ip_hash("198.51.100.13") != "198.51.100.13"
    assert len(signals.ip_hash) == 64
    assert signals.user_agent == "TestBrowser/1.0"
    assert signals.device_hash == fraud.device_hash("198.51.100.13", "TestBrowser/1.0")
    assert (signals.reasons, signals.author_review_count) == ([], 0)
    # ratings moved in the same transaction: ours and the vendor's and listing's own fields
    assert vendor_rating(shop.vendor) == (1, 4, stars(four=1))
    vendor = Vendor.objects.get(pk=shop.vendor.pk)
    assert (vendor.rating_count, vendor.rating_sum) == (1, 4)
    listing_rating = ListingRating.objects.get(listing=shop.listing)
    assert (listing_rating.count, listing_rating.total) == (1, 4)
    assert listing_rating.bayesian == pytest.approx((10 * 3.5 + 4) / 11)


def test_the_customer_reviews_a_delivered_order(shop: Shop) -> None:
    order = vendor_order(shop.customer, shop.vendor, shop.product)

    response = shop.as_customer.post(
        "/reviews", {"order_id": order.pk, "rating": 5, "text": "Arrived quickly, fit well."}
    )

    body = response.json()
    assert response.status_code == 201, body
    assert (body["order_id"], body["booking_id"], body["listing_id"]) == (
        order.pk,
        None,
        shop.product.pk,
    )
    assert vendor_rating(shop.vendor) == (1, 5, stars(five=1))
    order.refresh_from_db()
    assert order.status == "delivered"  # orders have no `reviewed` state


def test_an_order_of_several_listings_rates_the_vendor_only(shop: Shop) -> None:
    order = vendor_order(shop.customer, shop.vendor, shop.product, shop.listing)

    response = shop.as_customer.post(
        "/reviews", {"order_id": order.pk, "rating": 3, "text": "One item was missing."}
    )

    assert response.json()["listing_id"] is None
    assert vendor_rating(shop.vendor) == (1, 3, stars(three=1))
    assert not ListingRating.objects.exists()


@pytest.mark.parametrize("status", ["accepted", "in_progress", "cancelled", "no_show"])
def test_a_booking_that_is_not_completed_is_not_reviewable(shop: Shop, status: str) -> None:
    booking = shop.booking(status=status)
    before = rows()

    response = review_via_api(shop.as_customer, booking=booking)

    assert "completed" in assert_problem(response, 409, "not_reviewable")["detail"]
    assert rows() == before


@pytest.mark.parametrize("status", ["paid", "accepted", "shipped", "cancelled", "refunded"])
def test_an_order_that_is_not_delivered_is_not_reviewable(shop: Shop, status: str) -> None:
    order = vendor_order(shop.customer, shop.vendor, shop.product, status=status)
    before = rows()

    response = shop.as_customer.post("/reviews", {"order_id": order.pk, "rating": 5, "text": "ok!"})

    assert_problem(response, 409, "not_reviewable")
    assert rows() == before


def test_the_review_window_closes_after_30_days(shop: Shop) -> None:
    on_time = shop.booking(completed_at=NOW - timedelta(days=30))
    late = shop.booking(completed_at=NOW - timedelta(days=30, seconds=1))
    late_order = vendor_order(
        shop.customer, shop.vendor, shop.product, delivered_at=NOW - timedelta(days=31)
    )
    before = rows()

    assert_problem(review_via_api(shop.as_customer, booking=late), 409, "not_reviewable")
    assert_problem(
        shop.as_customer.post("/reviews", {"order_id": late_order.pk, "rating": 5, "text": "ok!"}),
        409,
        "not_reviewable",
    )
    assert rows() == before
    assert review_via_api(shop.as_customer, booking=on_time).status_code == 201


def test_the_window_is_a_setting(shop: Shop, settings: Any) -> None:
    settings.AGORA_REVIEW_WINDOW_DAYS = 7
    booking = shop.booking(completed_at=NOW - timedelta(days=8))

    assert_problem(review_via_api(shop.as_customer, booking=booking), 409, "not_reviewable")


def test_a_second_review_of_the_same_transaction_is_refused(shop: Shop) -> None:
    booking = shop.booking()
    order = vendor_order(shop.customer, shop.vendor, shop.product)
    assert review_via_api(shop.as_customer, booking=booking).status_code == 201
    first_order = shop.as_customer.post(
        "/reviews", {"order_id": order.pk, "rating": 5, "text": "ok!"}
    )
    assert first_order.status_code == 201
    before = rows()

    again = review_via_api(shop.as_customer, booking=booking, rating=1, text="Changed my mind")
    again_order = shop.as_customer.post(
        "/reviews", {"order_id": order.pk, "rating": 1, "text": "Again"}
    )

    assert_problem(again, 409, "already_reviewed")
    assert_problem(again_order, 409, "already_reviewed")
    assert rows() == before
    assert vendor_rating(shop.vendor) == (2, 10, stars(five=2))


def test_someone_elses_transaction_is_not_found(shop: Shop) -> None:
    booking = shop.booking()
    order = vendor_order(shop.customer, shop.vendor, shop.product)
    before = rows()

    for client in (shop.as_other_customer, shop.as_owner, shop.as_rival):
        assert_problem(review_via_api(client, booking=booking), 404, "not_found")
        assert_problem(
            client.post("/reviews", {"order_id": order.pk, "rating": 5, "text": "ok!"}),
            404,
            "not_found",
        )
    assert_problem(review_via_api(shop.as_customer, booking_id=10**9), 404, "not_found")
    assert rows() == before


def test_anonymous_callers_must_sign_in(shop: Shop) -> None:
    booking = shop.booking()

    assert_problem(review_via_api(ApiClient(), booking=booking), 401, "not_authenticated")


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        ({"rating": 0}, ["body", "payload", "rating"]),
        ({"rating": 6}, ["body", "payload", "rating"]),
        ({"rating": -1}, ["body", "payload", "rating"]),
        ({"rating": 4.5}, ["body", "payload", "rating"]),
        ({"rating": "5"}, ["body", "payload", "rating"]),
        ({"rating": True}, ["body", "payload", "rating"]),
        ({"rating": None}, ["body", "payload", "rating"]),
        ({"text": None}, ["body", "payload", "text"]),
        ({"status": "published"}, ["body", "payload", "status"]),
        ({"vendor_id": 1}, ["body", "payload", "vendor_id"]),
    ],
    ids=lambda value: str(value),
)
def test_bad_input_is_422_and_changes_nothing(
    shop: Shop, change: dict[str, Any], loc: list[str]
) -> None:
    booking = shop.booking()
    before = rows()

    response = review_via_api(shop.as_customer, booking=booking, **change)

    body = assert_problem(response, 422, "validation_error")
    assert loc in [error["loc"] for error in body["errors"]]
    assert rows() == before


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("", "too_short"),
        ("ok", "too_short"),
        ("<p> </p><script>alert(1)</script>", "too_short"),
        ("x" * 5001, "too_long"),
    ],
)
def test_text_length_is_checked_after_html_is_removed(shop: Shop, text: str, kind: str) -> None:
    booking = shop.booking()
    before = rows()

    body = assert_problem(
        review_via_api(shop.as_customer, booking=booking, text=text), 422, "validation_error"
    )

    assert body["errors"] == [
        {"loc": ["body", "text"], "msg": body["errors"][0]["msg"], "type": kind}
    ]
    assert rows() == before


def test_both_or_neither_transaction_ids_are_refused(shop: Shop) -> None:
    booking = shop.booking()
    order = vendor_order(shop.customer, shop.vendor, shop.product)
    before = rows()

    both = review_via_api(shop.as_customer, booking=booking, order_id=order.pk)
    neither = review_via_api(shop.as_customer)

    for response in (both, neither):
        body = assert_problem(response, 422, "validation_error")
        assert body["errors"][0]["loc"] == ["body", "booking_id"]
    assert rows() == before


def test_html_is_stripped_and_entities_cannot_smuggle_tags(shop: Shop) -> None:
    booking = shop.booking()

    response = review_via_api(
        shop.as_customer,
        booking=booking,
        text=(
            "<script>steal()</script><p>Great&nbsp;job</p><p>on the   <a href='x'>brakes</a>"
            "</p>&lt;img src=x onerror=alert(1)&gt; done\x00"
        ),
    )

    assert response.status_code == 201, response.content
    # (the encoded <img> decoded into a tag, and was stripped as one)
    assert Review.objects.get().text == "Great job\non the brakes\ndone"


# --- editing ---------------------------------------------------------------------------------


def _reviewed(shop: Shop, rating: int = 5) -> Review:
    response = review_via_api(shop.as_customer, booking=shop.booking(), rating=rating)
    assert response.status_code == 201, response.content
    return Review.objects.get(pk=response.json()["id"])


def test_the_author_edits_within_48_hours_and_the_history_is_kept(shop: Shop) -> None:
    review = _reviewed(shop, rating=5)
    clock.advance(timedelta(hours=47))

    response = shop.as_customer.patch(
        f"/reviews/{review.pk}", {"rating": 2, "text": "The fix did not last."}
    )

    body = response.json()
    assert response.status_code == 200, body
    assert (body["rating"], body["text"]) == (2, "The fix did not last.")
    assert body["edited_at"] == (NOW + timedelta(hours=47)).isoformat().replace("+00:00", "Z")
    assert list(ReviewRevision.objects.values_list("rating", "text", "written_at")) == [
        (5, "Quick, friendly and fairly priced.", NOW)
    ]
    assert vendor_rating(shop.vendor) == (1, 2, stars(two=1))
    assert Vendor.objects.values_list("rating_count", "rating_sum").get(pk=shop.vendor.pk) == (1, 2)
    revisions = shop.as_customer.get(f"/reviews/{review.pk}/revisions").json()
    assert [(r["rating"], r["text"]) for r in revisions] == [
        (5, "Quick, friendly and fairly priced.")
    ]
    # only the author and operators read the history
    assert_problem(shop.as_other_customer.get(f"/reviews/{review.pk}/revisions"), 404, "not_found")


def test_an_edit_after_48_hours_is_refused(shop: Shop) -> None:
    review = _reviewed(shop)
    clock.advance(timedelta(hours=48, seconds=1))
    before = rows()

    response = shop.as_customer.patch(f"/reviews/{review.pk}", {"rating": 1, "text": "Too late"})

    assert_problem(response, 409, "edit_window_closed")
    assert rows() == before


def test_only_the_author_edits(shop: Shop) -> None:
    review = _reviewed(shop)
    before = rows()

    for client in (shop.as_other_customer, shop.as_owner, shop.as_rival):
        response = client.patch(f"/reviews/{review.pk}", {"rating": 1, "text": "Hijacked"})
        assert_problem(response, 404, "not_found")
    assert_problem(
        shop.as_customer.patch(f"/reviews/{review.pk}", {"rating": 9, "text": "xx"}),
        422,
        "validation_error",
    )
    assert rows() == before


# --- the vendor's reply ----------------------------------------------------------------------


def test_the_vendor_replies_once(shop: Shop) -> None:
    review = _reviewed(shop)

    response = shop.as_manager.post(
        f"/reviews/{review.pk}/reply", {"text": "Thank you, <i>see you again</i>!"}
    )

    body = response.json()
    assert response.status_code == 200, body
    assert body["reply"] == {
        "text": "Thank you, see you again!",
        "replied_at": NOW.isoformat().replace("+00:00", "Z"),
    }
    assert [e.action for e in audit_trail(review)][-1] == "review.replied"
    before = rows()
    assert_problem(
        shop.as_owner.post(f"/reviews/{review.pk}/reply", {"text": "And again"}),
        409,
        "already_replied",
    )
    assert rows() == before


def test_only_the_vendors_managers_reply(shop: Shop) -> None:
    review = _reviewed(shop)
    before = rows()

    assert_problem(
        shop.as_staff.post(f"/reviews/{review.pk}/reply", {"text": "Hi"}), 403, "forbidden"
    )
    for client in (shop.as_rival, shop.as_customer, shop.as_other_customer):
        assert_problem(client.post(f"/reviews/{review.pk}/reply", {"text": "Hi"}), 404, "not_found")
    assert_problem(
        shop.as_owner.post(f"/reviews/{review.pk}/reply", {"text": "  "}), 422, "validation_error"
    )
    assert rows() == before


# --- reading ---------------------------------------------------------------------------------


def test_the_vendors_reviews_list_shows_published_reviews_and_the_rating(
    shop: Shop, django_assert_max_num_queries: Any
) -> None:
    customers = UserFactory.create_batch(5)
    for index, (customer, rating) in enumerate(zip(customers, [5, 4, 4, 2, 5], strict=True)):
        clock.advance(timedelta(hours=2))
        client = client_from(customer, f"203.0.113.{index + 1}")
        booking = completed_booking(customer, shop.listing, completed_at=clock.now())
        assert (
            review_via_api(
                client, booking=booking, rating=rating, text=f"Review {index}"
            ).status_code
            == 201
        )
    hidden = Review.objects.get(text="Review 3")
    Review.objects.filter(pk=hidden.pk).update(status="hidden")  # written as a moderator would
    anonymous = ApiClient()

    with django_assert_max_num_queries(3):
        first = anonymous.get(f"/vendors/{shop.vendor.pk}/reviews", limit=2).json()
    second = anonymous.get(
        f"/vendors/{shop.vendor.pk}/reviews", limit=2, cursor=first["next_cursor"]
    ).json()

    assert [item["text"] for item in first["items"] + second["items"]] == [
        "Review 4",
        "Review 2",
        "Review 1",
        "Review 0",
    ]
    assert second["next_cursor"] is None
    # the rating counts the five as they were written (the direct update above bypassed it)
    assert (first["rating_count"], first["rating_average"]) == (5, 4.0)
    assert first["rating_distribution"] == {"1": 0, "2": 1, "3": 0, "4": 2, "5": 2}
    assert first["rating_bayesian"] == pytest.approx((35 + 20) / 15, abs=1e-4)

    listing = anonymous.get(f"/listings/{shop.listing.pk}/reviews").json()
    assert len(listing["items"]) == 4
    assert listing["rating_count"] == 5


def test_the_list_query_count_does_not_grow_with_the_page(
    shop: Shop, django_assert_max_num_queries: Any, settings: Any
) -> None:
    settings.AGORA_REVIEW_BURST_COUNT = 1000
    for index in range(20):
        customer = UserFactory()
        booking = completed_booking(customer, shop.listing)
        client = client_from(customer, f"203.0.113.{index + 1}")
        assert (
            review_via_api(client, booking=booking, text=f"Review number {index}").status_code
            == 201
        )

    with django_assert_max_num_queries(3):
        page = ApiClient().get(f"/vendors/{shop.vendor.pk}/reviews", limit=20).json()
    # the listing's own lookup (with its images and variants) takes three
    with django_assert_max_num_queries(5):
        ApiClient().get(f"/listings/{shop.listing.pk}/reviews", limit=20)

    assert len(page["items"]) == 20


def test_reviews_of_a_hidden_vendor_or_draft_listing_are_not_found(shop: Shop) -> None:
    draft = ListingFactory(vendor=shop.vendor, status="draft")
    Vendor.objects.filter(pk=shop.vendor.pk).update(status="suspended")

    assert_problem(ApiClient().get(f"/vendors/{shop.vendor.pk}/reviews"), 404, "not_found")
    assert_problem(ApiClient().get(f"/listings/{draft.pk}/reviews"), 404, "not_found")
    assert_problem(shop.as_rival.get(f"/listings/{draft.pk}/reviews"), 404, "not_found")
    # its own staff still see them
    assert shop.as_staff.get(f"/vendors/{shop.vendor.pk}/reviews").status_code == 200


def test_a_flagged_review_is_visible_to_its_author_only(shop: Shop) -> None:
    review = _reviewed(shop)
    Review.objects.filter(pk=review.pk).update(status="flagged")

    assert_problem(ApiClient().get(f"/reviews/{review.pk}"), 404, "not_found")
    assert_problem(shop.as_owner.get(f"/reviews/{review.pk}"), 404, "not_found")
    assert shop.as_customer.get(f"/reviews/{review.pk}").json()["status"] == "flagged"


def test_reviewable_lists_what_the_customer_may_still_review(
    shop: Shop, django_assert_max_num_queries: Any
) -> None:
    done = shop.booking(completed_at=NOW - timedelta(days=2))
    shop.booking(completed_at=NOW - timedelta(days=31))  # too late
    shop.booking(status="accepted")  # not done
    reviewed = shop.booking(completed_at=NOW - timedelta(days=1))
    order = vendor_order(
        shop.customer, shop.vendor, shop.product, delivered_at=NOW - timedelta(days=5)
    )
    vendor_order(shop.customer, shop.vendor, shop.product, status="shipped")
    completed_booking(shop.other_customer, shop.listing)  # someone else's
    assert review_via_api(shop.as_customer, booking=reviewed).status_code == 201

    # the token's two, then bookings, orders and their lines
    with django_assert_max_num_queries(5):
        items = shop.as_customer.get("/me/reviewable").json()

    assert [(i["kind"], i["id"], i["title"], i["vendor_name"]) for i in items] == [
        ("booking", done.pk, "Full service", "Camden Motors"),
        ("order", order.pk, "Wiper blades", "Camden Motors"),
    ]
    assert items[0]["review_by"] == (NOW + timedelta(days=28)).isoformat().replace("+00:00", "Z")
    assert Booking.objects.get(pk=reviewed.pk).status == "reviewed"
