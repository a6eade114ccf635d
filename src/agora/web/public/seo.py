"""What search engines read: breadcrumbs, schema.org JSON-LD, prices as they print.

Builders return plain dicts; `jsonld` turns one into a `<script type="application/ld+json">`
element whose JSON cannot close the element early (a vendor called `</script>` stays text).
The CSP allows it: a JSON-LD block is data, never executed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString

from agora.catalog.models import Category, City, Listing, ListingKind
from agora.core.money import CURRENCY_EXPONENTS, Money
from agora.vendors.models import Vendor

# The same escapes as Django's json_script: <, > and & become \u escapes, so the text can
# neither end the script element nor open a comment; JSON parsers read them back unchanged.
_JSON_SCRIPT_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}

CURRENCY_SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$", "AUD": "A$", "CAD": "C$", "NZD": "NZ$"}

# schema.org types by vendor vertical; a more specific one is picked below when the
# vendor's listings tell us more (a parts shop is a store, not a garage).
VENDOR_TYPES = {"automotive": "AutoRepair", "home-services": "HomeAndConstructionBusiness"}
CATEGORY_VENDOR_TYPES = {
    "electricians": "Electrician",
    "plumbers": "Plumber",
    "auto-parts": "AutoPartsStore",
    "tools-supplies": "HardwareStore",
}


def jsonld(data: dict[str, Any]) -> SafeString:
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":")).translate(
        _JSON_SCRIPT_ESCAPES
    )
    return format_html('<script type="application/ld+json">{}</script>', SafeString(text))


def price_text(money: Money) -> str:
    """`£54.85`, `A$120.00`; unknown symbols fall back to `54.85 CHF`."""
    exponent = CURRENCY_EXPONENTS[money.currency]
    major, minor = divmod(abs(money.amount), 10**exponent) if exponent else (money.amount, 0)
    number = f"{major:,}.{minor:0{exponent}d}" if exponent else f"{major:,}"
    sign = "-" if money.amount < 0 else ""
    symbol = CURRENCY_SYMBOLS.get(money.currency)
    return f"{sign}{symbol}{number}" if symbol else f"{sign}{number} {money.currency}"


def price_decimal(money: Money) -> str:
    """The price as schema.org wants it: a plain decimal string, `54.85`."""
    exponent = CURRENCY_EXPONENTS[money.currency]
    if not exponent:
        return str(money.amount)
    major, minor = divmod(money.amount, 10**exponent)
    return f"{major}.{minor:0{exponent}d}"


@dataclass(frozen=True)
class Crumb:
    name: str
    path: str


def home_crumb() -> Crumb:
    return Crumb("Home", "/")


def category_crumbs(chain: list[Category], city: City | None = None) -> list[Crumb]:
    crumbs = [home_crumb()]
    crumbs += [Crumb(node.name, category_path(node)) for node in chain]
    if city is not None and chain:
        crumbs.append(Crumb(f"{chain[-1].name} in {city.name}", category_path(chain[-1], city)))
    return crumbs


def category_path(category: Category, city: City | None = None) -> str:
    return f"/c/{category.slug}/{city.slug}/" if city else f"/c/{category.slug}/"


def vendor_path(vendor: Vendor) -> str:
    return f"/v/{vendor.slug}/"


def listing_path(listing: Listing) -> str:
    return f"/l/{listing.pk}/"


def absolute(request: HttpRequest, path: str) -> str:
    return request.build_absolute_uri(path)


def breadcrumb_list(request: HttpRequest, crumbs: list[Crumb]) -> dict[str, Any]:
    return {
        "@context": "https://schema.org",
        "@type": "BreadcrumbList",
        "itemListElement": [
            {
                "@type": "ListItem",
                "position": index,
                "name": crumb.name,
                "item": absolute(request, crumb.path),
            }
            for index, crumb in enumerate(crumbs, start=1)
        ],
    }


def aggregate_rating(count: int, total: int) -> dict[str, Any] | None:
    if not count:
        return None
    return {
        "@type": "AggregateRating",
        "ratingValue": f"{total / count:.2f}",
        "reviewCount": count,
        "bestRating": 5,
        "worstRating": 1,
    }


def vendor_schema_type(
    vendor: Vendor, category_slugs: set[str] | frozenset[str] = frozenset()
) -> str:
    # Specific only when every listing agrees: a garage that also sells parts stays a garage.
    specific = {CATEGORY_VENDOR_TYPES.get(slug) for slug in category_slugs}
    if len(specific) == 1 and None not in specific:
        return str(specific.pop())
    return VENDOR_TYPES.get(vendor.vertical, "LocalBusiness")


def _address(vendor: Vendor) -> dict[str, Any]:
    address: dict[str, Any] = {"@type": "PostalAddress"}
    if vendor.address:
        address["streetAddress"] = vendor.address
    if vendor.city is not None:
        address["addressLocality"] = vendor.city.name
        address["addressCountry"] = vendor.city.country
    if vendor.postcode:
        address["postalCode"] = vendor.postcode
    return address


def vendor_node(
    request: HttpRequest,
    vendor: Vendor,
    *,
    category_slugs: set[str] | frozenset[str] = frozenset(),
    rating: tuple[int, int] | None = None,
) -> dict[str, Any]:
    """The vendor as a schema.org LocalBusiness (or a more specific type)."""
    url = absolute(request, vendor_path(vendor))
    node: dict[str, Any] = {
        "@type": vendor_schema_type(vendor, category_slugs),
        "@id": f"{url}#business",
        "name": vendor.name,
        "url": url,
        "address": _address(vendor),
    }
    if vendor.description:
        node["description"] = vendor.description
    if vendor.lat is not None and vendor.lng is not None:
        node["geo"] = {
            "@type": "GeoCoordinates",
            "latitude": float(vendor.lat),
            "longitude": float(vendor.lng),
        }
    if vendor.contact_phone:
        node["telephone"] = vendor.contact_phone
    if vendor.opening_summary:
        node["openingHours"] = vendor.opening_summary
    if vendor.logo:
        node["logo"] = absolute(request, vendor.logo.url)
    count, total = rating if rating is not None else (vendor.rating_count, vendor.rating_sum)
    if (aggregate := aggregate_rating(count, total)) is not None:
        node["aggregateRating"] = aggregate
    return node


def listing_node(
    request: HttpRequest,
    listing: Listing,
    *,
    in_stock: bool,
    rating: tuple[int, int] | None = None,
) -> dict[str, Any]:
    """A product as schema.org Product, a service or quote job as Service; each with an
    Offer (an AggregateOffer over priced variants) and its AggregateRating when rated."""
    url = absolute(request, listing_path(listing))
    seller = {
        "@type": vendor_schema_type(listing.vendor, {listing.category.slug}),
        "@id": absolute(request, vendor_path(listing.vendor)) + "#business",
        "name": listing.vendor.name,
        "url": absolute(request, vendor_path(listing.vendor)),
    }
    is_product = listing.kind == ListingKind.PRODUCT
    node: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Product" if is_product else "Service",
        "@id": f"{url}#offer-item",
        "name": listing.title,
        "url": url,
        "category": listing.category.name,
    }
    if listing.description:
        node["description"] = listing.description
    images = [absolute(request, image.image.url) for image in listing.images.all()]
    if images:
        node["image"] = images
    if is_product:
        if listing.sku:
            node["sku"] = listing.sku
    else:
        node["provider"] = seller
        node["serviceType"] = listing.category.name
        if listing.vendor.city is not None:
            node["areaServed"] = {"@type": "City", "name": listing.vendor.city.name}
    node["offers"] = _offer(listing, url=url, seller=seller, in_stock=in_stock)
    count, total = rating if rating is not None else (listing.rating_count, listing.rating_sum)
    if (aggregate := aggregate_rating(count, total)) is not None:
        node["aggregateRating"] = aggregate
    return node


def _offer(listing: Listing, *, url: str, seller: dict[str, Any], in_stock: bool) -> dict[str, Any]:
    availability = "https://schema.org/InStock" if in_stock else "https://schema.org/OutOfStock"
    base = listing.price
    variants = list(listing.variants.all()) if listing.kind == ListingKind.PRODUCT else []
    if variants:
        prices = [Money(v.price_amount or base.amount, base.currency) for v in variants]
        low, high = min(prices, key=lambda m: m.amount), max(prices, key=lambda m: m.amount)
        return {
            "@type": "AggregateOffer",
            "lowPrice": price_decimal(low),
            "highPrice": price_decimal(high),
            "offerCount": len(variants),
            "priceCurrency": base.currency,
            "availability": availability,
            "url": url,
            "seller": seller,
        }
    offer: dict[str, Any] = {
        "@type": "Offer",
        "price": price_decimal(base),
        "priceCurrency": base.currency,
        "url": url,
        "seller": seller,
        "availability": availability,
    }
    if listing.kind == ListingKind.QUOTE:
        # A quote job's price is where quotes start, not what the customer will pay.
        offer["priceSpecification"] = {
            "@type": "PriceSpecification",
            "minPrice": price_decimal(base),
            "priceCurrency": base.currency,
        }
    return offer


def graph(*nodes: dict[str, Any]) -> dict[str, Any]:
    """Several nodes in one JSON-LD document."""
    return {
        "@context": "https://schema.org",
        "@graph": [{k: v for k, v in node.items() if k != "@context"} for node in nodes],
    }
