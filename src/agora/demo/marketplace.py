"""Demo vendors and listings across the UK and Australia, both verticals, all three kinds.

Built through the real services (so audit trails, slugs and validation are real) and
idempotent: a vendor that exists (by slug) is left as it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from agora.accounts.models import User
from agora.catalog import services as catalog_services
from agora.catalog.models import City
from agora.core.money import Money
from agora.demo.accounts import DEMO_PASSWORD
from agora.vendors import services as vendor_services
from agora.vendors.models import Vendor, VendorStatus


@dataclass(frozen=True)
class ListingSpec:
    kind: str
    title: str
    category: str
    price: int
    attributes: dict[str, Any] = field(default_factory=dict)
    duration: int | None = None
    capacity: int = 1
    stock: int | None = None
    description: str = ""
    auto_accept: bool = False
    variants: tuple[tuple[str, int | None, int], ...] = ()
    price_rules: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class VendorSpec:
    name: str
    city: str
    vertical: str
    owner_email: str
    description: str
    listings: tuple[ListingSpec, ...]
    offset: tuple[str, str] = ("0.010000", "0.010000")


MOT = (
    ListingSpec("service", "MOT test (class 4)", "mot-servicing", 5485,
                {"mot_class": "4", "includes_mot": True, "vehicle_types": ["car", "van"]}, duration=60, auto_accept=True,
                description="The annual MOT for cars and small vans, with a free retest within 10 working days."),
    ListingSpec("service", "Full service", "mot-servicing", 18900,
                {"includes_mot": False, "vehicle_types": ["car"]}, duration=180,
                description="Oil and filters, brakes, suspension, steering and a 60-point check."),
    ListingSpec("service", "Interim service", "mot-servicing", 11900, {"vehicle_types": ["car"]}, duration=120),
    ListingSpec("quote", "Engine diagnostics and repair", "car-repairs", 4500, {"warranty_months": 12},
                description="Tell us the symptoms; we quote before any work starts."),
)  # fmt: skip
REPAIRS = (
    ListingSpec("service", "Front brake pads and discs", "car-repairs", 14900, {"warranty_months": 12}, duration=90),
    ListingSpec("quote", "Clutch replacement", "car-repairs", 39900, {"warranty_months": 24}),
    ListingSpec("service", "Tyre fitting and balancing", "tyres", 1500, {"rim_size_inches": 16}, duration=30, capacity=2, auto_accept=True),
    ListingSpec("product", "Touring tyre 205/55 R16", "tyres", 6500, {"rim_size_inches": 16}, stock=24),
)  # fmt: skip
PARTS = (
    ListingSpec("product", "Ceramic brake pad set", "auto-parts", 3499, {"condition": "new", "part_number": "BP-2041"},
                stock=40, variants=(("Front axle", None, 25), ("Rear axle", 2999, 15))),
    ListingSpec("product", "Oil filter", "auto-parts", 899, {"condition": "new", "part_number": "OF-118"}, stock=120),
    ListingSpec("product", "Wiper blade pair", "auto-parts", 1999, {"condition": "new"},
                stock=60, variants=(("18 inch", None, 20), ("22 inch", None, 20), ("24 inch", 2199, 20))),
    ListingSpec("product", "Refurbished alternator", "auto-parts", 8999, {"condition": "refurbished", "vehicle_types": ["car"]}, stock=6),
)  # fmt: skip
ELECTRICAL = (
    ListingSpec("service", "Electrical safety inspection (EICR)", "electricians", 14000,
                {"certifications": ["NICEIC"], "insured": True}, duration=120,
                price_rules=({"dimension": "urgency", "option": "next-day", "adjustment": "multiplier", "multiplier_bp": 12500},
                             {"dimension": "skill_tier", "option": "master", "adjustment": "addon", "amount": 2000})),
    ListingSpec("service", "EV charger installation", "electricians", 89900, {"certifications": ["OZEV"]}, duration=240),
    ListingSpec("quote", "Full house rewire", "electricians", 350000, {"insured": True}),
    ListingSpec("service", "Emergency call-out", "electricians", 12000, {"emergency_callout": True}, duration=60,
                price_rules=({"dimension": "urgency", "option": "emergency", "adjustment": "multiplier", "multiplier_bp": 15000},)),
)  # fmt: skip
PLUMBING = (
    ListingSpec("service", "Annual boiler service", "plumbers", 9000, {"gas_safe_registered": True}, duration=60, auto_accept=True),
    ListingSpec("service", "Leak repair call-out", "plumbers", 12000, {"emergency_callout": True}, duration=60,
                price_rules=({"dimension": "complexity", "option": "complex", "adjustment": "addon", "amount": 6000},)),
    ListingSpec("quote", "Bathroom installation", "plumbers", 450000, {"insured": True}),
)  # fmt: skip
CLEANING = (
    ListingSpec("service", "Regular home clean (3 hours)", "cleaning", 6000, {"eco_products": True}, duration=180, capacity=3, auto_accept=True),
    ListingSpec("service", "End-of-tenancy clean", "cleaning", 25000, {"max_bedrooms": 3}, duration=300, capacity=2),
    ListingSpec("quote", "Office cleaning contract", "cleaning", 50000),
)  # fmt: skip
SUPPLIES = (
    ListingSpec("product", "Cordless drill 18V", "tools-supplies", 8999, {"brand": "Makita", "condition": "new"},
                stock=12, variants=(("Body only", 6999, 5), ("With 2 batteries", None, 7))),
    ListingSpec("product", "Copper pipe 15 mm × 3 m", "tools-supplies", 1299, {"condition": "new"}, stock=100),
    ListingSpec("product", "Fuse box tester kit", "tools-supplies", 4599, {"brand": "Fluke", "condition": "new"}, stock=8),
)  # fmt: skip

VENDORS = (
    VendorSpec("Camden MOT & Service Centre", "london", "automotive", "vendor@agora.test",
               "Family-run MOT station and service garage in Camden since 1998.", MOT, ("0.032", "-0.015")),
    VendorSpec("Brightspark Electrical", "london", "home-services", "brightspark@agora.test",
               "NICEIC-approved electricians for homes and small businesses.", ELECTRICAL, ("-0.020", "0.041")),
    VendorSpec("Thames Plumbing & Heating", "london", "home-services", "thames@agora.test",
               "Gas Safe engineers: boilers, leaks and bathrooms across south London.", PLUMBING, ("-0.041", "0.012")),
    VendorSpec("Northern Tyre & Auto", "manchester", "automotive", "northern@agora.test",
               "Tyres, brakes and clutches while you wait.", REPAIRS),
    VendorSpec("Mancunian Motor Factors", "manchester", "automotive", "factors@agora.test",
               "Parts for trade and DIY, delivered next day.", PARTS, ("0.015", "-0.030")),
    VendorSpec("Spotless Manchester Cleaning", "manchester", "home-services", "spotless@agora.test",
               "Insured cleaners with eco-friendly products.", CLEANING, ("-0.012", "0.020")),
    VendorSpec("Leeds Auto Electrics", "leeds", "automotive", "leedsauto@agora.test",
               "Diagnostics and servicing for petrol, diesel and hybrid cars.", MOT),
    VendorSpec("Aire Valley Plumbers", "leeds", "home-services", "aire@agora.test",
               "Local plumbers with 24/7 emergency cover.", PLUMBING, ("0.020", "0.018")),
    VendorSpec("Harbour City Mechanics", "sydney", "automotive", "harbour@agora.test",
               "Logbook servicing and repairs in the inner west.", REPAIRS),
    VendorSpec("Bondi Sparkies", "sydney", "home-services", "bondi@agora.test",
               "Licensed electricians for the eastern suburbs.", ELECTRICAL, ("-0.025", "0.040")),
    VendorSpec("Sydney Trade Supplies", "sydney", "home-services", "sydneytrade@agora.test",
               "Tools and fittings for trades and DIY.", SUPPLIES, ("0.018", "-0.022")),
    VendorSpec("Yarra Auto Care", "melbourne", "automotive", "yarra@agora.test",
               "Servicing, tyres and brakes by the river.", MOT),
    VendorSpec("Southbank Cleaners", "melbourne", "home-services", "southbank@agora.test",
               "Homes, offices and end-of-lease cleans.", CLEANING, ("0.010", "0.030")),
    VendorSpec("River City Plumbing", "brisbane", "home-services", "rivercity@agora.test",
               "Hot water, leaks and renovations.", PLUMBING),
)  # fmt: skip

PENDING = VendorSpec(
    "Fresh Start Handyman", "london", "home-services", "freshstart@agora.test",
    "Odd jobs, flat-pack assembly and small repairs.", (), ("0.005", "0.060"),
)  # fmt: skip

CURRENCY = {"GB": "GBP", "AU": "AUD"}


def _user(email: str, name: str) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User(email=email, name=name)
        user.set_password(DEMO_PASSWORD)
        user.save()
    return user


def _create_vendor(spec: VendorSpec, operator: User, *, approve: bool) -> Vendor | None:
    if Vendor.objects.filter(name=spec.name).exists():
        return None
    city = City.objects.get(slug=spec.city)
    owner = _user(spec.owner_email, f"{spec.name} owner")
    vendor = vendor_services.vendor_apply(
        user=owner,
        name=spec.name,
        description=spec.description,
        timezone=city.timezone,
        currency=CURRENCY[city.country],
        address=f"{10 + len(spec.name)} {spec.name.split()[0]} Street",
        city=city.slug,
        lat=(city.lat + Decimal(spec.offset[0])).quantize(Decimal("0.000001")),
        lng=(city.lng + Decimal(spec.offset[1])).quantize(Decimal("0.000001")),
        contact_email=spec.owner_email,
        contact_phone="+44 20 7946 0000" if city.country == "GB" else "+61 2 5550 1234",
        opening_summary="Mon–Fri 08:00–18:00, Sat 09:00–13:00",
        service_radius_km=15 if spec.vertical == "home-services" else 0,
        vertical=spec.vertical,
    )
    if approve:
        vendor_services.vendor_approve(actor=operator, vendor=vendor, reason="Documents checked")
    for listing_spec in spec.listings:
        _create_listing(vendor, owner, listing_spec)
    return vendor


def _create_listing(vendor: Vendor, owner: User, spec: ListingSpec) -> None:
    listing = catalog_services.listing_create(
        actor=owner,
        vendor=vendor,
        kind=spec.kind,
        title=spec.title,
        category=spec.category,
        price=Money(spec.price, vendor.currency),
        description=spec.description or f"{spec.title} from {vendor.name}.",
        attributes=spec.attributes,
        duration_minutes=spec.duration,
        capacity=spec.capacity if spec.kind == "service" else None,
        auto_accept=spec.auto_accept,
        stock=spec.stock,
    )
    for name, price, stock in spec.variants:
        catalog_services.variant_create(
            actor=owner,
            listing=listing,
            name=name,
            price=Money(price, vendor.currency) if price is not None else None,
            stock=stock,
            low_stock_threshold=3,
        )
    if spec.price_rules:
        catalog_services.price_rules_replace(
            actor=owner, listing=listing, rules=list(spec.price_rules)
        )


def load() -> str:
    operator = User.objects.get(email="operator@agora.test")
    created = [v for spec in VENDORS if (v := _create_vendor(spec, operator, approve=True))]
    pending = _create_vendor(PENDING, operator, approve=False)
    active = Vendor.objects.filter(status=VendorStatus.ACTIVE).count()
    listings = sum(len(spec.listings) for spec in VENDORS)
    return (
        f"{active} active vendors ({len(created)} new), "
        f"{'1 new' if pending else 'the'} pending application, {listings} demo listings"
    )
