"""Published reviews and rating summaries as the public pages show them, and as
schema.org reads them (AggregateRating and Review nodes)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest

from agora.core.pagination import Page
from agora.reviews.models import Review
from agora.reviews.selectors import RatingSummary
from agora.web.public.cards import Rating

REVIEWS_PER_PAGE = 10
# Reviews repeated in JSON-LD: enough for a rich result, not the whole page again.
JSONLD_REVIEWS = 5


@dataclass(frozen=True)
class ReviewItem:
    rating: int
    stars: str
    author_name: str
    created_at: datetime
    text: str
    reply_text: str
    replied_at: datetime | None


def public_name(full_name: str) -> str:
    """`Ann Example` → `Ann E.`: enough to tell reviewers apart, not enough to find them."""
    parts = full_name.split()
    if not parts:
        return "A customer"
    if len(parts) == 1:
        return parts[0]
    return f"{parts[0]} {parts[-1][0]}."


def review_items(page: Page[Review]) -> list[ReviewItem]:
    return [
        ReviewItem(
            rating=review.rating,
            stars="★" * review.rating + "☆" * (5 - review.rating),
            author_name=public_name(review.author.name),
            created_at=review.created_at,
            text=review.text,
            reply_text=review.reply_text,
            replied_at=review.replied_at,
        )
        for review in page.items
    ]


def next_url(request: HttpRequest, cursor: str | None) -> str | None:
    return f"{request.path}?{urlencode({'reviews': cursor})}#reviews-heading" if cursor else None


def rating_of(summary: RatingSummary) -> Rating:
    return Rating(count=summary.count, average=summary.average)


def distribution(summary: RatingSummary) -> list[dict[str, Any]]:
    """Five rows, 5★ first, with each share in whole percent (for the bars)."""
    return [
        {
            "stars": stars,
            "count": summary.distribution.get(stars, 0),
            "percent": round(100 * summary.distribution.get(stars, 0) / summary.count)
            if summary.count
            else 0,
        }
        for stars in range(5, 0, -1)
    ]


def aggregate_node(summary: RatingSummary) -> dict[str, Any] | None:
    if not summary.count or summary.average is None:
        return None
    return {
        "@type": "AggregateRating",
        "ratingValue": f"{summary.average:.2f}",
        "reviewCount": summary.count,
        "bestRating": 5,
        "worstRating": 1,
    }


def review_nodes(items: list[ReviewItem]) -> list[dict[str, Any]]:
    return [
        {
            "@type": "Review",
            "reviewRating": {
                "@type": "Rating",
                "ratingValue": item.rating,
                "bestRating": 5,
                "worstRating": 1,
            },
            "author": {"@type": "Person", "name": item.author_name},
            "datePublished": item.created_at.date().isoformat(),
            "reviewBody": item.text,
        }
        for item in items[:JSONLD_REVIEWS]
    ]


def with_reviews(
    node: dict[str, Any], summary: RatingSummary, items: list[ReviewItem]
) -> dict[str, Any]:
    """`node` with its AggregateRating and first reviews, or without any rating claim when
    nobody has reviewed it yet."""
    node.pop("aggregateRating", None)
    if (aggregate := aggregate_node(summary)) is not None:
        node["aggregateRating"] = aggregate
    if items:
        node["review"] = review_nodes(items)
    return node
