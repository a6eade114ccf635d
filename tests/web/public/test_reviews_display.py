"""Ratings and published reviews on vendor and listing pages, and in their JSON-LD."""

from __future__ import annotations

import re
from typing import Any

import pytest

from agora.web.public import reviews
from tests.web.public.helpers import node_of_type, robots, text

pytestmark = pytest.mark.django_db


def _review_authors(page: str) -> list[str]:
    return re.findall(r'<li class="review card">.*?<strong>(.*?)</strong>', page, re.S)


def test_vendor_page_shows_published_reviews_newest_first_with_replies(
    client: Any, market: Any
) -> None:
    page = text(client.get("/v/camden-motors/"))

    assert _review_authors(page) == ["Dev P.", "Cara S.", "Bob B.", "Ann E."]
    assert "Good work but the waiting room was cold." in page
    assert "Reply from the vendor" in page
    assert "Sorry! The heater is fixed now." in page
    assert "Terrible" not in page  # hidden by the operator
    assert "Eve T." not in page
    assert "Dev Patel" not in page  # reviewers are shown by first name and initial
    assert 'aria-label="Rated 4.5 out of 5 from 4 reviews"' in page
    # the distribution: two fives, two fours
    rows = re.findall(
        r'<th scope="row">(\d) stars?</th><td><span class="bar" style="width: (\d+)%"', page
    )
    assert rows == [("5", "50"), ("4", "50"), ("3", "0"), ("2", "0"), ("1", "0")]


def test_vendor_json_ld_carries_the_rating_and_the_reviews(client: Any, market: Any) -> None:
    business = node_of_type(text(client.get("/v/camden-motors/")), "AutoRepair")

    assert business["aggregateRating"] == {
        "@type": "AggregateRating",
        "ratingValue": "4.50",
        "reviewCount": 4,
        "bestRating": 5,
        "worstRating": 1,
    }
    assert [review["author"]["name"] for review in business["review"]] == [
        "Dev P.",
        "Cara S.",
        "Bob B.",
        "Ann E.",
    ]
    first = business["review"][0]
    assert first["@type"] == "Review"
    assert first["reviewRating"] == {
        "@type": "Rating",
        "ratingValue": 4,
        "bestRating": 5,
        "worstRating": 1,
    }
    assert first["datePublished"] == "2025-12-31"
    assert first["reviewBody"] == "Good work but the waiting room was cold."


def test_listing_page_shows_its_reviews_and_rating(client: Any, market: Any) -> None:
    page = text(client.get(f"/l/{market.mot.pk}/"))

    assert _review_authors(page) == ["Dev P.", "Cara S.", "Bob B.", "Ann E."]
    service = node_of_type(page, "Service")
    assert service["aggregateRating"]["ratingValue"] == "4.50"
    assert len(service["review"]) == 4


def test_unreviewed_pages_claim_no_rating(client: Any, market: Any) -> None:
    page = text(client.get(f"/l/{market.clutch.pk}/"))

    assert "No reviews yet." in page
    service = node_of_type(page, "Service")
    assert "aggregateRating" not in service
    assert "review" not in service


def test_reviews_page_on_with_a_cursor(
    client: Any, market: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reviews, "REVIEWS_PER_PAGE", 3)

    first = client.get("/v/camden-motors/")
    older = client.get(first.context["reviews_next_url"])

    assert _review_authors(text(first)) == ["Dev P.", "Cara S.", "Bob B."]
    assert _review_authors(text(older)) == ["Ann E."]
    assert robots(text(older)) == "noindex, follow"
