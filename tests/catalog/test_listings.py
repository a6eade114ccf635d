"""Listings: create, validate against the category schema, edit, variants, images, search.

API.md "Catalog"; STYLE.md "Tests" (list endpoints assert their query count).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from PIL import Image

from agora.accounts.models import User
from agora.catalog.models import Category, Listing, ListingImage, ProductVariant
from agora.core import clock
from agora.core.audit import audit_trail
from agora.vendors.models import Vendor
from tests.conftest import ApiClient, assert_problem
from tests.factories import (
    ListingFactory,
    ListingImageFactory,
    ProductVariantFactory,
    UserFactory,
    VendorFactory,
    VendorMembershipFactory,
)
from tests.vendors.helpers import (
    body_of,
    client_for,
    error_locs,
    multipart,
    png_bomb,
    png_bytes,
    snapshot,
    stored_files,
)

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

SERVICE: dict[str, Any] = {
    "kind": "service",
    "title": "MOT test",
    "description": "Class 4 MOT while you wait.",
    "category": "mot-servicing",
    "price": {"amount": 5485, "currency": "GBP"},
    "attributes": {"mot_class": "4", "vehicle_types": ["car", "van"]},
    "duration_minutes": 45,
}
PRODUCT: dict[str, Any] = {
    "kind": "product",
    "title": "Brake pads (front)",
    "category": "auto-parts",
    "price": {"amount": 3999, "currency": "GBP"},
    "attributes": {"condition": "new", "part_number": "BP-1"},
    "stock": 12,
    "sku": "BP-1",
}
QUOTE: dict[str, Any] = {
    "kind": "quote",
    "title": "Full rewire",
    "category": "electricians",
    "price": {"amount": 250000, "currency": "GBP"},
    "attributes": {"certifications": ["NICEIC"], "insured": True},
}


@dataclass
class Shop:
    vendor: Vendor
    owner: User
    client: ApiClient

    def create(self, payload: dict[str, Any]) -> Any:
        return self.client.post(f"/vendors/{self.vendor.pk}/listings", payload)

    def create_ok(self, payload: dict[str, Any]) -> dict[str, Any]:
        response = self.create(payload)
        assert response.status_code == 201, response.content
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture
def shop(db: Any) -> Shop:
    owner = UserFactory()
    vendor = VendorFactory(owner=owner, name="Acre Lane Garage", slug="acre-lane-garage")
    return Shop(vendor=vendor, owner=owner, client=client_for(owner))


# --- creating ---------------------------------------------------------------------------------


def test_a_service_listing_is_created_with_exactly_what_was_sent(shop: Shop) -> None:
    with clock.frozen(T0):
        body = shop.create_ok(SERVICE)

    listing = Listing.objects.get()
    assert body == {
        "id": listing.pk,
        "vendor_id": shop.vendor.pk,
        "vendor": {
            "id": shop.vendor.pk,
            "name": "Acre Lane Garage",
            "slug": "acre-lane-garage",
            "city": "london",
        },
        "category": "mot-servicing",
        "kind": "service",
        "title": "MOT test",
        "description": "Class 4 MOT while you wait.",
        "status": "active",
        "price": {"amount": 5485, "currency": "GBP"},
        "price_is_from": False,
        "attributes": {"mot_class": "4", "vehicle_types": ["car", "van"]},
        "duration_minutes": 45,
        "capacity": 1,
        "buffer_before_minutes": 0,
        "buffer_after_minutes": 0,
        "min_notice_minutes": 60,
        "horizon_days": 365,
        "slot_step_minutes": None,
        "auto_accept": False,
        "sku": "",
        "stock": 0,
        "low_stock_threshold": 0,
        "weight_grams": 0,
        "variants": [],
        "images": [],
        "rating_average": None,
        "rating_count": 0,
        "created_at": "2026-03-02T09:00:00Z",
        "updated_at": "2026-03-02T09:00:00Z",
    }
    assert (listing.vendor_id, listing.currency, listing.price_amount) == (
        shop.vendor.pk,
        "GBP",
        5485,
    )
    [entry] = audit_trail(listing)
    assert (entry.action, entry.actor_id, entry.data) == (
        "listing.created",
        shop.owner.pk,
        {"kind": "service", "status": "active"},
    )


def test_a_product_and_a_quote_are_created(shop: Shop) -> None:
    product = shop.create_ok(PRODUCT)
    quote = shop.create_ok(QUOTE)

    assert (product["kind"], product["stock"], product["sku"], product["duration_minutes"]) == (
        "product",
        12,
        "BP-1",
        None,
    )
    assert (quote["kind"], quote["price_is_from"], quote["price"]) == (
        "quote",
        True,
        {"amount": 250000, "currency": "GBP"},
    )
    assert Listing.objects.count() == 2


def test_a_manager_creates_listings_but_a_staff_member_may_not(shop: Shop) -> None:
    manager, staff = UserFactory(), UserFactory()
    VendorMembershipFactory(vendor=shop.vendor, user=manager, role="manager")
    VendorMembershipFactory(vendor=shop.vendor, user=staff, role="staff")
    path = f"/vendors/{shop.vendor.pk}/listings"

    assert client_for(manager).post(path, SERVICE).status_code == 201
    assert_problem(client_for(staff).post(path, SERVICE), 403, "forbidden")
    assert Listing.objects.count() == 1


@pytest.mark.parametrize(
    ("payload", "loc"),
    [
        ({**SERVICE, "duration_minutes": None}, ["body", "duration_minutes"]),
        ({**PRODUCT, "duration_minutes": 30}, ["body", "duration_minutes"]),
        ({**SERVICE, "price": {"amount": 5000, "currency": "EUR"}}, ["body", "price", "currency"]),
        ({**SERVICE, "price": {"amount": 50.5, "currency": "GBP"}}, None),
        ({**SERVICE, "price": {"amount": 5000, "currency": "ABC"}}, None),
        ({**SERVICE, "price": {"amount": -1, "currency": "GBP"}}, ["body", "price", "amount"]),
        ({**SERVICE, "price": {"amount": 2**31, "currency": "GBP"}}, ["body", "price", "amount"]),
        ({**PRODUCT, "stock": 2**31}, ["body", "payload", "stock"]),
        ({**SERVICE, "category": "spaceships"}, ["body", "category"]),
        ({**SERVICE, "kind": "rental"}, ["body", "kind"]),
        ({**SERVICE, "status": "published"}, ["body", "status"]),
        ({**SERVICE, "title": "   "}, ["body", "title"]),
        ({**SERVICE, "duration_minutes": 0}, ["body", "payload", "duration_minutes"]),
        ({**SERVICE, "attributes": ["mot_class"]}, ["body", "payload", "attributes"]),
        ({**SERVICE, "rating_sum": 10}, ["body", "payload", "rating_sum"]),
    ],
    ids=[
        "service-without-duration",
        "product-with-duration",
        "currency-not-the-vendors",
        "fractional-amount",
        "unknown-currency",
        "negative-amount",
        "amount-beyond-the-column",
        "stock-beyond-the-column",
        "unknown-category",
        "unknown-kind",
        "unknown-status",
        "blank-title",
        "zero-duration",
        "attributes-not-an-object",
        "rating",
    ],
)
def test_a_bad_listing_is_422_with_the_field_path_and_creates_nothing(
    shop: Shop, payload: dict[str, Any], loc: list[str] | None
) -> None:
    before = snapshot()

    body = assert_problem(shop.create(payload), 422, "validation_error")

    if loc is not None:
        assert error_locs(body) == [loc]
    else:
        assert error_locs(body)[0][:3] == ["body", "payload", "price"]
    assert snapshot() == before


def test_every_attribute_violation_is_reported_with_its_path(shop: Shop) -> None:
    before = snapshot()

    response = shop.create(
        {
            **SERVICE,
            "attributes": {
                "mot_class": "9",
                "includes_mot": "yes",
                "vehicle_types": ["car", "boat"],
            },
        }
    )

    body = assert_problem(response, 422, "validation_error")
    assert [(e["loc"], e["type"]) for e in body["errors"]] == [
        (["body", "attributes", "includes_mot"], "type"),
        (["body", "attributes", "mot_class"], "enum"),
        (["body", "attributes", "vehicle_types", "1"], "enum"),
    ]
    assert snapshot() == before


def test_a_missing_required_attribute_is_reported(shop: Shop) -> None:
    response = shop.create({**PRODUCT, "attributes": {"part_number": "x" * 65}})

    body = assert_problem(response, 422, "validation_error")
    assert [(e["loc"], e["type"]) for e in body["errors"]] == [
        (["body", "attributes"], "required"),
        (["body", "attributes", "part_number"], "maxLength"),
    ]
    assert Listing.objects.count() == 0


# --- visibility ---------------------------------------------------------------------------------


def test_a_draft_is_private_until_published_and_archived_is_private_again(
    shop: Shop, anon: ApiClient
) -> None:
    draft = shop.create_ok({**SERVICE, "status": "draft"})
    path = f"/listings/{draft['id']}"

    # a draft: only its vendor's staff see it
    assert_problem(anon.get(path), 404, "not_found")
    assert anon.get("/listings").json()["items"] == []
    assert shop.client.get(path).json()["status"] == "draft"

    # published
    assert shop.client.patch(path, {"status": "active"}).json()["status"] == "active"
    assert anon.get(path).json()["id"] == draft["id"]
    assert [item["id"] for item in anon.get("/listings").json()["items"]] == [draft["id"]]

    # archived
    assert shop.client.patch(path, {"status": "archived"}).json()["status"] == "archived"
    assert_problem(anon.get(path), 404, "not_found")
    assert anon.get("/listings").json()["items"] == []
    assert shop.client.get(path).json()["status"] == "archived"


# --- editing ------------------------------------------------------------------------------------


def test_patch_edits_only_the_fields_sent(shop: Shop) -> None:
    with clock.frozen(T0):
        created = shop.create_ok(SERVICE)
    path = f"/listings/{created['id']}"

    with clock.frozen(T0 + timedelta(hours=1)):
        response = shop.client.patch(
            path,
            {
                "title": "MOT and interim service",
                "price": {"amount": 9900, "currency": "GBP"},
                "attributes": {"mot_class": "4", "includes_mot": True},
                "duration_minutes": 90,
            },
        )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body == {
        **created,
        "title": "MOT and interim service",
        "price": {"amount": 9900, "currency": "GBP"},
        "attributes": {"mot_class": "4", "includes_mot": True},
        "duration_minutes": 90,
        "updated_at": "2026-03-02T10:00:00Z",
    }
    listing = Listing.objects.get()
    assert (listing.title, listing.price_amount, listing.duration_minutes) == (
        "MOT and interim service",
        9900,
        90,
    )
    assert audit_trail(listing).last().data == {
        "fields": ["attributes", "duration_minutes", "price", "title"]
    }


def test_changing_the_category_revalidates_the_attributes(shop: Shop) -> None:
    # Given a refurbished part in auto-parts
    part = shop.create_ok({**PRODUCT, "attributes": {"condition": "refurbished"}})
    path = f"/listings/{part['id']}"
    before = snapshot()

    # When it is moved to tools-supplies, whose `condition` allows only new or used
    moved = shop.client.patch(path, {"category": "tools-supplies"})

    # Then the move is refused with the attribute's path and nothing changed
    body = assert_problem(moved, 422, "validation_error")
    assert [(e["loc"], e["type"]) for e in body["errors"]] == [
        (["body", "attributes", "condition"], "enum")
    ]
    assert snapshot() == before

    # When it is moved together with attributes that fit, the move succeeds
    fixed = shop.client.patch(
        path, {"category": "tools-supplies", "attributes": {"condition": "used", "brand": "Bosch"}}
    )
    assert fixed.status_code == 200, fixed.content
    assert (fixed.json()["category"], fixed.json()["attributes"]) == (
        "tools-supplies",
        {"condition": "used", "brand": "Bosch"},
    )


def test_a_service_moved_to_a_category_with_a_required_attribute_is_refused(shop: Shop) -> None:
    service = shop.create_ok(SERVICE)
    before = snapshot()

    response = shop.client.patch(f"/listings/{service['id']}", {"category": "auto-parts"})

    assert error_locs(assert_problem(response, 422, "validation_error")) == [["body", "attributes"]]
    assert snapshot() == before


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        ({"attributes": {"mot_class": 4}}, ["body", "attributes", "mot_class"]),
        ({"price": {"amount": 100, "currency": "AUD"}}, ["body", "price", "currency"]),
        ({"price": {"amount": 2**31, "currency": "GBP"}}, ["body", "price", "amount"]),
        ({"price": None}, ["body", "price"]),
        ({"duration_minutes": None}, ["body", "duration_minutes"]),
        ({"status": "deleted"}, ["body", "status"]),
        ({"category": "nope"}, ["body", "category"]),
        ({"title": None}, ["body", "title"]),
        ({"description": None}, ["body", "description"]),
        ({"capacity": None}, ["body", "capacity"]),
        ({"auto_accept": None}, ["body", "auto_accept"]),
        ({"stock": None}, ["body", "stock"]),
        ({"horizon_days": None}, ["body", "horizon_days"]),
    ],
    ids=lambda value: str(value),
)
def test_a_bad_edit_is_422_and_changes_nothing(
    shop: Shop, change: dict[str, Any], loc: list[str]
) -> None:
    service = shop.create_ok(SERVICE)
    before = snapshot()

    response = shop.client.patch(f"/listings/{service['id']}", change)

    assert error_locs(assert_problem(response, 422, "validation_error")) == [loc]
    assert snapshot() == before


def test_a_product_cannot_be_given_a_duration(shop: Shop) -> None:
    product = shop.create_ok(PRODUCT)
    before = snapshot()

    response = shop.client.patch(f"/listings/{product['id']}", {"duration_minutes": 30})

    assert error_locs(assert_problem(response, 422, "validation_error")) == [
        ["body", "duration_minutes"]
    ]
    assert snapshot() == before


# --- variants -----------------------------------------------------------------------------------


def test_products_have_variants_whose_price_falls_back_to_the_listing(
    shop: Shop, anon: ApiClient
) -> None:
    product = shop.create_ok(PRODUCT)
    path = f"/listings/{product['id']}/variants"

    front = shop.client.post(path, {"name": "Front axle", "sku": "BP-F", "stock": 4})
    rear = shop.client.post(
        path, {"name": "Rear axle", "price": {"amount": 2999, "currency": "GBP"}, "stock": 2}
    )

    assert front.status_code == 201, front.content
    assert front.json() == {
        "id": front.json()["id"],
        "name": "Front axle",
        "sku": "BP-F",
        "price": {"amount": 3999, "currency": "GBP"},
        "stock": 4,
        "low_stock_threshold": 0,
        "attributes": {},
    }
    assert rear.json()["price"] == {"amount": 2999, "currency": "GBP"}
    variants = anon.get(f"/listings/{product['id']}").json()["variants"]
    assert [(v["name"], v["price"]["amount"], v["stock"]) for v in variants] == [
        ("Front axle", 3999, 4),
        ("Rear axle", 2999, 2),
    ]
    assert list(ProductVariant.objects.order_by("position").values_list("position", flat=True)) == [
        0,
        1,
    ]

    # and when the listing price changes, a variant without its own price follows it
    shop.client.patch(f"/listings/{product['id']}", {"price": {"amount": 4500, "currency": "GBP"}})
    variants = anon.get(f"/listings/{product['id']}").json()["variants"]
    assert [v["price"]["amount"] for v in variants] == [4500, 2999]


@pytest.mark.parametrize(
    ("listing", "variant", "loc"),
    [
        (SERVICE, {"name": "Large"}, ["body", "listing"]),
        (QUOTE, {"name": "Large"}, ["body", "listing"]),
        (PRODUCT, {"name": "  "}, ["body", "name"]),
        (
            PRODUCT,
            {"name": "EU", "price": {"amount": 1, "currency": "EUR"}},
            ["body", "price", "currency"],
        ),
        (PRODUCT, {"name": "Neg", "stock": -1}, ["body", "payload", "stock"]),
        (PRODUCT, {"name": "Huge", "stock": 2**31}, ["body", "payload", "stock"]),
        (
            PRODUCT,
            {"name": "Dear", "price": {"amount": 2**31, "currency": "GBP"}},
            ["body", "price", "amount"],
        ),
    ],
    ids=[
        "service",
        "quote",
        "blank-name",
        "other-currency",
        "negative-stock",
        "stock-beyond-the-column",
        "price-beyond-the-column",
    ],
)
def test_a_bad_variant_is_422_and_creates_nothing(
    shop: Shop, listing: dict[str, Any], variant: dict[str, Any], loc: list[str]
) -> None:
    created = shop.create_ok(listing)
    before = snapshot()

    response = shop.client.post(f"/listings/{created['id']}/variants", variant)

    assert error_locs(assert_problem(response, 422, "validation_error")) == [loc]
    assert snapshot() == before


# --- images -------------------------------------------------------------------------------------


def test_an_image_is_stored_with_a_thumbnail_and_served_publicly(
    shop: Shop, media_root: Path, anon: ApiClient
) -> None:
    listing = shop.create_ok(SERVICE)
    original = png_bytes((1200, 900), "navy")

    response = multipart(
        shop.client,
        f"/listings/{listing['id']}/images",
        {"file": _upload("front.png", original), "alt": "The workshop"},
    )

    assert response.status_code == 201, response.content
    body = response.json()
    image = ListingImage.objects.get()
    assert body == {
        "id": image.pk,
        "url": f"/media/{image.image.name}",
        "thumbnail_url": f"/media/{image.thumbnail.name}",
        "alt": "The workshop",
        "width": 1200,
        "height": 900,
    }
    assert body["url"].startswith("/media/listings/")
    assert body["thumbnail_url"].startswith("/media/listings/thumbs/")
    # the original is kept as sent, the thumbnail fits in 480×480
    assert (media_root / image.image.name).read_bytes() == original
    with Image.open(media_root / image.thumbnail.name) as thumbnail:
        assert thumbnail.format == "JPEG"
        assert thumbnail.size == (480, 360)
    # both are served under /media/listings/
    browser = Client()
    assert body_of(browser.get(body["url"])) == original
    served_thumbnail = browser.get(body["thumbnail_url"])
    assert served_thumbnail.status_code == 200
    assert body_of(served_thumbnail) == (media_root / image.thumbnail.name).read_bytes()
    # and listed with the listing
    assert anon.get(f"/listings/{listing['id']}").json()["images"] == [body]


def test_deleting_an_image_removes_its_files(shop: Shop, media_root: Path) -> None:
    listing = shop.create_ok(SERVICE)
    image = multipart(
        shop.client, f"/listings/{listing['id']}/images", {"file": _upload("a.png", png_bytes())}
    ).json()
    assert len(stored_files(media_root)) == 2

    response = shop.client.delete(f"/listings/{listing['id']}/images/{image['id']}")
    again = shop.client.delete(f"/listings/{listing['id']}/images/{image['id']}")

    assert response.status_code == 204
    assert_problem(again, 404, "not_found")
    assert ListingImage.objects.count() == 0
    assert stored_files(media_root) == []


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("notes.png", b"this is not an image"),
        ("doc.png", b"%PDF-1.4\n%%EOF\n"),
        ("anim.gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"),
        ("empty.png", b""),
        ("bomb.png", png_bomb()),
    ],
    ids=["text", "pdf", "gif", "empty", "decompression-bomb"],
)
def test_a_non_image_is_422_and_stores_nothing(
    shop: Shop, media_root: Path, name: str, content: bytes
) -> None:
    listing = shop.create_ok(SERVICE)
    before = snapshot()

    response = multipart(
        shop.client, f"/listings/{listing['id']}/images", {"file": _upload(name, content)}
    )

    assert error_locs(assert_problem(response, 422, "validation_error")) == [["file"]]
    assert snapshot() == before
    assert stored_files(media_root) == []


def _upload(name: str, content: bytes) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type="image/png")


# --- search -------------------------------------------------------------------------------------


@dataclass
class Market:
    london: Vendor
    manchester: Vendor
    sydney: Vendor
    ids: dict[str, int]


@pytest.fixture
def market(db: Any) -> Market:
    """Five public listings in three cities, created an hour apart, and three hidden ones."""
    london = VendorFactory(city=_city("london"), name="London Garage")
    manchester = VendorFactory(city=_city("manchester"), name="Manchester Motors")
    sydney = VendorFactory(city=_city("sydney"), currency="AUD", name="Sydney Sparks")
    specs = [
        ("mot", london, "mot-servicing", "service", 5000, "MOT test", (2, 9)),
        ("brakes", london, "car-repairs", "service", 12000, "Brake repair", (1, 3)),
        ("pads", manchester, "auto-parts", "product", 3000, "Brake pads", (0, 0)),
        ("boiler", manchester, "plumbers", "quote", 8000, "Boiler service", (0, 0)),
        ("charger", sydney, "electricians", "service", 20000, "EV charger install", (4, 20)),
    ]
    ids = {}
    for index, (key, vendor, category, kind, price, title, (count, total)) in enumerate(specs):
        ids[key] = ListingFactory(
            vendor=vendor,
            category=Category.objects.get(slug=category),
            kind=kind,
            price_amount=price,
            title=title,
            description=f"{title} by {vendor.name}",
            rating_count=count,
            rating_sum=total,
            created_at=T0 + timedelta(hours=index),
        ).pk
    # not public: a draft, an archived listing, and a suspended vendor's listing
    ListingFactory(vendor=london, status="draft", title="Brake draft", price_amount=1)
    ListingFactory(vendor=london, status="archived", title="Brake archive", price_amount=2)
    ListingFactory(vendor=VendorFactory(status="suspended"), title="Brake hidden", price_amount=3)
    return Market(london=london, manchester=manchester, sydney=sydney, ids=ids)


def _city(slug: str) -> Any:
    from agora.catalog.models import City

    return City.objects.get(slug=slug)


def search(market: Market, **params: Any) -> list[str]:
    response = ApiClient().get("/listings", **params)
    assert response.status_code == 200, response.content
    names = {pk: key for key, pk in market.ids.items()}
    return [names[item["id"]] for item in response.json()["items"]]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["charger", "boiler", "pads", "brakes", "mot"]),
        ({"category": "automotive"}, ["pads", "brakes", "mot"]),
        ({"category": "mot-servicing"}, ["mot"]),
        ({"category": "home-services"}, ["charger", "boiler"]),
        ({"category": "no-such-category"}, []),
        ({"city": "manchester"}, ["boiler", "pads"]),
        ({"kind": "product"}, ["pads"]),
        ({"kind": "quote"}, ["boiler"]),
        ({"min_price": 5000, "max_price": 12000}, ["boiler", "brakes", "mot"]),
        ({"min_price": 12001}, ["charger"]),
        ({"q": "brake"}, ["pads", "brakes"]),
        ({"q": "MANCHESTER"}, ["boiler", "pads"]),
        ({"min_rating": 4.5}, ["charger", "mot"]),
        ({"min_rating": 3}, ["charger", "brakes", "mot"]),
        ({"lat": 51.5074, "lng": -0.1278, "radius_km": 25}, ["brakes", "mot"]),
        ({"lat": 53.4808, "lng": -2.2426, "radius_km": 10}, ["boiler", "pads"]),
        ({"lat": 52.5, "lng": -1.9, "radius_km": 250}, ["boiler", "pads", "brakes", "mot"]),
        ({"sort": "price_asc"}, ["pads", "mot", "boiler", "brakes", "charger"]),
        ({"sort": "price_desc"}, ["charger", "brakes", "boiler", "mot", "pads"]),
        ({"sort": "newest"}, ["charger", "boiler", "pads", "brakes", "mot"]),
        ({"category": "automotive", "sort": "price_desc"}, ["brakes", "mot", "pads"]),
        ({"city": "london", "q": "mot", "kind": "service"}, ["mot"]),
    ],
    ids=lambda value: str(value),
)
def test_search_filters_and_sorts_public_listings(
    market: Market, params: dict[str, Any], expected: list[str]
) -> None:
    assert search(market, **params) == expected


def test_the_vendor_filter(market: Market) -> None:
    assert search(market, vendor=market.london.pk) == ["brakes", "mot"]


@pytest.mark.parametrize(
    ("params", "loc"),
    [
        ({"sort": "cheapest"}, ["query", "sort"]),
        ({"radius_km": 10}, ["query", "radius_km"]),
        ({"radius_km": 10, "lat": 51.5}, ["query", "radius_km"]),
        ({"cursor": "forged"}, ["query", "cursor"]),
        ({"lat": "nan", "lng": 0, "radius_km": 5}, ["query", "lat"]),
        ({"lat": 51.5, "lng": "-inf", "radius_km": 5}, ["query", "lng"]),
        ({"lat": 51.5, "lng": 0, "radius_km": "inf"}, ["query", "radius_km"]),
    ],
    ids=lambda value: str(value),
)
def test_bad_search_parameters_are_422(
    market: Market, params: dict[str, Any], loc: list[str]
) -> None:
    body = assert_problem(ApiClient().get("/listings", **params), 422, "validation_error")

    assert error_locs(body) == [loc]


def test_a_non_numeric_price_filter_is_422(market: Market) -> None:
    body = assert_problem(ApiClient().get("/listings", min_price="cheap"), 422, "validation_error")

    assert error_locs(body)[0][0] == "query"
    assert error_locs(body)[0][-1] == "min_price"


@pytest.mark.parametrize("sort", ["newest", "price_asc", "price_desc"])
def test_cursor_pagination_walks_every_result_exactly_once(market: Market, sort: str) -> None:
    everything = search(market, sort=sort)
    seen: list[str] = []
    cursor = None
    names = {pk: key for key, pk in market.ids.items()}
    for _ in range(10):
        params = {"sort": sort, "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = ApiClient().get("/listings", **params).json()
        seen += [names[item["id"]] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen == everything
    assert len(seen) == 5


def test_a_cursor_from_one_sort_is_refused_by_another(market: Market) -> None:
    cursor = ApiClient().get("/listings", sort="price_asc", limit=2).json()["next_cursor"]

    response = ApiClient().get("/listings", sort="newest", cursor=cursor)

    assert_problem(response, 422, "validation_error")


def test_facets_count_every_match_not_just_the_page(market: Market) -> None:
    everything = ApiClient().get("/listings", limit=1).json()
    automotive = ApiClient().get("/listings", category="automotive", limit=1).json()

    assert len(everything["items"]) == 1
    assert (everything["total"], everything["total_is_estimate"]) == (5, False)
    assert everything["facets"] == {
        "kind": {"service": 3, "product": 1, "quote": 1},
        # A category counts its own listings and its descendants'.
        "category": {
            "automotive": 3,
            "home-services": 2,
            "mot-servicing": 1,
            "car-repairs": 1,
            "auto-parts": 1,
            "plumbers": 1,
            "electricians": 1,
        },
        "city": {"london": 2, "manchester": 2, "sydney": 1},
        "price_band": {"25-50": 1, "50-100": 2, "100-250": 2},
        # Listings rated at least that many stars on average (4.5, 3.0 and 5.0 here).
        "rating": {"4": 2, "3": 3, "2": 3, "1": 3},
    }
    assert automotive["total"] == 3
    assert automotive["facets"] == {
        "kind": {"service": 2, "product": 1},
        "category": {"automotive": 3, "mot-servicing": 1, "car-repairs": 1, "auto-parts": 1},
        "city": {"london": 2, "manchester": 1},
        "price_band": {"25-50": 1, "50-100": 1, "100-250": 1},
        "rating": {"4": 1, "3": 2, "2": 2, "1": 2},
    }


# --- query counts -------------------------------------------------------------------------------

MAX_LIST_QUERIES = 10


def stock_vendor(vendor: Vendor, count: int) -> None:
    """`count` active listings, each with two images and two variants."""
    for index in range(count):
        listing = ListingFactory(vendor=vendor, kind="product", stock=3, title=f"Part {index}")
        ListingImageFactory.create_batch(2, listing=listing)
        ProductVariantFactory.create_batch(2, listing=listing)


def queries_for(client: ApiClient, path: str, expected_items: int) -> int:
    with CaptureQueriesContext(connection) as context:
        response = client.get(path, limit=100)
    assert response.status_code == 200, response.content
    assert len(response.json()["items"]) == expected_items
    return len(context.captured_queries)


@pytest.mark.parametrize("caller", ["anonymous", "staff"])
@pytest.mark.parametrize("path", ["/listings", "/vendors/{vendor_id}/listings"])
def test_listing_lists_take_a_bounded_number_of_queries(
    django_assert_max_num_queries: Any, caller: str, path: str
) -> None:
    owner = UserFactory()
    vendor = VendorFactory(owner=owner)
    client = ApiClient() if caller == "anonymous" else client_for(owner)
    path = path.format(vendor_id=vendor.pk)

    stock_vendor(vendor, 5)
    with django_assert_max_num_queries(MAX_LIST_QUERIES):
        few = queries_for(client, path, 5)
    stock_vendor(vendor, 25)
    with django_assert_max_num_queries(MAX_LIST_QUERIES):
        many = queries_for(client, path, 30)

    assert many == few
