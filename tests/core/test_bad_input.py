"""Bad input found by probing the API and the pages: each gets a clear 4xx, never a 500,
and changes nothing (ARCHITECTURE.md invariant 7).

Grouped by where the input goes wrong: the request as a whole (nesting, size, NUL in the
address), money, time, ids, places, names and links.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from django.db.models import Model
from django.test import Client

from agora.accounts.models import User
from agora.catalog.models import Listing
from agora.core import clock
from agora.core.models import IdempotencyKey
from agora.orders.models import Checkout, ShippingRule
from agora.vendors.models import Vendor
from tests.bookings.helpers import make_shop
from tests.conftest import ApiClient, assert_problem, token_for
from tests.factories import ProductFactory, UserFactory, VendorFactory
from tests.payments.market import Market, make_market, money, money_rows
from tests.vendors.helpers import snapshot

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
REGISTRATION = {"email": "ann@example.test", "password": "correct-horse-battery", "name": "Ann"}
ADDRESS = {"name": "Ann", "line1": "1 High St", "city": "London", "postcode": "N1", "country": "GB"}


def api(token: str | None = None) -> ApiClient:
    """An API client whose server errors come back as responses, not raised exceptions."""
    client = ApiClient(token)
    client.client = Client(raise_request_exception=False)
    return client


def rows(*models: type[Model]) -> dict[str, list[dict[str, Any]]]:
    return snapshot(*models)


def locs(problem: dict[str, Any]) -> list[list[Any]]:
    return [error["loc"] for error in problem["errors"]]


@pytest.fixture
def now() -> Any:
    with clock.frozen(NOW):
        yield NOW


# --- the request as a whole -----------------------------------------------------------------


@pytest.mark.parametrize("key", [None, "deep-1"])
@pytest.mark.parametrize("opening", ["[", '{"a":'])
def test_json_nested_a_thousand_deep_is_400(key: str | None, opening: str) -> None:
    closing = "]" if opening == "[" else "}"
    body = opening * 1000 + ("" if opening == "[" else "1") + closing * 1000

    response = api().post("/auth/register", body, raw=True, idempotency_key=key)

    problem = assert_problem(response, 400, "validation_error")
    assert problem["errors"][0]["type"] == "json_invalid"
    assert User.objects.count() == 0
    assert IdempotencyKey.objects.count() == 0


@pytest.mark.parametrize("key", [None, "big-1"])
def test_a_body_over_the_upload_limit_is_413(settings: Any, key: str | None) -> None:
    body = json.dumps({**REGISTRATION, "name": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)})

    response = api().post("/auth/register", body, raw=True, idempotency_key=key)

    problem = assert_problem(response, 413, "payload_too_large")
    assert problem["limit"] == settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    assert User.objects.count() == 0
    assert IdempotencyKey.objects.count() == 0


def test_a_body_just_under_the_limit_is_read(settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    body = json.dumps({**REGISTRATION, "pad": "x" * 9_000})

    response = api().post("/auth/register", body, raw=True)

    assert response.status_code == 201, response.content  # read (`pad` is ignored)


@pytest.mark.parametrize(
    "path", ["/api/v1/bookings/%00/pay", "/api/v1/vendors/%00", "/api/v1/operator/categories/a%00b"]
)
def test_a_nul_in_an_api_path_is_400(path: str) -> None:
    response = Client(raise_request_exception=False).post(
        path, data="{}", content_type="application/json"
    )

    problem = assert_problem(response, 400, "validation_error")
    assert problem["errors"] == [{"loc": ["path"], "msg": "NUL character", "type": "value_error"}]


@pytest.mark.parametrize(
    "path", ["/api/v1/listings?q=%00", "/api/v1/listings?category=a%00", "/api/v1/vendors?q=x%00y"]
)
def test_a_nul_in_an_api_query_is_400(path: str) -> None:
    assert_problem(Client(raise_request_exception=False).get(path), 400, "validation_error")


@pytest.mark.parametrize("path", ["/search?q=%00", "/v/a%00b/", "/c/mot%00/"])
def test_a_nul_in_a_page_address_is_400(path: str) -> None:
    response = Client(raise_request_exception=False).get(path)

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")


# --- money: nothing moves zero or less --------------------------------------------------------


@pytest.fixture
def market(db: Any) -> Market:
    return make_market()


@pytest.mark.parametrize("amount", [0, -1, -10_000])
def test_a_payout_of_zero_or_less_is_422(market: Market, amount: int) -> None:
    market.released(1)
    before = money_rows()

    response = api(market.as_owner.token).post(
        f"/vendors/{market.vendor.pk}/payouts", {"amount": money(amount)}, idempotency_key="p"
    )

    problem = assert_problem(response, 422, "validation_error")
    assert locs(problem) == [["body", "payload", "amount", "amount"]]
    assert money_rows() == before


@pytest.mark.parametrize("path", ["/operator/refunds", "/operator/disputes"])
@pytest.mark.parametrize("amount", [0, -1, -10_000])
def test_a_refund_or_dispute_of_zero_or_less_is_422(market: Market, path: str, amount: int) -> None:
    market.sell(1)
    before = money_rows()

    response = api(market.as_operator.token).post(
        path, {"booking_id": 1, "amount": money(amount), "reason": "r"}, idempotency_key="r"
    )

    problem = assert_problem(response, 422, "validation_error")
    assert locs(problem) == [["body", "payload", "amount", "amount"]]
    assert money_rows() == before


@pytest.mark.parametrize("amount", [2**63, 10**30, -(10**30)])
def test_an_amount_past_64_bits_is_422(market: Market, amount: int) -> None:
    market.sell(1)
    before = money_rows()

    response = api(market.as_operator.token).post(
        "/operator/refunds", {"booking_id": 1, "amount": money(amount), "reason": "r"}
    )

    assert_problem(response, 422, "validation_error")
    assert money_rows() == before


# --- time: windows and days near the ends of the calendar ----------------------------------


@pytest.mark.parametrize(
    "query",
    [
        {"from": "9999-12-31T00:00:00+00:00"},
        {"from": "9999-12-31T20:00:00-05:00"},
        {"from": "0001-01-01T00:00:00+00:00"},
        {"from": "0001-01-01T00:00:00+05:00", "to": "0001-01-02T00:00:00+05:00"},
        {"to": "9999-12-31T23:59:59+00:00"},
        {"from": "2040-01-01T00:00:00+00:00"},
    ],
)
def test_slots_far_from_today_are_422(now: datetime, query: dict[str, str]) -> None:
    shop = make_shop()

    response = api().get(f"/listings/{shop.listing.pk}/slots", **query)

    problem = assert_problem(response, 422, "validation_error")
    assert locs(problem)[0][0] == "query"


def test_a_slot_window_longer_than_62_days_is_422(now: datetime) -> None:
    shop = make_shop()

    response = api().get(
        f"/listings/{shop.listing.pk}/slots",
        **{"from": "2026-01-06T00:00:00+00:00", "to": "2026-06-06T00:00:00+00:00"},
    )

    assert_problem(response, 422, "validation_error")


def test_first_available_far_from_today_is_422(now: datetime) -> None:
    response = api().get(
        "/slots/first-available", category="mot-servicing", **{"from": "9999-12-31T00:00:00Z"}
    )

    assert_problem(response, 422, "validation_error")


def test_a_slot_window_within_reach_still_answers(now: datetime) -> None:
    shop = make_shop()

    response = api().get(
        f"/listings/{shop.listing.pk}/slots",
        **{"from": "2026-01-06T00:00:00+00:00", "to": "2026-01-07T00:00:00+00:00"},
    )

    assert response.status_code == 200, response.content
    assert response.json()["slots"][0]["start"] == "2026-01-06T09:00:00Z"


@pytest.mark.parametrize("param", ["day", "week"])
@pytest.mark.parametrize("value", ["9999-12-31", "0001-01-01", "2026-13-45", "yesterday", "9" * 50])
def test_extreme_days_on_the_vendor_portal_are_a_page_not_a_500(
    now: datetime, param: str, value: str
) -> None:
    shop = make_shop()
    browser = Client(raise_request_exception=False)
    browser.force_login(shop.owner)
    path = "/vendor/" if param == "day" else "/vendor/calendar/"

    response = browser.get(path, {param: value})

    assert response.status_code == 422
    assert "text/html" in response["Content-Type"]
    assert browser.get(path, {param: "2026-01-07"}).status_code == 200


@pytest.mark.parametrize(
    "moment",
    ["9999-12-31T00:00:00+00:00", "9999-12-31T20:00:00-05:00", "0001-01-01T00:00:00+05:00"],
)
def test_extreme_moments_on_the_customer_pages_are_ignored(now: datetime, moment: str) -> None:
    shop = make_shop()
    booking = shop.accepted(datetime(2026, 1, 6, 10, 0, tzinfo=UTC))
    browser = Client(raise_request_exception=False)
    browser.force_login(shop.customer)

    book = browser.get(f"/account/book/{shop.listing.pk}/", {"start": moment})
    move = browser.get(f"/account/bookings/{booking.pk}/reschedule/", {"from": moment})

    # Then the pages show what they show without one: the next slots from today
    assert (book.status_code, move.status_code) == (200, 200)


@pytest.mark.parametrize(
    "start", ["9999-12-31T23:00:00+00:00", "9999-12-31T20:00:00-05:00", "0001-01-01T00:00:00+05:00"]
)
def test_a_hold_at_the_ends_of_the_calendar_is_422(now: datetime, start: str) -> None:
    shop = make_shop()
    from agora.bookings.models import Booking

    response = api(token_for(shop.customer)).post(
        "/bookings", {"listing_id": shop.listing.pk, "start": start}, idempotency_key="h"
    )

    problem = assert_problem(response, 422, "validation_error")
    assert locs(problem) == [["body", "payload", "start"]]
    assert not Booking.objects.exists()


# --- ids are integers ----------------------------------------------------------------------------


@pytest.mark.parametrize("listing_id", [True, False, "1", 1.0, 2**63, 10**30, 0, -1])
def test_a_listing_id_that_is_no_id_is_422(now: datetime, listing_id: Any) -> None:
    shop = make_shop()
    product = ProductFactory(vendor=shop.vendor, pk=1) if not Listing.objects.filter(pk=1) else None
    assert product is None or product.pk == 1
    client = api(token_for(shop.customer))
    before = rows(Checkout, Listing)

    hold = client.post("/bookings", {"listing_id": listing_id, "start": "2026-01-06T10:00:00Z"})
    checkout = client.post(
        "/checkout",
        {"items": [{"listing_id": listing_id, "quantity": 1}], "shipping_address": ADDRESS},
        idempotency_key="c",
    )
    cart = client.put("/cart/items", {"listing_id": listing_id, "quantity": 1})

    for response, loc in (
        (hold, ["body", "payload", "listing_id"]),
        (checkout, ["body", "payload", "items", 0, "listing_id"]),
        (cart, ["body", "payload", "listing_id"]),
    ):
        assert locs(assert_problem(response, 422, "validation_error")) == [loc]
    assert rows(Checkout, Listing) == before


@pytest.mark.parametrize("quantity", [True, "2", 2.0])
def test_a_quantity_that_is_no_integer_is_422(now: datetime, quantity: Any) -> None:
    shop = make_shop()
    product = ProductFactory(vendor=shop.vendor)

    response = api(token_for(shop.customer)).post(
        "/checkout",
        {"items": [{"listing_id": product.pk, "quantity": quantity}], "shipping_address": ADDRESS},
    )

    problem = assert_problem(response, 422, "validation_error")
    assert locs(problem) == [["body", "payload", "items", 0, "quantity"]]


def test_one_item_over_several_lines_is_capped_at_999_in_all(now: datetime) -> None:
    shop = make_shop()
    product = ProductFactory(vendor=shop.vendor, stock=5000)
    before = rows(Checkout, Listing)
    line = {"listing_id": product.pk, "quantity": 500}

    response = api(token_for(shop.customer)).post(
        "/checkout", {"items": [line, line], "shipping_address": ADDRESS}, idempotency_key="q"
    )

    problem = assert_problem(response, 422, "validation_error")
    assert locs(problem) == [["body", "items", 1, "quantity"]]
    assert "999" in problem["detail"]
    assert rows(Checkout, Listing) == before


# --- places: countries, coordinates, time zones ---------------------------------------------


@pytest.mark.parametrize("country", ["XX", "ÄÖ", "UK", "gb", "ZZ"])
def test_a_country_that_is_not_iso_3166_is_422(now: datetime, country: str) -> None:
    shop = make_shop()
    product = ProductFactory(vendor=shop.vendor)
    before = rows(Checkout, Listing)

    response = api(token_for(shop.customer)).post(
        "/checkout",
        {
            "items": [{"listing_id": product.pk, "quantity": 1}],
            "shipping_address": {**ADDRESS, "country": country},
        },
        idempotency_key="k",
    )

    problem = assert_problem(response, 422, "validation_error")
    assert locs(problem) == [["body", "payload", "shipping_address", "country"]]
    assert rows(Checkout, Listing) == before


@pytest.mark.parametrize("country", ["XX", "ÄÖ"])
def test_a_shipping_rule_for_no_country_is_422(now: datetime, country: str) -> None:
    shop = make_shop()

    response = api(token_for(shop.owner)).put(
        f"/vendors/{shop.vendor.pk}/shipping-rules",
        {"rules": [{"kind": "flat", "country": country, "amount": 500}]},
    )

    assert_problem(response, 422, "validation_error")
    assert not ShippingRule.objects.exists()


def test_a_shipping_rule_for_a_real_country_is_kept(now: datetime) -> None:
    shop = make_shop()

    response = api(token_for(shop.owner)).put(
        f"/vendors/{shop.vendor.pk}/shipping-rules",
        {"rules": [{"kind": "flat", "country": "de", "amount": 500}]},
    )

    assert response.status_code == 204, response.content
    assert ShippingRule.objects.get().country == "DE"


@pytest.mark.parametrize(
    "query",
    [
        {"lat": 91, "lng": 0},
        {"lat": -90.5, "lng": 0, "radius_km": 5},
        {"lat": 0, "lng": 181, "radius_km": 5},
        {"lat": 0, "lng": -180.01},
        {"lat": 51.5, "lng": 0, "radius_km": 0},
        {"lat": 51.5, "lng": 0, "radius_km": -5},
        {"lat": 51.5, "lng": 0, "radius_km": 1e9},
    ],
)
def test_search_coordinates_off_the_globe_are_422(db: Any, query: dict[str, Any]) -> None:
    problem = assert_problem(api().get("/listings", **query), 422, "validation_error")
    assert locs(problem)[0][0] == "query"


@pytest.mark.parametrize(("lat", "lng"), [(91, 0), (-91, 0), (0, 181), (0, -180.5)])
def test_vendor_coordinates_off_the_globe_are_422(db: Any, lat: float, lng: float) -> None:
    client = api(token_for(UserFactory()))
    body = {"name": "Shop", "timezone": "Europe/London", "currency": "GBP", "lat": lat, "lng": lng}

    assert_problem(client.post("/vendors", body), 422, "validation_error")
    assert not Vendor.objects.exists()


@pytest.mark.parametrize("timezone", ["localtime", "posixrules", "Factory", "Mars/Olympus"])
def test_a_time_zone_that_is_no_iana_zone_is_422(db: Any, timezone: str) -> None:
    client = api(token_for(UserFactory()))

    response = client.post("/vendors", {"name": "S", "timezone": timezone, "currency": "GBP"})

    assert locs(assert_problem(response, 422, "validation_error")) == [["body", "timezone"]]
    assert not Vendor.objects.exists()


@pytest.mark.parametrize("timezone", ["Europe/London", "America/Argentina/Buenos_Aires", "UTC"])
def test_real_time_zones_are_taken(db: Any, timezone: str) -> None:
    client = api(token_for(UserFactory()))

    response = client.post("/vendors", {"name": "S", "timezone": timezone, "currency": "GBP"})

    assert response.status_code == 201, response.content


# --- names are one line; links are web links -------------------------------------------------


LINE_BREAKERS = ["Bad\nBcc: all@example.test", "Bad\r\nX", "Tab\tbed", "Nul\x00", "Esc\x1b[2J"]
LINE_BREAKERS += ["Line\u2028sep", "Para\u2029sep", "Del\x7f", "C1\x85next"]


@pytest.mark.parametrize("name", LINE_BREAKERS)
def test_a_vendor_name_with_a_control_character_is_422(db: Any, name: str) -> None:
    owner = UserFactory()
    client = api(token_for(owner))
    vendor = VendorFactory(owner=owner, name="Good Name")

    applied = client.post("/vendors", {"name": name, "timezone": "UTC", "currency": "GBP"})
    renamed = client.patch(f"/vendors/{vendor.pk}", {"name": name})

    assert locs(assert_problem(applied, 422, "validation_error")) == [["body", "name"]]
    assert locs(assert_problem(renamed, 422, "validation_error")) == [["body", "name"]]
    assert list(Vendor.objects.values_list("name", flat=True)) == ["Good Name"]


@pytest.mark.parametrize("name", LINE_BREAKERS)
def test_a_user_name_with_a_control_character_is_422(db: Any, name: str) -> None:
    response = api().post("/auth/register", {**REGISTRATION, "name": name})

    assert locs(assert_problem(response, 422, "validation_error")) == [["body", "name"]]
    assert not User.objects.exists()


@pytest.mark.parametrize("title", LINE_BREAKERS)
def test_a_listing_title_with_a_control_character_is_422(db: Any, title: str) -> None:
    owner = UserFactory()
    vendor = VendorFactory(owner=owner)
    client = api(token_for(owner))
    listing = {
        "kind": "service",
        "title": title,
        "category": "mot-servicing",
        "price": {"amount": 100, "currency": "GBP"},
        "duration_minutes": 60,
    }
    created = client.post(f"/vendors/{vendor.pk}/listings", {**listing, "title": "Fine"})
    assert created.status_code == 201, created.content
    before = rows(Listing)

    response = client.post(f"/vendors/{vendor.pk}/listings", listing)
    renamed = client.patch(f"/listings/{created.json()['id']}", {"title": title})

    assert locs(assert_problem(response, 422, "validation_error")) == [["body", "title"]]
    assert locs(assert_problem(renamed, 422, "validation_error")) == [["body", "title"]]
    assert rows(Listing) == before


def test_names_in_any_script_are_fine(db: Any) -> None:
    response = api().post("/auth/register", {**REGISTRATION, "name": "Zoë Ødegård-Łukasz 李"})

    assert response.status_code == 201, response.content


@pytest.mark.parametrize(
    "website",
    [
        "javascript:alert(document.cookie)",
        "JavaScript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox",
        "//evil.example/path",
        "/relative",
        "ftp://files.example",
        "https://",
        "https://exa mple.com",
        "https://example.com/\nX",
    ],
)
def test_a_website_that_is_no_web_link_is_422(db: Any, website: str) -> None:
    owner = UserFactory()
    client = api(token_for(owner))
    vendor = VendorFactory(owner=owner, website="https://good.example")

    applied = client.post(
        "/vendors", {"name": "S", "timezone": "UTC", "currency": "GBP", "website": website}
    )
    changed = client.patch(f"/vendors/{vendor.pk}", {"website": website})

    assert locs(assert_problem(applied, 422, "validation_error")) == [["body", "website"]]
    assert locs(assert_problem(changed, 422, "validation_error")) == [["body", "website"]]
    assert list(Vendor.objects.values_list("website", flat=True)) == ["https://good.example"]


def test_web_links_and_no_website_are_taken(db: Any) -> None:
    owner = UserFactory()
    client = api(token_for(owner))
    vendor = VendorFactory(owner=owner)

    for website in ("https://shop.example/about?x=1", "http://shop.example", ""):
        response = client.patch(f"/vendors/{vendor.pk}", {"website": website})
        assert response.status_code == 200, response.content
        assert response.json()["website"] == website


def test_a_stored_javascript_website_is_not_shown_as_a_link(db: Any) -> None:
    # A value stored before websites were checked
    vendor = VendorFactory(website="javascript:alert(1)")
    linked = VendorFactory(website="https://linked.example")

    page = Client().get(f"/v/{vendor.slug}/").content.decode()
    good = Client().get(f"/v/{linked.slug}/").content.decode()

    assert "javascript:" not in page
    assert '<a href="https://linked.example" rel="nofollow noopener">Website</a>' in good
