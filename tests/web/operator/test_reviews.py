"""Review moderation on the console: the flagged queue with its fraud signals, approve,
hide and ban through the reviews service (audited), and quality-gate flags."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from agora.accounts.models import User
from agora.core import clock
from agora.core.audit import audit_trail
from agora.reviews import services
from agora.reviews.models import Review, ReviewStatus, VendorQualityFlag
from tests.reviews.helpers import NOW, Shop, completed_booking, make_shop
from tests.web.operator.conftest import messages_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(db: Any) -> Iterator[Shop]:
    with clock.frozen(NOW):
        yield make_shop()


def _write(author: User, shop: Shop, *, rating: int = 1, ip: str = "192.0.2.9") -> Review:
    booking = completed_booking(author, shop.listing)
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
    """Written by a member of the vendor's own staff: flagged by the fraud rules."""
    review = _write(shop.staff, shop)
    assert review.status == ReviewStatus.FLAGGED
    return review


def _status(review: Review) -> str:
    return Review.objects.get(pk=review.pk).status


def test_queue_shows_flagged_reviews_with_their_signals(
    shop: Shop, flagged: Review, op: Client, django_assert_max_num_queries: Any
) -> None:
    published = _write(shop.customer, shop, rating=5, ip="198.51.100.1")
    assert published.status == ReviewStatus.PUBLISHED

    # + 1: the header's notification bell (one COUNT of unread notifications)
    with django_assert_max_num_queries(6 + 1):
        response = op.get("/operator/reviews/")

    html = response.content.decode()
    assert f"Review #{flagged.pk} of" in html
    assert f"Review by {shop.staff.name}" in html
    assert "staff_link" in html
    assert f"Review #{published.pk} of" not in html
    assert f'action="/operator/reviews/{flagged.pk}/hide/"' in html


def test_approve_publishes_the_review_and_audits_it(
    flagged: Review, op: Client, operator: Any
) -> None:
    response = op.post(f"/operator/reviews/{flagged.pk}/approve/", {"reason": ""}, follow=True)

    assert _status(flagged) == ReviewStatus.PUBLISHED
    assert f"Review #{flagged.pk} approved." in messages_of(response)
    entry = list(audit_trail(flagged))[-1]
    assert (entry.action, entry.actor_id) == ("review.approved", operator.pk)
    vendor_page = op.get(f"/operator/vendors/{flagged.vendor_id}/").content.decode()
    assert '<dd data-figure="rating">1.00 from 1 review' in vendor_page


def test_hide_needs_a_reason(flagged: Review, op: Client, operator: Any) -> None:
    refused = op.post(f"/operator/reviews/{flagged.pk}/hide/", {"reason": " "}, follow=True)
    assert _status(flagged) == ReviewStatus.FLAGGED
    assert messages_of(refused) == ["reason: say why, for the audit trail"]

    op.post(f"/operator/reviews/{flagged.pk}/hide/", {"reason": "Written by staff"})

    review = Review.objects.get(pk=flagged.pk)
    assert (review.status, review.moderation_reason) == ("hidden", "Written by staff")
    entry = list(audit_trail(flagged))[-1]
    assert (entry.action, entry.actor_id, entry.data["reason"]) == (
        "review.hidden",
        operator.pk,
        "Written by staff",
    )


def test_ban_deactivates_the_author_and_hides_their_reviews(
    shop: Shop, flagged: Review, op: Client
) -> None:
    op.post(f"/operator/reviews/{flagged.pk}/ban/", {"reason": "Fake reviews"})

    assert _status(flagged) == ReviewStatus.HIDDEN
    assert User.objects.get(pk=shop.staff.pk).is_active is False


def test_unknown_action_and_missing_review_are_refused(flagged: Review, op: Client) -> None:
    assert op.post(f"/operator/reviews/{flagged.pk}/delete/").status_code == 422
    missing = op.post("/operator/reviews/999999/approve/", follow=True)
    assert messages_of(missing)
    assert _status(flagged) == ReviewStatus.FLAGGED


def test_quality_flags_are_listed_and_resolved(shop: Shop, op: Client, operator: Any) -> None:
    flag = VendorQualityFlag.objects.create(
        vendor=shop.vendor, reason="low_rating", bayesian=2.1, rating_count=12
    )

    html = op.get("/operator/reviews/").content.decode()
    assert "Bayesian rating below the minimum" in html
    assert "rating 2.10 (12)" in html

    refused = op.post(f"/operator/quality-flags/{flag.pk}/resolve/", {"reason": ""}, follow=True)
    assert "Say how the flag was resolved." in messages_of(refused)
    assert VendorQualityFlag.objects.get(pk=flag.pk).resolved_at is None

    op.post(f"/operator/quality-flags/{flag.pk}/resolve/", {"reason": "Spoke to the owner"})

    flag.refresh_from_db()
    assert (flag.resolution, flag.resolved_by_id) == ("Spoke to the owner", operator.pk)
    assert "Bayesian rating below" not in op.get("/operator/reviews/").content.decode()
    assert "Spoke to the owner" in op.get("/operator/reviews/?flags=all").content.decode()
    assert op.get("/operator/reviews/?flags=bogus").status_code == 422
