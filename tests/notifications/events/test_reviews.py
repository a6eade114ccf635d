"""Reviews announced: the vendor hears of a review once it is shown (written, or approved
from the queue), the reviewer of the vendor's reply. A flagged review stays quiet."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from agora.core import clock
from agora.reviews.models import Review
from tests.notifications.events.conftest import (
    BASE,
    delivered,
    flush,
    links,
    names,
    new_names,
    routing,
    subjects,
    the_event,
)
from tests.reviews.helpers import NOW, Shop, completed_booking, make_shop, review_via_api

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(db: Any) -> Iterator[Shop]:
    with clock.frozen(NOW):
        yield make_shop()


def staff_emails(shop: Shop) -> set[str]:
    return {shop.owner.email, shop.manager.email, shop.staff.email}


def test_a_published_review_tells_the_vendors_staff(shop: Shop) -> None:
    booking = shop.booking()

    response = review_via_api(shop.as_customer, booking=booking, rating=4, text="Quick & kind.")

    assert response.status_code == 201, response.content
    review = Review.objects.get()
    assert review.status == "published"
    event = the_event("review.published")
    assert routing(event) == ("review.published", shop.customer.pk, shop.vendor.pk, False)
    page = f"/v/{shop.vendor.slug}/"
    assert event.data == {
        "id": review.pk,
        "status": "published",
        "rating": 4,
        "text": "Quick & kind.",
        "reviewer_name": "Chloe",
        "vendor_name": "Camden Motors",
        "kind": "booking",
        "url": page,
        "vendor_url": page,
    }
    mails = delivered()
    assert set(mails) == staff_emails(shop)  # not the reviewer, not the rival vendor
    assert {m.subject for m in mails.values()} == {"New 4-star review for Camden Motors"}
    body = mails[shop.staff.email].body
    assert body.startswith("Chloe gave Camden Motors 4 out of 5 stars.")
    assert "“Quick & kind.”" in body
    assert f"{BASE}{page}" in links(mails[shop.owner.email])


def test_a_flagged_review_is_announced_when_an_operator_approves_it(
    shop: Shop, as_operator: Any
) -> None:
    # a member of the vendor's own staff reviewing it is held for moderation
    own = completed_booking(shop.staff, shop.listing)
    assert review_via_api(shop.as_staff, booking=own, rating=3).status_code == 201
    review = Review.objects.get()
    assert review.status == "flagged"
    before = flush()

    response = as_operator.post(f"/operator/reviews/{review.pk}/approve")

    assert response.status_code == 200, response.content
    assert new_names(before) == ["review.published"]
    event = the_event("review.published")
    assert routing(event) == ("review.published", shop.staff.pk, shop.vendor.pk, False)
    assert (event.data["status"], event.data["rating"]) == ("published", 3)
    mails = delivered()
    # its author is on the staff too, and hears of it like the others
    assert set(mails) == staff_emails(shop)
    assert {m.subject for m in mails.values()} == {"New 3-star review for Camden Motors"}


def test_a_review_held_for_moderation_or_refused_announces_nothing(shop: Shop) -> None:
    # a member of the vendor's own staff reviewing it is held for moderation
    own = completed_booking(shop.staff, shop.listing)
    held = review_via_api(shop.as_staff, booking=own)
    # someone else's booking cannot be reviewed at all
    refused = review_via_api(shop.as_other_customer, booking=shop.booking())

    assert held.status_code == 201, held.content
    assert Review.objects.get().status == "flagged"
    assert refused.status_code == 404
    assert names() == []
    assert delivered() == {}


def test_the_vendors_reply_tells_the_reviewer(shop: Shop) -> None:
    assert review_via_api(shop.as_customer, booking=shop.booking()).status_code == 201
    review = Review.objects.get()
    before = flush()

    response = shop.as_manager.post(
        f"/reviews/{review.pk}/reply", {"text": "Thank you, see you next year!"}
    )

    assert response.status_code == 200, response.content
    assert new_names(before) == ["review.replied"]
    event = the_event("review.replied")
    assert routing(event) == ("review.replied", shop.customer.pk, shop.vendor.pk, False)
    assert event.data == {
        "id": review.pk,
        "status": "published",
        "rating": 5,
        "reply": "Thank you, see you next year!",
        "vendor_name": "Camden Motors",
        "url": "/account/reviews/",
        "review_url": f"/v/{shop.vendor.slug}/",
    }
    mails = delivered()
    assert subjects(mails) == {shop.customer.email: "Camden Motors replied to your review"}
    assert mails[shop.customer.email].body.startswith(
        "Camden Motors replied to your review: “Thank you, see you next year!”"
    )
    assert f"{BASE}/account/reviews/" in links(mails[shop.customer.email])


def test_a_refused_reply_announces_nothing(shop: Shop) -> None:
    assert review_via_api(shop.as_customer, booking=shop.booking()).status_code == 201
    review = Review.objects.get()
    before = flush()

    staff_reply = shop.as_staff.post(f"/reviews/{review.pk}/reply", {"text": "Hi"})
    rival_reply = shop.as_rival.post(f"/reviews/{review.pk}/reply", {"text": "Hi"})
    assert shop.as_owner.post(f"/reviews/{review.pk}/reply", {"text": "Thanks"}).status_code == 200
    second = shop.as_owner.post(f"/reviews/{review.pk}/reply", {"text": "Again"})

    assert (staff_reply.status_code, rival_reply.status_code, second.status_code) == (
        403,
        404,
        409,
    )
    assert new_names(before) == ["review.replied"]
