"""SEO landing pages per category and category × city, and vendor pages."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import ListingFactory
from tests.web.public.helpers import (
    breadcrumb_names,
    canonical,
    jsonld_breadcrumbs,
    meta_description,
    node_of_type,
    robots,
    text,
    title,
)

pytestmark = pytest.mark.django_db


def test_category_landing_lists_the_category_and_its_descendants(
    client: Any, market: Any, django_assert_max_num_queries: Any
) -> None:
    with django_assert_max_num_queries(9):
        response = client.get("/c/automotive/")

    page = text(response)
    assert response.status_code == 200
    assert "<h1>Automotive</h1>" in page
    for name in ("MOT test", "Clutch replacement", "Brake pad set"):
        assert name in page
    assert "Full house rewire" not in page
    assert "Hidden service" not in page
    assert title(page) == "Automotive — compare and book online | Agora"
    assert meta_description(page).startswith("Automotive: 3 offers from local vendors")
    assert canonical(page) == "http://testserver/c/automotive/"
    assert robots(page) is None
    assert breadcrumb_names(page) == ["Home", "Automotive"]
    # subcategories and the cities that have offers link onwards
    assert 'href="/c/mot-servicing/"' in page
    assert 'href="/c/automotive/london/"' in page
    items = node_of_type(page, "ItemList")["itemListElement"]
    assert {item["url"] for item in items} == {
        f"http://testserver/l/{market.mot.pk}/",
        f"http://testserver/l/{market.clutch.pk}/",
        f"http://testserver/l/{market.pads.pk}/",
    }


def test_category_city_landing_has_its_own_title_trail_and_listings(
    client: Any, market: Any
) -> None:
    london = text(client.get("/c/mot-servicing/london/"))
    manchester = text(client.get("/c/mot-servicing/manchester/"))

    assert title(london) == "MOT and servicing in London — compare and book online | Agora"
    assert title(manchester) != title(london)
    assert meta_description(london) != meta_description(manchester)
    assert f"/l/{market.mot.pk}/" in london
    assert f"/l/{market.mot.pk}/" not in manchester
    assert canonical(london) == "http://testserver/c/mot-servicing/london/"
    assert breadcrumb_names(london) == [
        "Home",
        "Automotive",
        "MOT and servicing",
        "MOT and servicing in London",
    ]
    assert jsonld_breadcrumbs(london)[-1] == (
        "MOT and servicing in London",
        "http://testserver/c/mot-servicing/london/",
    )
    # an empty landing page is thin content: shown, followed, not indexed
    assert robots(manchester) == "noindex, follow"
    assert robots(london) is None


def test_landing_pages_are_404_for_unknown_slugs(client: Any, market: Any) -> None:
    assert client.get("/c/no-such-category/").status_code == 404
    assert client.get("/c/automotive/atlantis/").status_code == 404
    assert client.get("/c/no-such-category/london/").status_code == 404


def test_landing_page_pages_on(client: Any, market: Any) -> None:
    for index in range(30):
        ListingFactory(vendor=market.garage, title=f"Extra MOT {index:02d}")

    first = client.get("/c/mot-servicing/london/")
    page = text(first)
    assert page.count('class="card listing-card"') == 24
    assert 'rel="next"' in page
    later = text(client.get(first.context["next_url"]))
    assert later.count('class="card listing-card"') == 7  # 30 extra + the MOT test
    assert robots(later) == "noindex, follow"


def test_vendor_page_shows_profile_listings_rating_and_hours(
    client: Any, market: Any, django_assert_max_num_queries: Any
) -> None:
    with django_assert_max_num_queries(7):
        response = client.get("/v/camden-motors/")

    page = text(response)
    assert response.status_code == 200
    assert "<h1>Camden Motors</h1>" in page
    assert "Independent garage" in page
    assert "1 Camden Road" in page
    assert "NW1 9AA" in page
    for name in ("MOT test", "Clutch replacement", "Brake pad set"):
        assert name in page
    assert "Secret draft" not in page  # drafts are not public, even on their vendor's page
    assert "Rated 4.5 out of 5 from 4 reviews" in page
    assert '<th scope="row">Monday</th><td>09:00–17:00</td>' in page
    assert '<th scope="row">Sunday</th><td>Closed</td>' in page


def test_vendor_page_seo(client: Any, market: Any) -> None:
    page = text(client.get("/v/camden-motors/"))
    other = text(client.get("/v/northern-sparks/"))

    assert title(page) == "Camden Motors in London — prices, reviews and booking | Agora"
    assert title(other) == "Northern Sparks in Manchester — prices, reviews and booking | Agora"
    assert meta_description(page) != meta_description(other)
    assert canonical(page) == "http://testserver/v/camden-motors/"
    assert breadcrumb_names(page)[0] == "Home"
    assert breadcrumb_names(page)[-1] == "Camden Motors"
    business = node_of_type(page, "AutoRepair")
    assert business["name"] == "Camden Motors"
    assert business["url"] == "http://testserver/v/camden-motors/"
    assert business["address"] == {
        "@type": "PostalAddress",
        "streetAddress": "1 Camden Road",
        "addressLocality": "London",
        "addressCountry": "GB",
        "postalCode": "NW1 9AA",
    }
    assert business["telephone"] == "+44 20 7946 0000"
    assert business["aggregateRating"] == {
        "@type": "AggregateRating",
        "ratingValue": "4.50",
        "reviewCount": 4,
        "bestRating": 5,
        "worstRating": 1,
    }
    assert {spec["dayOfWeek"] for spec in business["openingHoursSpecification"]} == {
        f"https://schema.org/{day}"
        for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")
    }
    # a home-services vendor whose listings are all electrical is an Electrician
    electrician = node_of_type(other, "Electrician")
    assert "aggregateRating" not in electrician  # no reviews, no rating claimed
    assert jsonld_breadcrumbs(page)[-1] == ("Camden Motors", "http://testserver/v/camden-motors/")


@pytest.mark.parametrize("slug", ["gone-garage", "soon-garage", "no-such-vendor"])
def test_vendor_pages_are_404_unless_active(client: Any, market: Any, slug: str) -> None:
    response = client.get(f"/v/{slug}/")

    assert response.status_code == 404
    assert "Gone Garage" not in text(response)
    assert "Soon Garage" not in text(response)


def test_vendor_name_cannot_break_out_of_the_json_ld(client: Any, market: Any) -> None:
    market.garage.name = "Evil </script><script>alert(1)</script> & Co"
    market.garage.save()

    page = text(client.get("/v/camden-motors/"))

    assert "<script>alert(1)</script>" not in page
    assert (
        node_of_type(page, "AutoRepair")["name"] == "Evil </script><script>alert(1)</script> & Co"
    )


def test_city_landing_loads_the_soonest_free_times_with_htmx(client: Any, market: Any) -> None:
    city_page = text(client.get("/c/mot-servicing/london/"))
    category_page = text(client.get("/c/mot-servicing/"))

    assert 'hx-get="/c/mot-servicing/london/first-free/" hx-trigger="load"' in city_page
    assert "first-free" not in category_page  # a city is needed to be "near"


def test_soonest_free_times_link_straight_to_booking(
    client: Any, market: Any, django_assert_max_num_queries: Any
) -> None:
    with django_assert_max_num_queries(9):
        response = client.get("/c/automotive/london/first-free/", headers={"HX-Request": "true"})

    page = text(response)
    assert response.status_code == 200
    assert "<html" not in page
    assert "no-store" in response["Cache-Control"]
    assert "Soonest available in London" in page
    assert (
        f'<a class="slot" href="/account/book/{market.mot.pk}/'
        '?start=2026-01-05T09%3A00%3A00%2B00%3A00" data-start="2026-01-05T09:00:00+00:00">'
        "Mon 5 Jan, 09:00</a>"
    ) in page
    assert f'href="/l/{market.mot.pk}/">MOT test</a> · Camden Motors · £54.85' in page
    assert "Hidden service" not in page  # the suspended vendor's


def test_soonest_free_times_say_when_there_are_none(client: Any, market: Any) -> None:
    page = text(client.get("/c/electricians/london/first-free/", headers={"HX-Request": "true"}))

    assert "No free times in the next 14 days." in page


def test_soonest_free_times_without_htmx_is_a_page_not_indexed(client: Any, market: Any) -> None:
    page = text(client.get("/c/automotive/london/first-free/"))

    assert "<html" in page
    assert robots(page) == "noindex, follow"
    assert canonical(page) == "http://testserver/c/automotive/london/"


@pytest.mark.parametrize(
    "path", ["/c/automotive/atlantis/first-free/", "/c/no-such-category/london/first-free/"]
)
def test_soonest_free_times_are_404_for_unknown_slugs(client: Any, market: Any, path: str) -> None:
    assert client.get(path).status_code == 404
