"""/vehicles/check/?registration=: "Enter your reg" — the car, its MOT and tax status and
history, and the MOT and servicing offers that serve it, with their prices. The same
rate-limited lookup as `GET /api/v1/vehicles/lookup`."""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_safe

from agora.core.errors import DomainError
from agora.verticals.automotive import selectors, services
from agora.verticals.automotive.profile import VehicleProfile
from agora.verticals.automotive.registration import display
from agora.web.account.vehicles import mot_due, tax_due
from agora.web.public import seo

DEFAULT_CATEGORY = "mot-servicing"


def _client_ip(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR") or "unknown"


def _vehicle_node(profile: VehicleProfile) -> str:
    """schema.org Vehicle, as JSON-LD."""
    node = {
        "@context": "https://schema.org",
        "@type": "Vehicle",
        "name": " ".join(p for p in (profile.make, profile.model) if p) or profile.registration,
        "brand": {"@type": "Brand", "name": profile.make} if profile.make else None,
        "model": profile.model,
        "color": profile.colour,
        "fuelType": profile.fuel_label or None,
        "vehicleModelDate": str(profile.year_of_manufacture)
        if profile.year_of_manufacture
        else None,
        "vehicleEngine": {
            "@type": "EngineSpecification",
            "engineDisplacement": {
                "@type": "QuantitativeValue",
                "value": profile.engine_capacity_cc,
                "unitCode": "CMQ",
            },
        }
        if profile.engine_capacity_cc
        else None,
    }
    compact = {k: v for k, v in node.items() if v is not None}
    return mark_safe(json.dumps(compact).replace("<", "\\u003c"))  # noqa: S308


@require_safe
def vehicle_check(request: HttpRequest) -> HttpResponse:
    text = request.GET.get("registration", "")
    category = request.GET.get("category") or DEFAULT_CATEGORY
    context: dict[str, object] = {
        "page_title": "Check a vehicle's MOT and tax — Agora",
        "registration": text,
        "category_slug": category,
        "noindex": True,
    }
    status = 200
    if text.strip():
        try:
            profile = services.vehicle_lookup(registration=text, client_ip=_client_ip(request))
        except DomainError as error:
            context["refusal"] = error.detail
            status = error.status
        else:
            today = selectors.uk_today()
            listings = selectors.listings_for_vehicle(profile=profile, category_slug=category)
            context.update(
                page_title=f"{display(profile.registration)}: MOT and tax — Agora",
                profile=profile,
                plate=display(profile.registration),
                mot=mot_due(profile, today),
                tax=tax_due(profile, today),
                advisories=profile.last_advisories,
                offers=[
                    {
                        "title": listing.title,
                        "url": seo.listing_path(listing),
                        "vendor": listing.vendor.name,
                        "city": listing.vendor.city.name if listing.vendor.city else "",
                        "price": seo.price_text(listing.price),
                    }
                    for listing in listings
                ],
                json_ld=_vehicle_node(profile),
            )
    response = render(request, "web/vehicles/check.html", context, status=status)
    response["Cache-Control"] = "private, no-cache"
    return response
