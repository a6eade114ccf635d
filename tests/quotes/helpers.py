"""A small marketplace of plumbers around London for the quote tests, and read-outs."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Model

from agora.accounts.models import User
from agora.bookings.models import Booking
from agora.catalog.models import Category, Listing
from agora.core.models import AuditLog
from agora.notifications.models import Event
from agora.payments.models import Payment, SandboxCharge
from agora.quotes.models import Invitation, Quote, QuoteRequest, QuoteRevision, VendorQuoteStats
from agora.vendors.models import Vendor
from tests.conftest import ApiClient
from tests.factories import ListingFactory, UserFactory, VendorFactory, VendorScheduleFactory
from tests.vendors.helpers import client_for, snapshot

# A Monday; London is on UTC in winter.
NOW = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
LONDON = (51.5074, -0.1278)

QUOTE_MODELS: tuple[type[Model], ...] = (
    QuoteRequest,
    Invitation,
    Quote,
    QuoteRevision,
    VendorQuoteStats,
    Booking,
    Payment,
    SandboxCharge,
    AuditLog,
    Event,
)


def rows() -> dict[str, list[dict[str, Any]]]:
    return snapshot(*QUOTE_MODELS)


def offset(km_north: float, km_east: float = 0.0) -> tuple[Decimal, Decimal]:
    """A point `km_north` and `km_east` of central London (small distances)."""
    import math

    lat = LONDON[0] + km_north / 111.0
    lng = LONDON[1] + km_east / (111.0 * math.cos(math.radians(LONDON[0])))
    return Decimal(f"{lat:.6f}"), Decimal(f"{lng:.6f}")


@dataclass
class Shop:
    vendor: Vendor
    listing: Listing
    owner: User
    client: ApiClient


@dataclass
class Market:
    customer: User
    other_customer: User
    as_customer: ApiClient
    as_other_customer: ApiClient
    shops: dict[str, Shop] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Shop:
        return self.shops[name]


def make_shop(
    name: str,
    *,
    km: float,
    category: str = "plumbers",
    radius: int = 20,
    rating: tuple[int, int] = (0, 0),
    status: str = "active",
    price: int = 9000,
    kind: str = "quote",
    schedule: bool = True,
) -> Shop:
    owner = UserFactory()
    lat, lng = offset(km)
    vendor = VendorFactory(
        owner=owner,
        name=name,
        lat=lat,
        lng=lng,
        service_radius_km=radius,
        rating_count=rating[0],
        rating_sum=rating[1],
        status=status,
    )
    if schedule:
        VendorScheduleFactory(vendor=vendor)
    listing = ListingFactory(
        vendor=vendor,
        category=Category.objects.get(slug=category),
        kind=kind,
        title=f"{name}: call-out",
        price_amount=price,
    )
    return Shop(vendor=vendor, listing=listing, owner=owner, client=client_for(owner))


def make_market() -> Market:
    customer, other = UserFactory.create_batch(2)
    market = Market(
        customer=customer,
        other_customer=other,
        as_customer=client_for(customer),
        as_other_customer=client_for(other),
    )
    market.shops = {
        "near": make_shop("Near Plumbing", km=2, rating=(20, 96), price=8000),
        "mid": make_shop("Mid Plumbing", km=8, rating=(10, 42), price=9500),
        "new": make_shop("New Plumbing", km=5, price=7000),
        "far": make_shop("Far Plumbing", km=260, radius=30, rating=(50, 250)),
        "sparks": make_shop("Sparks Electric", km=1, category="electricians", rating=(30, 150)),
        "suspended": make_shop("Gone Plumbing", km=1, status="suspended", rating=(30, 150)),
    }
    return market


def ask(client: ApiClient, *, key: str | None = None, **body: Any) -> Any:
    payload = {
        "category": "plumbers",
        "title": "Leaking kitchen tap",
        "description": "Drips all night.",
        "answers": {"job_type": "leak"},
        "lat": LONDON[0],
        "lng": LONDON[1],
        **body,
    }
    return client.post("/quote-requests", payload, idempotency_key=key)


def asked(market: Market, **body: Any) -> QuoteRequest:
    response = ask(market.as_customer, **body)
    assert response.status_code == 201, response.content
    return QuoteRequest.objects.get(pk=response.json()["id"])


def quote_body(shop: Shop, **extra: Any) -> dict[str, Any]:
    return {
        "vendor_id": shop.vendor.pk,
        "price": {"amount": 12000, "currency": "GBP"},
        "lines": [
            {"description": "Call-out", "amount": {"amount": 4000, "currency": "GBP"}},
            {"description": "New tap and fitting", "amount": {"amount": 8000, "currency": "GBP"}},
        ],
        "valid_until": (NOW + timedelta(days=3)).isoformat(),
        "start": (NOW + timedelta(days=1, hours=2)).isoformat(),
        "duration_minutes": 90,
        "message": "Can come tomorrow morning.",
        **extra,
    }


def offer(shop: Shop, request: QuoteRequest, **extra: Any) -> Any:
    return shop.client.post(f"/quote-requests/{request.pk}/quotes", quote_body(shop, **extra))


def offered(shop: Shop, request: QuoteRequest, **extra: Any) -> Quote:
    response = offer(shop, request, **extra)
    assert response.status_code == 201, response.content
    return Quote.objects.get(pk=response.json()["id"])


def accept(client: ApiClient, quote: Quote, *, key: str = "accept-1", **body: Any) -> Any:
    return client.post(
        f"/quotes/{quote.pk}/accept",
        {"payment_method": "pm_card_visa", **body},
        idempotency_key=key,
    )


def invited_ids(request: QuoteRequest) -> list[int]:
    return list(
        Invitation.objects.filter(request=request)
        .order_by("rank")
        .values_list("vendor_id", flat=True)
    )
