"""Listings and vendors as the public pages show them: prices as people write them,
ratings, thumbnails and links — computed once here so templates stay plain."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from agora.catalog.models import Listing, ListingKind
from agora.vendors.models import Vendor
from agora.web.public.seo import listing_path, price_text, vendor_path

KIND_LABELS = {
    ListingKind.SERVICE: "Bookable service",
    ListingKind.PRODUCT: "Product",
    ListingKind.QUOTE: "On quote",
}


@dataclass(frozen=True)
class Rating:
    count: int
    average: float | None

    @classmethod
    def of(cls, count: int, total: int) -> Rating:
        return cls(count=count, average=round(total / count, 1) if count else None)

    @property
    def stars(self) -> str:
        """A text rendering of the stars for sighted readers (screen readers get the label)."""
        if self.average is None:
            return ""
        full = int(self.average + 0.5)
        return "★" * full + "☆" * (5 - full)

    @property
    def label(self) -> str:
        if self.average is None:
            return "No reviews yet"
        noun = "review" if self.count == 1 else "reviews"
        return f"Rated {self.average:.1f} out of 5 from {self.count} {noun}"


@dataclass(frozen=True)
class Image:
    url: str
    alt: str
    width: int
    height: int


@dataclass(frozen=True)
class ListingCard:
    listing: Listing
    url: str
    price: str
    from_price: bool
    kind_label: str
    vendor_name: str
    vendor_url: str
    city_name: str
    rating: Rating
    image: Image | None
    # From a search: how far away (with a place) and when next free (with a window).
    distance_km: float | None = None
    next_available: datetime | None = None


def listing_card(
    listing: Listing, *, distance_km: float | None = None, next_available: datetime | None = None
) -> ListingCard:
    """Needs the listing's vendor, vendor city and images loaded (catalog selectors do)."""
    images = list(listing.images.all())
    image = None
    if images:
        first = images[0]
        image = Image(
            url=(first.thumbnail or first.image).url,
            alt=first.alt or listing.title,
            width=first.width,
            height=first.height,
        )
    vendor = listing.vendor
    return ListingCard(
        listing=listing,
        url=listing_path(listing),
        price=price_text(listing.price),
        from_price=listing.kind == ListingKind.QUOTE,
        kind_label=KIND_LABELS.get(ListingKind(listing.kind), listing.kind),
        vendor_name=vendor.name,
        vendor_url=vendor_path(vendor),
        city_name=vendor.city.name if vendor.city else "",
        rating=Rating.of(listing.rating_count, listing.rating_sum),
        image=image,
        distance_km=distance_km,
        next_available=next_available,
    )


@dataclass(frozen=True)
class VendorCard:
    vendor: Vendor
    url: str
    city_name: str
    rating: Rating


def vendor_card(vendor: Vendor) -> VendorCard:
    return VendorCard(
        vendor=vendor,
        url=vendor_path(vendor),
        city_name=vendor.city.name if vendor.city else "",
        rating=Rating.of(vendor.rating_count, vendor.rating_sum),
    )
