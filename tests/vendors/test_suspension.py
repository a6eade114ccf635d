"""Suspending a vendor hides it and every listing of it at once; reinstating brings them back.

API.md "Vendors" (GET /vendors/{id} is 404 unless active) and "Catalog" (public listings are
those of active vendors only).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from agora.catalog.models import Listing
from agora.vendors.models import Vendor
from tests.conftest import ApiClient, assert_problem
from tests.factories import ListingFactory, UserFactory, VendorFactory
from tests.vendors.helpers import client_for

pytestmark = pytest.mark.django_db


@dataclass
class Shop:
    vendor: Vendor
    listings: list[Listing]
    other: Listing
    owner: ApiClient


@pytest.fixture
def shop(db: Any) -> Shop:
    owner = UserFactory()
    vendor = VendorFactory(owner=owner)
    listings = [
        ListingFactory(vendor=vendor, title="Full service"),
        ListingFactory(vendor=vendor, kind="product", title="Brake pads", stock=4),
    ]
    # another vendor's listing, untouched by the suspension
    other = ListingFactory(title="Elsewhere")
    return Shop(vendor=vendor, listings=listings, other=other, owner=client_for(owner))


def public_ids(client: ApiClient, path: str, **params: Any) -> list[int]:
    response = client.get(path, **params)
    assert response.status_code == 200, response.content
    return sorted(item["id"] for item in response.json()["items"])


def test_suspension_hides_the_vendor_and_all_its_listings_and_reinstating_restores_them(
    shop: Shop, anon: ApiClient, as_operator: ApiClient
) -> None:
    vendor_id = shop.vendor.pk
    own_ids = sorted(listing.pk for listing in shop.listings)
    customer = client_for(UserFactory())
    # Given everything is public
    assert public_ids(anon, "/listings") == sorted([*own_ids, shop.other.pk])
    assert public_ids(anon, f"/vendors/{vendor_id}/listings") == own_ids

    # When an operator suspends the vendor
    response = as_operator.post(f"/operator/vendors/{vendor_id}/suspend", {"reason": "fraud"})
    assert response.json()["status"] == "suspended"

    # Then the public (anonymous or signed in) sees neither the vendor nor any listing of it
    for public in (anon, customer):
        assert_problem(public.get(f"/vendors/{vendor_id}"), 404, "not_found")
        assert public_ids(public, "/listings") == [shop.other.pk]
        assert public_ids(public, "/listings", vendor=vendor_id) == []
        assert public_ids(public, f"/vendors/{vendor_id}/listings") == []
        assert public_ids(public, "/vendors") == [shop.other.vendor_id]
        for listing_id in own_ids:
            assert_problem(public.get(f"/listings/{listing_id}"), 404, "not_found")
            assert_problem(public.get(f"/listings/{listing_id}/price"), 404, "not_found")
    # and the facets count nothing of it
    facets = anon.get("/listings").json()["facets"]
    assert facets["kind"] == {"service": 1}
    # while the listings themselves are untouched (still "active", not rewritten)
    assert sorted(Listing.objects.filter(vendor=shop.vendor).values_list("status", flat=True)) == [
        "active",
        "active",
    ]

    # and its own staff and operators still see the vendor and its listings
    assert shop.owner.get(f"/vendors/{vendor_id}").json()["status"] == "suspended"
    assert as_operator.get(f"/vendors/{vendor_id}").json()["status"] == "suspended"
    assert public_ids(shop.owner, f"/vendors/{vendor_id}/listings") == own_ids
    for listing_id in own_ids:
        assert shop.owner.get(f"/listings/{listing_id}").status_code == 200
        assert as_operator.get(f"/listings/{listing_id}").status_code == 200

    # When the operator reinstates the vendor
    response = as_operator.post(f"/operator/vendors/{vendor_id}/reinstate")
    assert response.json()["status"] == "active"

    # Then everything is public again
    assert anon.get(f"/vendors/{vendor_id}").json()["status"] == "active"
    assert public_ids(anon, "/listings") == sorted([*own_ids, shop.other.pk])
    assert public_ids(anon, f"/vendors/{vendor_id}/listings") == own_ids
    for listing_id in own_ids:
        assert anon.get(f"/listings/{listing_id}").json()["id"] == listing_id


def test_a_suspended_vendor_stays_hidden_however_its_listings_are_searched(
    shop: Shop, anon: ApiClient, as_operator: ApiClient
) -> None:
    searches: list[dict[str, Any]] = [
        {"category": "automotive"},
        {"city": "london"},
        {"kind": "product"},
        {"q": "Brake"},
        {"min_price": 0, "max_price": 100000},
        {"sort": "price_asc"},
        {"lat": 51.5074, "lng": -0.1278, "radius_km": 50},
    ]
    own = {listing.pk for listing in shop.listings}
    # Given each search finds some of the vendor's listings while it is active
    for params in searches:
        assert own & set(public_ids(anon, "/listings", **params)), params

    # When the vendor is suspended, no search finds any of them
    response = as_operator.post(f"/operator/vendors/{shop.vendor.pk}/suspend", {"reason": "fraud"})
    assert response.json()["status"] == "suspended"
    for params in searches:
        assert own.isdisjoint(public_ids(anon, "/listings", **params)), params


def test_a_pending_vendors_listings_are_not_public_either(anon: ApiClient) -> None:
    vendor = VendorFactory(status="pending")
    listing = ListingFactory(vendor=vendor)

    assert public_ids(anon, "/listings") == []
    assert public_ids(anon, f"/vendors/{vendor.pk}/listings") == []
    assert_problem(anon.get(f"/listings/{listing.pk}"), 404, "not_found")
