"""The moderation queue and the operator's approve / hide / ban, each audited."""

from __future__ import annotations

from typing import Any

import pytest

from agora.accounts.models import User
from agora.core.audit import audit_trail
from agora.reviews import services
from agora.reviews.models import Review, ReviewStatus
from tests.conftest import ApiClient, assert_problem
from tests.factories import ListingFactory, UserFactory, VendorFactory
from tests.reviews.helpers import Shop, completed_booking, rows, stars, vendor_rating
from tests.vendors.helpers import client_for

pytestmark = pytest.mark.django_db


def write(author: User, listing: Any, *, ip: str, rating: int = 5) -> Review:
    booking = completed_booking(author, listing)
    return services.review_create(
        author=author,
        booking_id=booking.pk,
        rating=rating,
        text=f"Review by {author.name}",
        ip_address=ip,
        user_agent="UA",
    )


@pytest.fixture
def flagged(shop: Shop) -> Review:
    """A review by a member of the vendor's staff: flagged (staff_link)."""
    review = write(shop.staff, shop.listing, ip="10.9.0.1", rating=1)
    assert review.status == ReviewStatus.FLAGGED
    return review


def test_the_queue_lists_flagged_reviews_with_their_signals(
    shop: Shop, flagged: Review, as_operator: ApiClient, django_assert_max_num_queries: Any
) -> None:
    write(shop.customer, shop.listing, ip="10.1.0.1")  # published: not in the queue
    for index in range(5):
        member = UserFactory()
        shop.vendor.memberships.create(user=member, role="staff")
        write(member, shop.listing, ip=f"10.{20 + index}.0.1")

    with django_assert_max_num_queries(4):
        page = as_operator.get("/operator/reviews", limit=3).json()
    rest = as_operator.get("/operator/reviews", limit=3, cursor=page["next_cursor"]).json()

    items = page["items"] + rest["items"]
    assert len(items) == 6
    assert rest["next_cursor"] is None
    first = items[0]
    assert first["id"] == flagged.pk
    assert first["status"] == "flagged"
    assert first["vendor_name"] == "Camden Motors"
    assert first["author_email"] == shop.staff.email
    assert first["signals"]["reasons"] == ["staff_link"]
    assert first["signals"]["user_agent"] == "UA"
    assert len(first["signals"]["ip_hash"]) == 64


def test_the_queue_by_status_and_a_status_it_does_not_know(
    shop: Shop, flagged: Review, as_operator: ApiClient
) -> None:
    published = write(shop.customer, shop.listing, ip="10.1.0.1")

    by_status = {
        status: [
            item["id"]
            for item in as_operator.get(f"/operator/reviews?status={status}").json()["items"]
        ]
        for status in ("flagged", "published", "hidden")
    }

    assert by_status == {"flagged": [flagged.pk], "published": [published.pk], "hidden": []}
    assert_problem(as_operator.get("/operator/reviews?status=gone"), 422, "validation_error")


def test_approving_publishes_and_counts_the_review(
    flagged: Review, shop: Shop, as_operator: ApiClient, operator_user: User
) -> None:
    response = as_operator.post(f"/operator/reviews/{flagged.pk}/approve", {"reason": "checked"})

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "published"
    flagged.refresh_from_db()
    assert (flagged.moderated_by_id, flagged.moderation_reason) == (operator_user.pk, "checked")
    assert vendor_rating(shop.vendor) == (1, 1, stars(one=1))
    entry = list(audit_trail(flagged))[-1]
    assert (entry.action, entry.actor_id, entry.data["from"], entry.data["to"]) == (
        "review.approved",
        operator_user.pk,
        "flagged",
        "published",
    )
    before = rows()
    assert_problem(
        as_operator.post(f"/operator/reviews/{flagged.pk}/approve"), 409, "invalid_transition"
    )
    assert rows() == before


def test_hiding_needs_a_reason_and_is_audited(
    shop: Shop, as_operator: ApiClient, operator_user: User
) -> None:
    review = write(shop.customer, shop.listing, ip="10.1.0.1", rating=4)
    assert vendor_rating(shop.vendor) == (1, 4, stars(four=1))
    before = rows()

    for body in ({}, {"reason": ""}, {"reason": "   "}):
        assert_problem(
            as_operator.post(f"/operator/reviews/{review.pk}/hide", body), 422, "validation_error"
        )
    assert rows() == before

    response = as_operator.post(f"/operator/reviews/{review.pk}/hide", {"reason": "Abusive"})

    assert response.json()["status"] == "hidden"
    assert vendor_rating(shop.vendor) == (0, 0, stars())
    entry = list(audit_trail(review))[-1]
    assert (entry.action, entry.actor_id, entry.data["reason"]) == (
        "review.hidden",
        operator_user.pk,
        "Abusive",
    )
    assert ApiClient().get(f"/vendors/{shop.vendor.pk}/reviews").json()["items"] == []


def test_banning_deactivates_the_author_and_hides_all_their_reviews(
    shop: Shop, flagged: Review, as_operator: ApiClient, operator_user: User
) -> None:
    elsewhere = ListingFactory(vendor=VendorFactory())
    published = write(shop.staff, elsewhere, ip="10.10.0.1", rating=5)
    honest = write(shop.customer, shop.listing, ip="10.1.0.1", rating=4)
    staff_client = client_for(shop.staff)
    assert published.status == "published"

    response = as_operator.post(f"/operator/reviews/{flagged.pk}/ban", {"reason": "Fake reviews"})

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "hidden"
    assert set(Review.objects.filter(author=shop.staff).values_list("status", flat=True)) == {
        "hidden"
    }
    assert Review.objects.get(pk=honest.pk).status == "published"
    assert not User.objects.get(pk=shop.staff.pk).is_active
    assert_problem(staff_client.get("/me"), 401, "not_authenticated")
    assert vendor_rating(shop.vendor) == (1, 4, stars(four=1))
    assert vendor_rating(elsewhere.vendor) == (0, 0, stars())
    assert [e.action for e in audit_trail(shop.staff)] == ["user.banned"]
    assert audit_trail(shop.staff).get().data["reason"] == "Fake reviews"


def test_operators_accounts_cannot_be_banned(shop: Shop, as_operator: ApiClient) -> None:
    other_operator = UserFactory(is_operator=True)
    review = write(other_operator, shop.listing, ip="10.1.0.1")
    before = rows()

    response = as_operator.post(f"/operator/reviews/{review.pk}/ban", {"reason": "x"})

    assert_problem(response, 409, "conflict")
    assert rows() == before


@pytest.mark.parametrize("action", ["approve", "hide", "ban"])
def test_only_operators_moderate(shop: Shop, flagged: Review, action: str) -> None:
    before = rows()

    for client, status, code in (
        (ApiClient(), 401, "not_authenticated"),
        (client_for(shop.owner), 403, "forbidden"),
        (client_for(shop.customer), 403, "forbidden"),
    ):
        response = client.post(f"/operator/reviews/{flagged.pk}/{action}", {"reason": "x"})
        assert_problem(response, status, code)
    assert_problem(client_for(shop.owner).get("/operator/reviews"), 403, "forbidden")
    assert rows() == before


def test_an_unknown_review_is_not_found(as_operator: ApiClient, db: Any) -> None:
    assert_problem(
        as_operator.post("/operator/reviews/999999/hide", {"reason": "x"}), 404, "not_found"
    )


def test_the_service_refuses_unknown_actions(flagged: Review, operator_user: User) -> None:
    from agora.core.errors import InvalidInput

    with pytest.raises(InvalidInput):
        services.review_moderate(operator=operator_user, review_id=flagged.pk, action="delete")
