"""Search and discovery (API.md "Search and discovery"): relevance with synonyms, plurals,
typos and prefixes; facets against a brute-force count; documents current in the same
request; distance against a haversine oracle; availability against the slot engine; query
counts. The suite runs on SQLite (FTS5) and on PostgreSQL (tsvector), so every case here
holds on both engines."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from math import asin, cos, radians, sin, sqrt
from typing import Any

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agora.bookings.selectors import listing_slots
from agora.catalog.models import Category, City, Listing
from agora.core import clock
from agora.search import selectors
from agora.search.selectors import PRICE_BANDS, SearchQuery
from tests.conftest import ApiClient, assert_problem
from tests.factories import ListingFactory, VendorFactory, VendorScheduleFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # a Monday


@pytest.fixture(autouse=True)
def frozen() -> Any:
    with clock.frozen(NOW):
        yield


def _category(slug: str) -> Category:
    return Category.objects.get(slug=slug)


def _city(slug: str) -> City:
    return City.objects.get(slug=slug)


@dataclass
class Market:
    ids: dict[str, int]

    def keys(self, items: list[dict[str, Any]]) -> list[str]:
        names = {v: k for k, v in self.ids.items()}
        return [names.get(item["id"], f"?{item['id']}") for item in items]


@pytest.fixture
def market() -> Market:
    thames = VendorFactory(name="Thames Plumbing & Heating", city=_city("london"))
    spark = VendorFactory(name="Brightspark Electrical", city=_city("london"))
    garage = VendorFactory(name="Camden Motors", city=_city("london"))
    leeds = VendorFactory(name="Aire Valley Services", city=_city("leeds"))
    specs = {
        "leak": (thames, "plumbers", "Leak repair call-out", "Fix a dripping tap or a burst pipe."),
        "bathroom": (thames, "plumbers", "Bathroom installation", "Suite, tiles and taps."),
        "fusebox": (spark, "electricians", "Fuse box upgrade", "A modern consumer unit."),
        "mot": (garage, "mot-servicing", "MOT test (class 4)", "While you wait."),
        "service": (garage, "mot-servicing", "Full service", "Oil, filters and checks."),
        "tyrefit": (garage, "tyres", "Tyre fitting and balancing", "Per wheel."),
        "oil": (garage, "auto-parts", "Motor oil 5W-30", "Five litres."),
        "clean": (leeds, "cleaning", "Regular home clean", "Three hours, weekly."),
    }
    ids = {}
    for key, (vendor, category, title, description) in specs.items():
        kind = "product" if category == "auto-parts" else "service"
        ids[key] = ListingFactory(
            vendor=vendor,
            category=_category(category),
            title=title,
            description=description,
            kind=kind,
            stock=5 if kind == "product" else 0,
        ).pk
    return Market(ids=ids)


def found(**params: Any) -> dict[str, Any]:
    response = ApiClient().get("/listings", **params)
    assert response.status_code == 200, response.content
    body: dict[str, Any] = response.json()
    return body


RELEVANCE = [
    # (query, must find, must not find, first)
    ("electrician", {"fusebox"}, {"leak", "mot"}, "fusebox"),
    ("electricians", {"fusebox"}, set(), "fusebox"),
    ("plumber", {"leak", "bathroom"}, {"fusebox"}, None),
    ("plumbing", {"leak", "bathroom"}, {"fusebox"}, None),
    ("plumbers", {"leak", "bathroom"}, set(), None),
    ("tyres", {"tyrefit"}, {"mot"}, "tyrefit"),
    ("tires", {"tyrefit"}, set(), "tyrefit"),
    ("tyre", {"tyrefit"}, set(), "tyrefit"),
    # a word, not a substring: MOT is not "Motor oil"
    ("MOT", {"mot", "service"}, {"oil"}, "mot"),
    ("servcie", {"service"}, {"oil"}, "service"),
    ("elec", {"fusebox"}, {"mot"}, "fusebox"),
    ("Thames", {"leak", "bathroom"}, {"fusebox"}, None),
    ("Leeds", {"clean"}, {"leak"}, "clean"),
    ("leak repair in london", {"leak"}, {"clean"}, "leak"),
    ("zzzqqq", set(), {"leak", "mot"}, None),
]


@pytest.mark.parametrize(("q", "wanted", "unwanted", "first"), RELEVANCE)
def test_a_person_finds_what_they_mean(
    market: Market, q: str, wanted: set[str], unwanted: set[str], first: str | None
) -> None:
    body = found(q=q)
    keys = market.keys(body["items"])
    assert wanted <= set(keys), keys
    assert not unwanted & set(keys), keys
    if first:
        assert keys[0] == first, keys
    assert body["total"] == len(keys)
    assert body["total_is_estimate"] is False


def test_a_misspelt_query_says_what_it_searched_for(market: Market) -> None:
    assert found(q="servcie")["did_you_mean"] == "service"
    assert found(q="service")["did_you_mean"] is None


def test_suspended_vendors_drafts_and_archived_listings_are_never_found(market: Market) -> None:
    hidden = VendorFactory(name="Hidden Plumbing", status="suspended")
    ListingFactory(vendor=hidden, category=_category("plumbers"), title="Hidden leak repair")
    ListingFactory(category=_category("plumbers"), title="Draft leak repair", status="draft")
    ListingFactory(category=_category("plumbers"), title="Old leak repair", status="archived")

    titles = [item["title"] for item in found(q="leak", limit=50)["items"]]

    assert titles == ["Leak repair call-out"]


def test_a_change_is_searchable_in_the_very_next_request(market: Market) -> None:
    listing = Listing.objects.get(pk=market.ids["clean"])
    listing.title = "Oven valeting"
    listing.save()
    assert market.keys(found(q="oven")["items"]) == ["clean"]
    assert found(q="regular home clean")["total"] == 0

    vendor = listing.vendor
    vendor.status = "suspended"
    vendor.save(update_fields=["status"])
    assert found(q="oven")["items"] == []

    vendor.status = "active"
    vendor.save(update_fields=["status"])
    assert market.keys(found(q="oven")["items"]) == ["clean"]


def test_a_published_review_re_ranks_at_once(market: Market) -> None:
    from agora.reviews.ratings import Delta, apply

    leak = Listing.objects.get(pk=market.ids["leak"])
    apply(vendor_id=leak.vendor_id, listing_id=leak.pk, delta=Delta().add(5).add(5).add(5))

    body = found(q="plumber", min_rating=4.5)

    assert market.keys(body["items"]) == ["leak"]


# --- facets against brute force ----------------------------------------------------------


def _brute_facets(listings: list[Listing]) -> dict[str, dict[str, int]]:
    facets: dict[str, dict[str, int]] = {
        "category": {},
        "city": {},
        "kind": {},
        "price_band": {},
        "rating": {},
    }

    def bump(name: str, key: str) -> None:
        facets[name][key] = facets[name].get(key, 0) + 1

    for listing in listings:
        for slug in listing.category.path.split("/"):
            bump("category", slug)
        bump("city", listing.vendor.city.slug)
        bump("kind", listing.kind)
        for key, low, high in PRICE_BANDS:
            if listing.price_amount >= low and (high is None or listing.price_amount < high):
                bump("price_band", key)
        if listing.rating_count:
            for step in (4, 3, 2, 1):
                if listing.rating_sum / listing.rating_count >= step:
                    bump("rating", str(step))
    return facets


def test_facet_counts_equal_a_brute_force_count() -> None:
    rng = random.Random(3)
    cities = ["london", "leeds", "manchester"]
    vendors = [VendorFactory(city=_city(rng.choice(cities))) for _ in range(6)]
    categories = ["plumbers", "electricians", "mot-servicing", "tyres", "cleaning"]
    for index in range(40):
        count = rng.choice((0, 1, 3, 10))
        ListingFactory(
            vendor=rng.choice(vendors),
            category=_category(rng.choice(categories)),
            title=f"Repair job {index}" if index % 3 else f"Install job {index}",
            price_amount=rng.choice((900, 3_000, 7_500, 12_000, 30_000, 80_000)),
            rating_count=count,
            rating_sum=round(count * rng.uniform(1, 5)),
        )
    every = list(Listing.objects.select_related("category", "vendor__city").filter(status="active"))
    for params, keep in (
        ({}, lambda x: True),
        ({"q": "repair"}, lambda x: x.title.startswith("Repair")),
        ({"category": "home-services"}, lambda x: x.category.path.startswith("home-services/")),
        (
            {"city": "leeds", "min_price": 3_000},
            lambda x: x.vendor.city.slug == "leeds" and x.price_amount >= 3_000,
        ),
    ):
        body = found(limit=5, **params)
        expected = [x for x in every if keep(x)]
        assert body["total"] == len(expected), params
        attribute_facets = {k: v for k, v in body["facets"].items() if k.startswith("attr.")}
        assert body["facets"] == _brute_facets(expected) | attribute_facets, params


# --- distance ----------------------------------------------------------------------------


def haversine_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    phi1, phi2 = radians(lat1), radians(lat2)
    half = sin((phi2 - phi1) / 2) ** 2 + cos(phi1) * cos(phi2) * sin(radians(lng2 - lng1) / 2) ** 2
    return 2 * 6378.168 * asin(min(1.0, sqrt(half)))


coordinates = st.tuples(
    st.floats(min_value=-60, max_value=60, allow_nan=False),
    st.floats(min_value=-179, max_value=179, allow_nan=False),
)


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    places=st.lists(coordinates, min_size=2, max_size=6),
    origin=coordinates,
    radius=st.floats(100, 15_000),
)
def test_distance_order_and_radius_agree_with_haversine(
    places: list[tuple[float, float]], origin: tuple[float, float], radius: float
) -> None:
    Listing.objects.all().delete()
    ids = {}
    for lat, lng in places:
        vendor = VendorFactory(lat=round(lat, 6), lng=round(lng, 6))
        ids[ListingFactory(vendor=vendor, title="Survey").pk] = (round(lat, 6), round(lng, 6))
    expected = sorted(
        ((haversine_km(*origin, *where), pk) for pk, where in ids.items()),
        key=lambda pair: (pair[0], pair[1]),
    )

    body = found(q="survey", lat=origin[0], lng=origin[1], sort="distance", limit=50)
    within = found(q="survey", lat=origin[0], lng=origin[1], radius_km=radius, limit=50)

    got = [(item["distance_km"], item["id"]) for item in body["items"]]
    assert [pk for _, pk in got] == [pk for _, pk in expected] or all(
        # equal distances may come in either order
        abs(a[0] - b[0]) < 0.01
        for a, b in zip(got, expected, strict=True)
    )
    for (distance, _), (true_distance, _) in zip(got, expected, strict=True):
        assert distance == pytest.approx(true_distance, abs=0.02)
    inside = {pk for d, pk in expected if d <= radius - 0.01}
    outside = {pk for d, pk in expected if d > radius + 0.01}
    returned = {item["id"] for item in within["items"]}
    assert inside <= returned
    assert not outside & returned


def test_text_and_distance_combine(market: Market) -> None:
    leeds = _city("leeds")
    body = found(q="clean", lat=float(leeds.lat), lng=float(leeds.lng), sort="distance")
    assert market.keys(body["items"]) == ["clean"]
    assert body["items"][0]["distance_km"] == pytest.approx(0, abs=0.01)


# --- availability ------------------------------------------------------------------------


def test_availability_keeps_what_the_slot_engine_says_is_free() -> None:
    opens = VendorFactory(name="Open garage")
    VendorScheduleFactory(vendor=opens)
    closed = VendorFactory(name="Closed garage")  # no opening hours: never free
    free = ListingFactory(vendor=opens, title="Brake check")
    never = ListingFactory(vendor=closed, title="Brake check")
    in_stock = ListingFactory(vendor=closed, kind="product", title="Brake pads", stock=3)
    sold_out = ListingFactory(vendor=closed, kind="product", title="Brake discs", stock=0)
    start = NOW + timedelta(days=1)  # Tuesday
    end = start + timedelta(days=1)

    body = found(q="brake", available_from=start.isoformat(), available_to=end.isoformat())

    by_id = {item["id"]: item for item in body["items"]}
    assert set(by_id) == {free.pk, in_stock.pk}
    assert never.pk not in by_id
    assert sold_out.pk not in by_id
    slots = listing_slots(listing=free, start=start, end=end).slots
    assert datetime.fromisoformat(by_id[free.pk]["next_available"]) == slots[0].start
    assert datetime.fromisoformat(by_id[in_stock.pk]["next_available"]) == start


def test_availability_pages_through_every_free_listing() -> None:
    vendor = VendorFactory()
    VendorScheduleFactory(vendor=vendor)
    closed = VendorFactory()
    expected = set()
    for index in range(25):
        expected.add(ListingFactory(vendor=vendor, title=f"Wash {index}").pk)
        ListingFactory(vendor=closed, title=f"Wash closed {index}")
    start = NOW + timedelta(days=1)
    params = {"q": "wash", "available_from": start.isoformat(), "limit": 10}

    seen: list[int] = []
    cursor = None
    for _ in range(10):
        body = found(**params, **({"cursor": cursor} if cursor else {}))
        seen += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break

    assert sorted(seen) == sorted(expected)


# --- suggestions, related, errors, query counts -----------------------------------------


def test_suggest_completes_categories_vendors_and_titles(market: Market) -> None:
    items = ApiClient().get("/search/suggest", q="plu").json()["items"]
    assert {"text": "Plumbers", "kind": "category", "url": "/c/plumbers/"} in items
    assert any(i["kind"] == "vendor" and i["text"] == "Thames Plumbing & Heating" for i in items)
    titles = ApiClient().get("/search/suggest", q="tyre fit").json()["items"]
    assert any(i["kind"] == "listing" and i["text"] == "Tyre fitting and balancing" for i in titles)
    assert ApiClient().get("/search/suggest", q="p").json()["items"] == []


def test_related_falls_back_to_similar_listings_nearby(market: Market) -> None:
    body = ApiClient().get(f"/listings/{market.ids['leak']}/related").json()
    assert market.keys(body["items"]) == ["bathroom"]
    hidden = ListingFactory(status="draft")
    assert_problem(ApiClient().get(f"/listings/{hidden.pk}/related"), 404, "not_found")


@pytest.mark.parametrize(
    ("params", "loc"),
    [
        ({"sort": "distance"}, ["query", "sort"]),
        ({"sort": "cheapest"}, ["query", "sort"]),
        ({"radius_km": 5}, ["query", "radius_km"]),
        (
            {
                "available_from": "2026-03-10T00:00:00+00:00",
                "available_to": "2026-06-10T00:00:00+00:00",
            },
            ["query", "available_to"],
        ),
        ({"available_from": "2026-03-10T00:00:00"}, ["query", "available_from"]),
    ],
)
def test_bad_search_parameters_are_422(
    market: Market, params: dict[str, Any], loc: list[str]
) -> None:
    body = assert_problem(ApiClient().get("/listings", **params), 422, "validation_error")
    assert [e["loc"] for e in body["errors"]] == [loc]


def test_a_cursor_belongs_to_its_query(market: Market) -> None:
    cursor = found(q="repair", limit=1)["next_cursor"] or found(limit=1)["next_cursor"]
    assert cursor
    assert_problem(ApiClient().get("/listings", q="clean", cursor=cursor), 422, "validation_error")


def test_a_search_takes_a_fixed_number_of_queries(
    market: Market, django_assert_max_num_queries: Any
) -> None:
    for index in range(30):
        ListingFactory(category=_category("plumbers"), title=f"Leak job {index}")
    # vocabulary, category, page, three to hydrate, facet sample, the category's schema
    with django_assert_max_num_queries(9):
        body = found(q="leak", category="home-services", limit=20)
    assert len(body["items"]) == 20
    assert body["total"] == 31


def test_selector_and_endpoint_agree(market: Market) -> None:
    result = selectors.listings_search(query=SearchQuery(q="plumber"))
    assert sorted(h.listing.pk for h in result.items) == sorted(
        item["id"] for item in found(q="plumber")["items"]
    )


@pytest.mark.parametrize("sort", ["relevance", "price", "-price", "newest", "rating", "distance"])
def test_a_broad_query_driven_from_the_documents_gives_the_exact_order(
    sort: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(5)
    for index in range(30):
        city = _city(rng.choice(["london", "leeds", "manchester"]))
        vendor = VendorFactory(city=city, lat=city.lat, lng=city.lng)
        count = rng.choice((0, 2, 7))
        ListingFactory(
            vendor=vendor,
            title=f"Repair {index}",
            price_amount=rng.randrange(1_000, 90_000),
            rating_count=count,
            rating_sum=round(count * rng.uniform(1, 5)),
            created_at=NOW - timedelta(hours=rng.randrange(1000)),
        )
    params = {"q": "repair", "sort": sort, "limit": 7, "lat": 51.5, "lng": -0.12}
    narrow = found(**params)["items"]
    monkeypatch.setattr(selectors, "BROAD_MATCHES", 3)  # every word is broad now
    monkeypatch.setattr(selectors, "FACET_SAMPLE", 5)  # and the page is ranked by SQL

    broad = found(**params)["items"]

    assert [i["id"] for i in broad] == [i["id"] for i in narrow]


def test_a_broad_query_ranks_a_window_of_its_matches(monkeypatch: pytest.MonkeyPatch) -> None:
    from agora.search import engine

    for index in range(12):
        ListingFactory(
            title=f"Repair {index}" if index % 2 else f"Repair and repaint {index}",
            rating_count=index,
            rating_sum=index * 5,
        )
    narrow = [i["title"] for i in found(q="repair", limit=12)["items"]]
    monkeypatch.setattr(selectors, "BROAD_MATCHES", 3)
    # More matches than the facet sample holds, so the page is ranked by SQL.
    monkeypatch.setattr(selectors, "FACET_SAMPLE", 5)

    # A window holding every match ranks exactly as a narrow query does ...
    assert [i["title"] for i in found(q="repair", limit=12)["items"]] == narrow
    # ... and a smaller one ranks only the matches inside it.
    monkeypatch.setattr(engine, "BROAD_CANDIDATES", 4)
    windowed = [i["title"] for i in found(q="repair", limit=12)["items"]]
    assert len(windowed) == 4
    assert windowed == [title for title in narrow if title in windowed]


def test_beyond_the_sample_total_and_facets_are_estimates_and_say_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    vendors = [VendorFactory(city=_city("london")), VendorFactory(city=_city("leeds"))]
    for index in range(60):
        ListingFactory(vendor=vendors[index % 2], title=f"Gutter clean {index}")
    exact = found(q="gutter", limit=5)
    assert (exact["total"], exact["total_is_estimate"]) == (60, False)
    monkeypatch.setattr(selectors, "FACET_SAMPLE", 20)
    if connection.vendor == "postgresql":
        # PostgreSQL estimates from its statistics, as autovacuum keeps them.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE search_searchdocument")

    estimated = found(q="gutter", limit=5)

    assert estimated["total_is_estimate"] is True
    # ids are dense here, so the id-range estimate (SQLite) and the planner's
    # (PostgreSQL) both land near the truth
    assert 30 <= estimated["total"] <= 120
    assert set(estimated["facets"]["city"]) == {"london", "leeds"}
    assert [i["id"] for i in estimated["items"]] == [i["id"] for i in exact["items"]]
