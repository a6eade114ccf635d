"""The moderation queue's status filter: flagged reviews by default, published or hidden
ones on request — in reviews.selectors.moderation_queue and on /operator/reviews/."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from agora.accounts.models import User
from agora.core import clock
from agora.core.errors import InvalidInput
from agora.reviews import selectors, services
from agora.reviews.models import Review, ReviewStatus
from tests.factories import UserFactory
from tests.reviews.helpers import NOW, Shop, completed_booking, make_shop
from tests.web.operator.conftest import messages_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(db: Any) -> Iterator[Shop]:
    with clock.frozen(NOW):
        yield make_shop()


def _write(author: User, shop: Shop, *, rating: int, ip: str) -> Review:
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
def reviews(shop: Shop, operator: Any) -> dict[str, Review]:
    """One review in each status: a flagged one (by the vendor's staff), a published one and
    one an operator hid."""
    flagged = _write(shop.staff, shop, rating=1, ip="192.0.2.9")
    published = _write(shop.customer, shop, rating=5, ip="198.51.100.1")
    hidden = _write(UserFactory(name="Hana Hidden"), shop, rating=2, ip="203.0.113.7")
    services.review_moderate(
        operator=operator, review_id=hidden.pk, action="hide", reason="Abusive language"
    )
    hidden.refresh_from_db()
    assert (flagged.status, published.status) == (ReviewStatus.FLAGGED, ReviewStatus.PUBLISHED)
    return {"flagged": flagged, "published": published, "hidden": hidden}


def _more_published(shop: Shop, count: int) -> list[int]:
    """`count` more published reviews. Written together they trip the fraud rules (a burst,
    near-duplicate texts), so they are published directly: only the listing is under test."""
    ids = [_write(UserFactory(), shop, rating=4, ip=f"100.{64 + n}.0.1").pk for n in range(count)]
    Review.objects.filter(pk__in=ids).update(status=ReviewStatus.PUBLISHED)
    return ids


def _ids(page: Any) -> list[int]:
    return [review.pk for review in page.items]


# --- the selector ------------------------------------------------------------------------------


def test_the_selector_returns_flagged_reviews_by_default(reviews: dict[str, Review]) -> None:
    assert _ids(selectors.moderation_queue()) == [reviews["flagged"].pk]


@pytest.mark.parametrize("status", ["flagged", "published", "hidden"])
def test_the_selector_returns_the_reviews_in_the_status_asked(
    reviews: dict[str, Review], status: str
) -> None:
    assert _ids(selectors.moderation_queue(status=status)) == [reviews[status].pk]


def test_the_selector_pages_each_status(shop: Shop, reviews: dict[str, Review]) -> None:
    more = _more_published(shop, 3)

    first = selectors.moderation_queue(status="published", limit=2)
    rest = selectors.moderation_queue(status="published", limit=2, cursor=first.next_cursor)

    assert _ids(first) + _ids(rest) == [reviews["published"].pk, *more]
    assert rest.next_cursor is None


def test_the_selector_refuses_an_unknown_status(reviews: dict[str, Review]) -> None:
    with pytest.raises(InvalidInput) as refused:
        selectors.moderation_queue(status="deleted")
    assert refused.value.extra["errors"] == [
        {"loc": ["query", "status"], "msg": "unknown status", "type": "enum"}
    ]


# --- the page -----------------------------------------------------------------------------------


def test_the_page_shows_flagged_reviews_by_default_with_the_filter(
    op: Client, reviews: dict[str, Review]
) -> None:
    html = op.get("/operator/reviews/").content.decode()

    assert '<label for="status-filter">Status</label>' in html
    assert '<option value="flagged" selected>Flagged (awaiting an operator)</option>' in html
    assert '<option value="hidden" >Hidden by an operator</option>' in html
    assert '<h2 id="queue-heading">Flagged reviews</h2>' in html
    assert f"Review #{reviews['flagged'].pk} of" in html
    assert f"Review #{reviews['published'].pk} of" not in html
    assert f"Review #{reviews['hidden'].pk} of" not in html


def test_the_page_shows_hidden_reviews_with_why_and_a_way_back(
    op: Client, reviews: dict[str, Review], django_assert_max_num_queries: Any
) -> None:
    hidden = reviews["hidden"]

    # + 1: the header's notification bell (one COUNT of unread notifications)
    with django_assert_max_num_queries(6 + 1):
        response = op.get("/operator/reviews/?status=hidden")

    html = response.content.decode()
    assert '<option value="hidden" selected>Hidden by an operator</option>' in html
    assert '<h2 id="queue-heading">Hidden reviews</h2>' in html
    assert f"Review #{hidden.pk} of" in html
    assert "Review by Hana Hidden" in html
    assert "by Olive Operator: Abusive language" in html
    assert f"Review #{reviews['flagged'].pk} of" not in html
    # a hidden review can be published again, not hidden twice
    assert f'action="/operator/reviews/{hidden.pk}/approve/"' in html
    assert f'action="/operator/reviews/{hidden.pk}/hide/"' not in html


def test_the_page_shows_published_reviews_which_can_be_hidden(
    op: Client, reviews: dict[str, Review]
) -> None:
    published = reviews["published"]

    html = op.get("/operator/reviews/?status=published").content.decode()

    assert f"Review #{published.pk} of" in html
    assert f"Review #{reviews['flagged'].pk} of" not in html
    assert f'action="/operator/reviews/{published.pk}/hide/"' in html
    assert f'action="/operator/reviews/{published.pk}/approve/"' not in html


def test_an_empty_status_says_so(op: Client, shop: Shop) -> None:
    html = op.get("/operator/reviews/?status=hidden").content.decode()

    assert "No hidden reviews." in html


def test_a_bad_status_is_refused(op: Client, reviews: dict[str, Review]) -> None:
    response = op.get("/operator/reviews/?status=deleted")

    assert response.status_code == 422
    assert "status must be one of published, flagged, hidden." in response.content.decode()


def test_moderating_from_a_filtered_queue_returns_to_it(
    op: Client, reviews: dict[str, Review]
) -> None:
    hidden = reviews["hidden"]

    response = op.post(f"/operator/reviews/{hidden.pk}/approve/", {"status": "hidden"}, follow=True)

    assert response.redirect_chain[-1][0] == "/operator/reviews/?status=hidden"
    assert f"Review #{hidden.pk} approved." in messages_of(response)
    assert Review.objects.get(pk=hidden.pk).status == ReviewStatus.PUBLISHED
    assert "No hidden reviews." in response.content.decode()


def test_the_filter_is_kept_when_paging(op: Client, shop: Shop, reviews: dict[str, Review]) -> None:
    _more_published(shop, 21)

    response = op.get("/operator/reviews/?status=published")

    assert len(response.context["reviews"]) == 20
    assert "status=published" in response.context["next_url"]
    last = op.get(response.context["next_url"]).content.decode()
    assert '<option value="published" selected>Published</option>' in last


def test_customers_get_403_and_signed_out_visitors_sign_in(customer_client: Client) -> None:
    assert customer_client.get("/operator/reviews/?status=hidden").status_code == 403
    response = Client().get("/operator/reviews/?status=hidden")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")
