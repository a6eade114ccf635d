"""Home page and search: content, SEO tags, facets, sorting, pagination, bad input."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.factories import ListingFactory, VendorFactory
from tests.web.public.helpers import (
    canonical,
    jsonld,
    links,
    meta_description,
    node_of_type,
    robots,
    text,
    title,
)

pytestmark = pytest.mark.django_db


def test_home_shows_search_categories_and_featured_listings_and_vendors(
    client: Any, market: Any, django_assert_max_num_queries: Any
) -> None:
    # the five of the page before, and the popular listings: the page and three to hydrate it
    with django_assert_max_num_queries(9):
        response = client.get("/")

    page = text(response)
    assert response.status_code == 200
    assert 'role="search"' in page
    assert 'action="/search"' in page
    assert '<label for="q"' in page
    assert 'href="/c/automotive/"' in page
    assert 'href="/c/home-services/"' in page
    assert 'href="/c/mot-servicing/"' not in page  # only the top of the tree
    assert "MOT test" in page
    assert "£54.85" in page
    assert "from £399.00" in page  # a quote's price is where quotes start
    assert 'href="/v/camden-motors/"' in page
    # the garage's rating and the MOT's (its reviews are all of the MOT), the MOT twice:
    # new, and the best rated under "Popular on Agora"
    assert page.count('aria-label="Rated 4.5 out of 5 from 4 reviews"') == 3
    assert "Popular on Agora" in page
    for hidden in ("Hidden service", "Secret draft", "Gone Garage", "Pending service"):
        assert hidden not in page


def test_home_describes_the_site_to_search_engines(client: Any, market: Any) -> None:
    page = text(client.get("/"))

    assert title(page) == "Agora — book local services and buy from independent shops"
    assert canonical(page) == "http://testserver/"
    assert robots(page) is None
    website = node_of_type(page, "WebSite")
    assert website["potentialAction"]["@type"] == "SearchAction"
    assert website["potentialAction"]["target"]["urlTemplate"] == "http://testserver/search?q={q}"


def test_signed_out_pages_may_be_cached_briefly_and_signed_in_ones_are_private(
    client: Any, market: Any, user: Any
) -> None:
    anonymous = client.get("/")
    assert "public" in anonymous["Cache-Control"]
    assert "max-age=60" in anonymous["Cache-Control"]
    assert "Cookie" in anonymous["Vary"]

    client.force_login(user)
    signed_in = client.get("/")
    assert "private" in signed_in["Cache-Control"]
    assert "public" not in signed_in["Cache-Control"]
    assert "Sign out" in text(signed_in)


def test_search_finds_by_words_and_shows_facets(
    client: Any, market: Any, django_assert_max_num_queries: Any
) -> None:
    # categories, cities, vocabulary, how broad the words are, the page, 3 to hydrate it,
    # the facet sample, matching vendors
    with django_assert_max_num_queries(10):
        response = client.get("/search", {"q": "clutch"})

    page = text(response)
    assert response.status_code == 200
    assert "Clutch replacement" in page
    assert "MOT test" not in page
    assert title(page) == "Results for “clutch” — Agora search"
    assert robots(page) == "noindex, follow"  # landing pages are the indexable versions
    assert canonical(page) == "http://testserver/search?q=clutch"
    # facets count what matched and link to the narrowed search
    assert 'href="/search?q=clutch&amp;kind=quote"' in page
    assert 'href="/search?q=clutch&amp;category=car-repairs"' in page
    assert 'Car repairs</a> <span class="muted">(1)</span>' in page


def test_search_finds_matching_vendors_too(client: Any, market: Any) -> None:
    page = text(client.get("/search", {"q": "sparks"}))

    assert 'href="/v/northern-sparks/"' in page


def test_search_filters_by_category_city_kind_and_price(client: Any, market: Any) -> None:
    by_category = text(client.get("/search", {"category": "automotive"}))
    assert "MOT test" in by_category
    assert "Clutch replacement" in by_category
    assert "Full house rewire" not in by_category

    by_city = text(client.get("/search", {"city": "manchester"}))
    assert "Full house rewire" in by_city
    assert "MOT test" not in by_city

    by_kind = text(client.get("/search", {"kind": "product"}))
    assert "Brake pad set" in by_kind
    assert "MOT test" not in by_kind

    by_price = text(client.get("/search", {"min_price": "50", "max_price": "60"}))
    assert "MOT test" in by_price
    assert "Brake pad set" not in by_price
    assert "Clutch replacement" not in by_price

    by_rating = text(client.get("/search", {"min_rating": "4"}))
    assert "MOT test" in by_rating
    assert "Clutch replacement" not in by_rating


def test_search_sorts_by_price(client: Any, market: Any) -> None:
    page = text(client.get("/search", {"category": "automotive", "sort": "price_asc"}))

    order = [page.index(name) for name in ("Brake pad set", "MOT test", "Clutch replacement")]
    assert order == sorted(order)
    page = text(client.get("/search", {"category": "automotive", "sort": "price_desc"}))
    order = [page.index(name) for name in ("Clutch replacement", "MOT test", "Brake pad set")]
    assert order == sorted(order)


def test_search_pages_with_a_cursor_and_never_repeats(client: Any, market: Any) -> None:
    for index in range(25):
        ListingFactory(vendor=market.garage, title=f"Extra service {index:02d}")

    first = text(client.get("/search", {"q": "Extra service"}))
    next_links = [link for link in links(first) if "cursor=" in link]
    assert len(next_links) == 1
    second = text(client.get(next_links[0]))

    seen_first = {f"Extra service {i:02d}" for i in range(25) if f"Extra service {i:02d}<" in first}
    seen_second = {
        f"Extra service {i:02d}" for i in range(25) if f"Extra service {i:02d}<" in second
    }
    assert len(seen_first) == 20
    assert len(seen_second) == 5
    assert seen_first.isdisjoint(seen_second)
    assert parse_qs(urlsplit(next_links[0]).query)["q"] == ["Extra service"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"min_price": "cheap"}, "Enter a number."),
        ({"category": "nope"}, "There is no such category."),
        ({"city": "atlantis"}, "We do not list that city yet."),
        ({"sort": "random"}, "Select a valid choice."),
        (
            {"min_price": "90", "max_price": "10"},
            "The maximum price must not be below the minimum.",
        ),
        ({"cursor": "forged"}, "The cursor is not valid."),
    ],
)
def test_search_explains_bad_input(
    client: Any, market: Any, params: dict[str, str], message: str
) -> None:
    response = client.get("/search", params)

    assert response.status_code == 400
    page = text(response)
    assert message in page
    assert 'class="card listing-card"' not in page


def test_search_without_a_query_lists_everything_public(client: Any, market: Any) -> None:
    page = text(client.get("/search"))

    assert title(page) == "All listings — Agora search"
    assert meta_description(page).startswith("All listings on Agora")
    for name in ("MOT test", "Clutch replacement", "Brake pad set", "Full house rewire"):
        assert name in page
    for hidden in ("Hidden service", "Secret draft", "Pending service"):
        assert hidden not in page
    assert jsonld(page)[0]["@type"] == "BreadcrumbList"


def test_public_pages_refuse_writes(client: Any, market: Any) -> None:
    for path in ("/", "/search", "/c/automotive/", "/v/camden-motors/", f"/l/{market.mot.pk}/"):
        assert client.post(path).status_code == 405


def test_home_features_the_best_rated_vendors_first(client: Any, market: Any) -> None:
    VendorFactory(name="Aardvark Garage", slug="aardvark-garage")

    page = text(client.get("/"))

    featured = page[page.index('id="vendors-heading"') :]
    names = re.findall(
        r'<li class="card vendor-card">\s*<h3 class="card-title"><a href="[^"]+">([^<]+)</a>',
        featured,
    )
    # four good reviews first; the unreviewed follow by name
    assert names == ["Camden Motors", "Aardvark Garage", "Northern Sparks"]
