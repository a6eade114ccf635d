"""Quote requests of the demo customer in every state: open (invited, nobody answered
yet), quoted (several vendors' quotes to compare, one of them revised), accepted (a paid
booking), cancelled and expired — each matched by the real engine and answered through
the real services, so the invitations carry their score breakdowns.

Their events are marked dispatched: the demo's history, not news, so no e-mail goes out.
Idempotent: nothing is written when the demo customer has quote requests already.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Q
from django.utils.text import slugify

from agora.accounts.models import User
from agora.catalog.models import Category, City, Listing, ListingKind, ListingStatus
from agora.core import clock
from agora.core.money import Money
from agora.notifications.models import Event
from agora.quotes.models import Invitation, QuoteRequest
from agora.quotes.services import offers, requests
from agora.vendors.models import Vendor, VendorMembership, VendorStatus

# More London trades, so that London requests get several quotes to compare.
EXTRA_VENDORS = [
    (
        "Capital Sparks",
        "electricians",
        "Rewires, EV chargers and safety certificates",
        51.5362,
        -0.1033,
        92000,
    ),
    (
        "Volt & Co Electrical",
        "electricians",
        "Domestic and commercial electrical work",
        51.4816,
        -0.1910,
        98000,
    ),
    (
        "Westway Garage",
        "car-repairs",
        "Clutches, gearboxes and diagnostics",
        51.5205,
        -0.2190,
        36000,
    ),
    (
        "Camden Clutch & Gearbox",
        "car-repairs",
        "Clutch specialists since 1998",
        51.5390,
        -0.1426,
        41000,
    ),
]


def _extra_vendors() -> None:
    london = City.objects.filter(slug="london").first()
    for name, slug, description, lat, lng, price in EXTRA_VENDORS:
        vendor, created = Vendor.objects.get_or_create(
            slug=slugify(name),
            defaults={
                "name": name,
                "description": description,
                "city": london,
                "lat": Decimal(str(lat)),
                "lng": Decimal(str(lng)),
                "status": VendorStatus.ACTIVE,
                "service_radius_km": 20,
                "approved_at": clock.now(),
            },
        )
        if not created:
            continue
        owner, _ = User.objects.get_or_create(
            email=f"{vendor.slug}@agora.test", defaults={"name": f"{name} owner"}
        )
        VendorMembership.objects.get_or_create(
            vendor=vendor, user=owner, defaults={"role": "owner"}
        )
        Listing.objects.create(
            vendor=vendor,
            category=Category.objects.get(slug=slug),
            kind=ListingKind.QUOTE,
            title=f"{description.split(',')[0]} — free quote",
            description=description,
            price_amount=price,
            currency="GBP",
        )


def _staff(vendor_id: int) -> User | None:
    membership = (
        VendorMembership.objects.filter(vendor_id=vendor_id).select_related("user").order_by("id")
    ).first()
    return membership.user if membership else None


def _ask(
    customer: User,
    slug: str,
    title: str,
    *,
    answers: dict[str, Any],
    budget: Money | None = None,
    urgency: str = "standard",
) -> QuoteRequest | None:
    category = Category.objects.filter(slug=slug).first()
    listings = Listing.objects.select_related("vendor__city").filter(
        category=category, kind=ListingKind.QUOTE, status=ListingStatus.ACTIVE
    )
    # London first (where the extra trades are), else wherever the category sells.
    listing = (
        listings.filter(vendor__city__slug="london").order_by("id").first()
        or listings.order_by("id").first()
    )
    if category is None or listing is None or listing.vendor.city is None:
        return None
    return requests.quote_request_create(
        customer=customer,
        category=category,
        title=title,
        city=listing.vendor.city,
        answers=answers,
        budget=budget,
        urgency=urgency,
    )


def _quote_all(request: QuoteRequest, *, base: int) -> int:
    """Every invited vendor quotes, a little dearer each; returns how many did."""
    quoted = 0
    start = (clock.now() + timedelta(days=3)).replace(hour=10, minute=0, second=0, microsecond=0)
    for step, invitation in enumerate(
        Invitation.objects.filter(request=request).select_related("vendor").order_by("rank")
    ):
        staff = _staff(invitation.vendor_id)
        if staff is None:
            continue
        price = base + 1500 * step
        offers.quote_offer(
            actor=staff,
            invitation=invitation,
            terms=offers.QuoteTerms(
                price=Money(price, invitation.vendor.currency),
                valid_until=clock.now() + timedelta(days=5),
                lines=(
                    ("Labour", Money(price - price // 3, invitation.vendor.currency)),
                    ("Parts", Money(price // 3, invitation.vendor.currency)),
                ),
                start=start + timedelta(days=step),
                duration_minutes=120,
                message="Happy to help; this covers parts and labour.",
            ),
        )
        quoted += 1
    return quoted


def load() -> str:
    customer = User.objects.filter(email="customer@agora.test").first()
    if customer is None:
        return "no demo customer"
    if QuoteRequest.objects.filter(customer=customer).exists():
        return "quote requests already there"
    first_event = Event.objects.order_by("-id").values_list("id", flat=True).first() or 0
    _extra_vendors()
    made = []
    # Expired: asked ten days ago, quoted, never accepted.
    with clock.frozen(clock.now() - timedelta(days=10)):
        old = _ask(
            customer,
            "cleaning",
            "End-of-tenancy clean, two bedrooms",
            answers={"clean_type": "end_of_tenancy", "bedrooms": 2},
        )
        if old is not None:
            _quote_all(old, base=18000)
            made.append(old)
    requests.requests_expire_due()
    # Accepted: quotes compared, the cheapest accepted and paid.
    accepted = _ask(
        customer,
        "car-repairs",
        "Clutch slipping on a 2015 Golf",
        answers={"registration": "AB12CDE", "symptoms": "Slips in 3rd and 4th", "drivable": True},
        budget=Money(45000, "GBP"),
    )
    if accepted is not None and _quote_all(accepted, base=38000):
        cheapest = accepted.quotes.order_by("price_amount", "id").first()
        if cheapest is not None:
            offers.quote_accept(
                customer=customer,
                quote=cheapest,
                payment_method="pm_card_visa",
                idempotency_key="demo-accept",
            )
        made.append(accepted)
    # Quoted: several quotes to compare side by side, one revised.
    quoted = _ask(
        customer,
        "electricians",
        "Fit an EV charger on the drive",
        answers={"job_type": "ev_charger", "property_type": "house"},
        urgency="urgent",
    )
    if quoted is not None and _quote_all(quoted, base=95000):
        first = quoted.quotes.order_by("id").first()
        staff = _staff(first.vendor_id) if first else None
        invitation = (
            Invitation.objects.filter(request=quoted, vendor_id=first.vendor_id).first()
            if first
            else None
        )
        if first is not None and staff is not None and invitation is not None:
            offers.quote_offer(
                actor=staff,
                invitation=invitation,
                terms=offers.QuoteTerms(
                    price=Money(first.price_amount - 5000, first.currency),
                    valid_until=clock.now() + timedelta(days=5),
                    start=first.start,
                    duration_minutes=180,
                    message="Revised: we can reuse the existing cable run.",
                ),
            )
        made.append(quoted)
    # Open: invited, nobody has answered yet.
    fresh = _ask(
        customer,
        "plumbers",
        "Radiator cold at the top",
        answers={"job_type": "heating", "water_off": False},
    )
    if fresh is not None:
        made.append(fresh)
    # Cancelled: the customer sorted it out.
    gone = _ask(
        customer,
        "car-repairs",
        "Check engine light on",
        answers={"symptoms": "Amber light since Monday", "drivable": True},
    )
    if gone is not None:
        requests.quote_request_cancel(customer=customer, request=gone, reason="Fixed by a friend")
        made.append(gone)
    Event.objects.filter(
        Q(name__startswith="quote.") | Q(name__startswith="booking."), id__gt=first_event
    ).update(dispatched_at=clock.now())
    states = sorted(
        QuoteRequest.objects.filter(pk__in=[r.pk for r in made]).values_list("status", flat=True)
    )
    return f"{len(made)} quote requests ({', '.join(states)})"
