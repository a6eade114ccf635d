"""Listing pages: price, variants and stock, live slots, hand-offs to the customer portal,
schema.org Service/Product with Offer and AggregateRating."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.factories import (
    BookingFactory,
    ListingImageFactory,
    UserFactory,
    VendorMembershipFactory,
)
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


def test_service_page_shows_price_details_and_loads_slots_with_htmx(
    client: Any, market: Any, django_assert_max_num_queries: Any
) -> None:
    with django_assert_max_num_queries(7):
        response = client.get(f"/l/{market.mot.pk}/")

    page = text(response)
    assert response.status_code == 200
    assert "<h1>MOT test</h1>" in page
    assert "£54.85" in page
    assert "60 minutes" in page
    assert "<dt>Mot class</dt><dd>4</dd>" in page
    assert f'hx-get="/l/{market.mot.pk}/slots/" hx-trigger="load"' in page
    assert f'<noscript><p><a href="/l/{market.mot.pk}/slots/">' in page
    assert "/account/cart/add/" not in page


def test_service_page_seo(client: Any, market: Any) -> None:
    page = text(client.get(f"/l/{market.mot.pk}/"))

    assert title(page) == "MOT test — Camden Motors in London | Agora"
    assert meta_description(page).startswith("MOT test by Camden Motors in London. Book online")
    assert canonical(page) == f"http://testserver/l/{market.mot.pk}/"
    assert robots(page) is None
    assert breadcrumb_names(page) == [
        "Home",
        "Automotive",
        "MOT and servicing",
        "MOT and servicing in London",
        "MOT test",
    ]
    assert jsonld_breadcrumbs(page)[0] == ("Home", "http://testserver/")
    service = node_of_type(page, "Service")
    assert service["name"] == "MOT test"
    assert service["provider"]["@type"] == "AutoRepair"
    assert service["provider"]["name"] == "Camden Motors"
    assert service["offers"]["@type"] == "Offer"
    assert service["offers"]["price"] == "54.85"
    assert service["offers"]["priceCurrency"] == "GBP"
    assert service["aggregateRating"]["ratingValue"] == "4.50"
    assert service["aggregateRating"]["reviewCount"] == 4


def test_product_page_shows_variants_stock_and_a_cart_form(client: Any, market: Any) -> None:
    response = client.get(f"/l/{market.pads.pk}/")

    page = text(response)
    assert "In stock: only 3 left" in page
    form = re.search(r'<form method="post" action="/account/cart/add/".*?</form>', page, re.S)
    assert form is not None
    html = form.group(0)
    assert 'name="csrfmiddlewaretoken"' in html
    assert f'<input type="hidden" name="listing_id" value="{market.pads.pk}">' in html
    assert 'name="variant_id"' in html
    assert 'name="quantity"' in html
    front, rear = market.pads.variants.order_by("id")
    assert f'<option value="{front.pk}">Front axle — £34.99 (3 left)</option>' in html
    assert f'<option value="{rear.pk}" disabled>Rear axle — £29.99 (out of stock)</option>' in html
    assert 'max="3"' in html
    # a page with a CSRF token is never kept by shared caches
    assert "public" not in response["Cache-Control"]

    product = node_of_type(page, "Product")
    assert product["sku"] == "BP-1"
    assert product["offers"]["@type"] == "AggregateOffer"
    assert (product["offers"]["lowPrice"], product["offers"]["highPrice"]) == ("29.99", "34.99")
    assert product["offers"]["availability"] == "https://schema.org/InStock"
    assert "aggregateRating" not in product
    # sold by the garage, typed by what this listing is: a parts sale
    assert product["offers"]["seller"]["@type"] == "AutoPartsStore"
    assert product["offers"]["seller"]["url"] == "http://testserver/v/camden-motors/"


def test_product_out_of_stock_has_no_cart_form(client: Any, market: Any) -> None:
    market.pads.variants.update(stock=0)

    page = text(client.get(f"/l/{market.pads.pk}/"))

    assert "Out of stock" in page
    assert "/account/cart/add/" not in page
    assert (
        node_of_type(page, "Product")["offers"]["availability"] == "https://schema.org/OutOfStock"
    )


def test_quote_page_links_to_the_quote_request(client: Any, market: Any) -> None:
    page = text(client.get(f"/l/{market.clutch.pk}/"))

    assert f'href="/account/quote/{market.clutch.pk}/"' in page
    assert "from £399.00" in page
    service = node_of_type(page, "Service")
    assert service["offers"]["priceSpecification"]["minPrice"] == "399.00"


def test_listing_images_are_in_the_page_and_the_json_ld(client: Any, market: Any) -> None:
    ListingImageFactory(listing=market.mot, alt="The MOT bay", image="listings/test/bay.png")

    page = text(client.get(f"/l/{market.mot.pk}/"))

    assert 'alt="The MOT bay"' in page
    assert node_of_type(page, "Service")["image"] == [
        "http://testserver/media/listings/test/bay.png"
    ]


@pytest.mark.parametrize("which", ["draft", "hidden"])
def test_listings_that_are_not_public_are_404_to_visitors(
    client: Any, market: Any, which: str
) -> None:
    listing = getattr(market, which)

    assert client.get(f"/l/{listing.pk}/").status_code == 404
    assert client.get(f"/l/{listing.pk}/slots/").status_code == 404
    assert client.get("/l/999999/").status_code == 404


def test_vendor_staff_preview_their_draft_which_is_not_indexed(client: Any, market: Any) -> None:
    staff = UserFactory()
    VendorMembershipFactory(vendor=market.garage, user=staff)
    client.force_login(staff)

    page = text(client.get(f"/l/{market.draft.pk}/"))

    assert "Preview: this listing is not public" in page
    assert robots(page) == "noindex, follow"


# --- slots ------------------------------------------------------------------------------


def _slot_links(page: str) -> list[str]:
    return [
        href.replace("&amp;", "&")
        for href in re.findall(r'<a class="slot" id="slot-\d+" href="([^"]+)"', page)
    ]


def test_slots_fragment_lists_the_weeks_free_times_linking_to_booking(
    client: Any, market: Any, django_assert_max_num_queries: Any
) -> None:
    BookingFactory(
        listing=market.mot,
        status="accepted",
        start=datetime(2026, 1, 6, 10, 0, tzinfo=UTC),
        customer=UserFactory(),
    )

    with django_assert_max_num_queries(9):
        response = client.get(f"/l/{market.mot.pk}/slots/", headers={"HX-Request": "true"})

    page = text(response)
    assert response.status_code == 200
    assert "<html" not in page  # a fragment for htmx to swap in
    assert "no-store" in response["Cache-Control"]
    # it refreshes itself when the listing's live stream says the free times changed (and,
    # as a safety net, every minute)
    assert (
        f'data-live-stream="/api/v1/listings/{market.mot.pk}/events" '
        'data-live-events="slots.changed"'
    ) in page
    assert 'hx-trigger="every 60s"' in page
    assert "Monday 5 January" in page
    assert "Friday 9 January" in page
    assert "Saturday 10 January" not in page  # closed at weekends
    starts = [parse_qs(urlsplit(link).query)["start"][0] for link in _slot_links(page)]
    paths = {urlsplit(link).path for link in _slot_links(page)}
    assert paths == {f"/account/book/{market.mot.pk}/"}
    assert starts[0] == "2026-01-05T09:00:00+00:00"
    assert len(starts) == 5 * 15 - 3  # 09:00..16:00 every 30 min, minus three that overlap
    taken = {"2026-01-06T09:30:00+00:00", "2026-01-06T10:00:00+00:00", "2026-01-06T10:30:00+00:00"}
    assert taken.isdisjoint(starts)
    assert "2026-01-06T11:00:00+00:00" in starts
    assert all(datetime.fromisoformat(start).tzinfo is not None for start in starts)
    assert "Times in Europe/London" in page


def test_slot_links_keep_the_offset_intact_in_the_query_string(client: Any, market: Any) -> None:
    page = text(client.get(f"/l/{market.mot.pk}/slots/", headers={"HX-Request": "true"}))

    assert f'href="/account/book/{market.mot.pk}/?start=2026-01-05T09%3A00%3A00%2B00%3A00"' in page


def test_slots_page_moves_by_week_and_never_into_the_past(client: Any, market: Any) -> None:
    later = text(
        client.get(f"/l/{market.mot.pk}/slots/?from=2026-01-12", headers={"HX-Request": "true"})
    )
    assert "Monday 12 January" in later
    assert "Monday 5 January" not in later
    assert f'hx-get="/l/{market.mot.pk}/slots/?from=2026-01-05"' in later  # ← earlier
    assert f'hx-get="/l/{market.mot.pk}/slots/?from=2026-01-19"' in later  # later →

    far = client.get(f"/l/{market.mot.pk}/slots/?from=9999-12-31", headers={"HX-Request": "true"})
    assert far.status_code == 200
    assert "No free times in these days." in text(far)  # beyond the listing's horizon

    past = text(
        client.get(f"/l/{market.mot.pk}/slots/?from=2025-12-01", headers={"HX-Request": "true"})
    )
    assert "Monday 5 January" in past
    assert "Earlier" not in past


def test_slots_without_htmx_is_a_page_of_its_own(client: Any, market: Any) -> None:
    response = client.get(f"/l/{market.mot.pk}/slots/")

    page = text(response)
    assert "<html" in page
    assert title(page) == "Available times: MOT test — Agora"
    assert robots(page) == "noindex, follow"
    assert canonical(page) == f"http://testserver/l/{market.mot.pk}/"
    assert len(_slot_links(page)) > 0


def test_slots_explain_a_bad_date_and_a_vendor_without_hours(client: Any, market: Any) -> None:
    response = client.get(
        f"/l/{market.mot.pk}/slots/?from=tomorrow", headers={"HX-Request": "true"}
    )
    assert response.status_code == 400
    assert "That is not a date; use the form YYYY-MM-DD." in text(response)

    market.garage.schedule.delete()
    page = text(client.get(f"/l/{market.mot.pk}/slots/", headers={"HX-Request": "true"}))
    assert "This vendor has not published opening hours yet." in page
    assert _slot_links(page) == []


def test_only_services_have_slots(client: Any, market: Any) -> None:
    assert client.get(f"/l/{market.pads.pk}/slots/").status_code == 404
    assert client.get(f"/l/{market.clutch.pk}/slots/").status_code == 404
