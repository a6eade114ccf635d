"""`agora demo --listings N`: synthetic listings at scale, for search benchmarks.

Listings are spread over the demo's categories and cities, sold by synthetic vendors (one
per 250 listings, placed around each city) that open like the demo's garages, with titles
built from each category's vocabulary, realistic prices and ratings. Rows go in with
bulk inserts in batches, search documents with them (no per-row signals), so a million
listings take minutes, not hours.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils.text import slugify

from agora.bookings.models import VendorSchedule
from agora.catalog.models import Category, City, Listing, ListingKind
from agora.core import clock
from agora.search import documents
from agora.vendors.models import Vendor, VendorStatus

BATCH = 5_000
LISTINGS_PER_VENDOR = 250

# Per root category: title stems, trades (vendor names) and price range in minor units.
VOCABULARY: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[int, int]]] = {
    "automotive": (
        (
            "MOT test",
            "Full service",
            "Interim service",
            "Brake pads and discs",
            "Clutch replacement",
            "Tyre fitting",
            "Wheel alignment",
            "Engine diagnostics",
            "Air conditioning regas",
            "Timing belt replacement",
            "Battery replacement",
            "Exhaust repair",
            "Oil change",
            "Cambelt kit",
            "Suspension repair",
            "Windscreen chip repair",
            "EV battery health check",
        ),
        ("Garage", "Motors", "Autocentre", "Tyres", "Car Care", "Mechanics"),
        (2_500, 90_000),
    ),
    "home-services": (
        (
            "Leak repair",
            "Boiler service",
            "Bathroom installation",
            "Fuse box upgrade",
            "EV charger installation",
            "Full house rewire",
            "Radiator bleed",
            "Emergency call-out",
            "Electrical safety inspection",
            "Tap replacement",
            "Deep clean",
            "End of tenancy clean",
            "Gutter clearing",
            "Lock change",
            "Shelf fitting",
            "Interior painting",
            "Lawn mowing",
        ),
        ("Plumbing", "Electrical", "Heating", "Cleaning", "Handyman", "Property Care"),
        (3_000, 450_000),
    ),
}
DEFAULT_VOCABULARY = VOCABULARY["home-services"]
QUALIFIERS = (
    "",
    "",
    "",
    "same day",
    "weekend",
    "premium",
    "express",
    "standard",
    "family",
    "commercial",
    "eco",
    "budget",
    "certified",
    "24/7",
)
PLACES = (
    "North",
    "South",
    "East",
    "West",
    "Central",
    "Riverside",
    "Park",
    "Station",
    "High Street",
)
WEEKLY = {day: [["08:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")} | {
    "sat": [["09:00", "13:00"]]
}


@dataclass(frozen=True)
class Loaded:
    listings: int
    vendors: int
    seconds: float


def _root(category: Category, by_id: dict[int, Category]) -> Category:
    while category.parent_id is not None and category.parent_id in by_id:
        category = by_id[category.parent_id]
    return category


def _vendors(count: int, cities: list[City], rng: random.Random, stamp: str) -> list[Vendor]:
    now = clock.now()
    vendors = []
    for index in range(count):
        city = cities[index % len(cities)]
        trade = rng.choice(("Garage", "Motors", "Plumbing", "Electrical", "Cleaning", "Handyman"))
        name = f"{rng.choice(PLACES)} {city.name} {trade} {index + 1}"
        vendors.append(
            Vendor(
                name=name,
                slug=f"{slugify(name)}-{stamp}",
                city=city,
                lat=round(float(city.lat) + rng.uniform(-0.15, 0.15), 6),
                lng=round(float(city.lng) + rng.uniform(-0.25, 0.25), 6),
                timezone=city.timezone,
                currency="AUD" if city.country == "AU" else "GBP",
                postcode="",
                status=VendorStatus.ACTIVE,
                approved_at=now,
                vertical="synthetic",
            )
        )
    created = Vendor.objects.bulk_create(vendors, batch_size=1_000)
    VendorSchedule.objects.bulk_create(
        [VendorSchedule(vendor=v, weekly=WEEKLY) for v in created], batch_size=1_000
    )
    return created


def _listing(
    rng: random.Random,
    vendor: Vendor,
    category: Category,
    vocabulary: tuple[tuple[str, ...], tuple[str, ...], tuple[int, int]],
    created_at: datetime,
) -> Listing:
    stems, _trades, (low, high) = vocabulary
    qualifier = rng.choice(QUALIFIERS)
    title = (
        f"{qualifier.capitalize()} {rng.choice(stems).lower()}".strip()
        if qualifier
        else rng.choice(stems)
    )
    kind = rng.choices(
        (ListingKind.SERVICE, ListingKind.PRODUCT, ListingKind.QUOTE), weights=(70, 20, 10)
    )[0]
    reviews = rng.choice((0, 0, 1, 2, 5, 12, 40, 150))
    stars = rng.uniform(3.2, 5.0)
    return Listing(
        vendor=vendor,
        category=category,
        kind=kind,
        title=title[:200],
        description=f"{title} by {vendor.name}, {category.name.lower()} in {vendor.city.name if vendor.city else ''}.",
        price_amount=int(rng.uniform(low, high) // 100 * 100 + 99),
        currency=vendor.currency,
        duration_minutes=rng.choice((30, 60, 90, 120)) if kind == ListingKind.SERVICE else None,
        min_notice_minutes=60,
        stock=rng.randint(0, 40) if kind == ListingKind.PRODUCT else 0,
        rating_count=reviews,
        rating_sum=round(reviews * stars),
        created_at=created_at,
        updated_at=created_at,
    )


def load(
    count: int, *, seed: int = 7, progress: Callable[[int, int], None] | None = None
) -> Loaded:
    """Add `count` active listings (and their vendors and search documents)."""
    started = time.monotonic()
    rng = random.Random(seed + Listing.objects.count())
    categories = list(Category.objects.all())
    by_id = {c.pk: c for c in categories}
    leaves = [c for c in categories if not any(o.parent_id == c.pk for o in categories)]
    cities = list(City.objects.order_by("pk"))
    if not leaves or not cities:
        raise ValueError("Load the demo (or a category tree and cities) first.")
    stamp = f"{rng.randrange(16**6):06x}"
    with transaction.atomic():
        vendors = _vendors(max(1, count // LISTINGS_PER_VENDOR), cities, rng, stamp)
    for vendor in vendors:
        vendor.city = next(c for c in cities if c.pk == vendor.city_id)
    now = clock.now()
    cities_by_id = {c.pk: c for c in cities}
    done = 0
    while done < count:
        size = min(BATCH, count - done)
        batch = []
        for offset in range(size):
            vendor = vendors[(done + offset) % len(vendors)]
            category = rng.choice(leaves)
            vocabulary = VOCABULARY.get(_root(category, by_id).slug, DEFAULT_VOCABULARY)
            created_at = now - timedelta(minutes=rng.randrange(0, 525_600))
            batch.append(_listing(rng, vendor, category, vocabulary, created_at))
        with transaction.atomic():
            created = Listing.objects.bulk_create(batch)
            documents.save(
                [
                    documents.build(
                        listing,
                        vendor=listing.vendor,
                        chain=documents.chain_of(listing.category_id, by_id),
                        cities=cities_by_id,
                    )
                    for listing in created
                ]
            )
        done += size
        if progress:
            progress(done, count)
    return Loaded(listings=count, vendors=len(vendors), seconds=time.monotonic() - started)
