"""The public read paths the reads benchmark drives (bench/reads.py): a listing's detail
and a vendor's profile over the API, and their public pages. A constant number of queries
whatever the listing carries (images, variants), and cache headers that let browsers and
shared caches keep an anonymous answer for a minute — never a staff member's view of what
the public cannot see."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import (
    ListingFactory,
    ListingImageFactory,
    ProductFactory,
    ProductVariantFactory,
    UserFactory,
    VendorFactory,
)
from tests.vendors.helpers import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(media_root: Any) -> Any:
    owner = UserFactory()
    vendor = VendorFactory(owner=owner, name="Reads Garage")
    product = ProductFactory(vendor=vendor, title="Brake pads", stock=5)
    service = ListingFactory(vendor=vendor, title="MOT test")
    draft = ListingFactory(vendor=vendor, title="Secret", status="draft")
    return owner, vendor, product, service, draft


def add_images_and_variants(product: Any, count: int) -> None:
    for n in range(count):
        ProductVariantFactory(listing=product, name=f"Size {n}", stock=2)
        ListingImageFactory(listing=product)


@pytest.mark.parametrize("extras", [0, 6])
def test_listing_detail_is_three_queries_however_many_images_and_variants(
    client: Any, shop: Any, django_assert_max_num_queries: Any, extras: int
) -> None:
    _, _, product, _, _ = shop
    add_images_and_variants(product, extras)

    with django_assert_max_num_queries(3):  # listing + vendor + city + category, images, variants
        response = client.get(f"/api/v1/listings/{product.pk}")

    assert response.status_code == 200
    body = response.json()
    assert body["title"] == "Brake pads"
    assert body["vendor"]["name"] == "Reads Garage"
    assert len(body["variants"]) == extras
    assert len(body["images"]) == extras
    assert response["Cache-Control"] == "public, max-age=60"
    assert "Authorization" in response["Vary"]


def test_vendor_detail_is_one_query_and_cacheable(
    client: Any, shop: Any, django_assert_max_num_queries: Any
) -> None:
    _, vendor, *_ = shop

    with django_assert_max_num_queries(1):
        response = client.get(f"/api/v1/vendors/{vendor.pk}")

    assert response.status_code == 200
    assert response.json()["name"] == "Reads Garage"
    assert response["Cache-Control"] == "public, max-age=60"
    assert "Authorization" in response["Vary"]


def test_what_staff_see_with_their_token_is_never_publicly_cacheable(shop: Any) -> None:
    owner, vendor, _, _, draft = shop
    staff = client_for(owner)

    draft_view = staff.get(f"/listings/{draft.pk}")
    vendor_view = staff.get(f"/vendors/{vendor.pk}")

    assert draft_view.status_code == 200
    assert draft_view.json()["title"] == "Secret"
    for response in (draft_view, vendor_view):
        assert "private" in response["Cache-Control"]
        assert "no-cache" in response["Cache-Control"]
        assert "public" not in response["Cache-Control"]
        assert "Authorization" in response["Vary"]


def test_a_hidden_listing_is_404_to_the_public_and_not_cached_as_public(
    client: Any, shop: Any
) -> None:
    *_, draft = shop

    response = client.get(f"/api/v1/listings/{draft.pk}")

    assert response.status_code == 404
    assert "public" not in response.get("Cache-Control", "")


@pytest.mark.parametrize("extras", [0, 6])
def test_the_public_pages_the_benchmark_reads_cost_a_constant_number_of_queries(
    client: Any, shop: Any, django_assert_max_num_queries: Any, extras: int
) -> None:
    _, vendor, product, service, _ = shop
    add_images_and_variants(product, extras)

    for path, needle in (
        (f"/l/{product.pk}/", "Brake pads"),
        (f"/l/{service.pk}/", "MOT test"),
        (f"/v/{vendor.slug}/", "Reads Garage"),
    ):
        with django_assert_max_num_queries(7):
            response = client.get(path)
        assert response.status_code == 200, path
        assert needle in response.content.decode()
