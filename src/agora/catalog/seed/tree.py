"""The starting category tree and cities, installed by a data migration so that a fresh
install has a usable catalogue. Operators extend both through the API."""

from typing import Any

CATEGORIES: list[dict[str, Any]] = [
    {
        "slug": "automotive",
        "name": "Automotive",
        "parent": None,
        "description": "Servicing, MOT, repairs, tyres and parts for cars, vans and motorbikes.",
        "schema": {
            "type": "object",
            "properties": {
                "vehicle_types": {
                    "type": "array",
                    "items": {"enum": ["car", "van", "motorbike", "ev"]},
                    "uniqueItems": True,
                }
            },
        },
    },
    {
        "slug": "mot-servicing",
        "name": "MOT and servicing",
        "parent": "automotive",
        "description": "MOT tests, interim and full services.",
        "schema": {
            "properties": {
                "mot_class": {"enum": ["4", "5", "7"]},
                "includes_mot": {"type": "boolean"},
            }
        },
    },
    {
        "slug": "car-repairs",
        "name": "Car repairs",
        "parent": "automotive",
        "description": "Brakes, clutches, diagnostics and bodywork.",
        "schema": {
            "properties": {"warranty_months": {"type": "integer", "minimum": 0, "maximum": 60}}
        },
    },
    {
        "slug": "tyres",
        "name": "Tyres",
        "parent": "automotive",
        "description": "Fitting, balancing and puncture repair.",
        "schema": {
            "properties": {"rim_size_inches": {"type": "integer", "minimum": 10, "maximum": 24}}
        },
    },
    {
        "slug": "auto-parts",
        "name": "Auto parts",
        "parent": "automotive",
        "description": "New and refurbished parts from independent suppliers.",
        "schema": {
            "properties": {
                "part_number": {"type": "string", "maxLength": 64},
                "condition": {"enum": ["new", "refurbished", "used"]},
            },
            "required": ["condition"],
        },
    },
    {
        "slug": "home-services",
        "name": "Home services",
        "parent": None,
        "description": "Electricians, plumbers, cleaners and handypeople.",
        "schema": {"type": "object", "properties": {"insured": {"type": "boolean"}}},
    },
    {
        "slug": "electricians",
        "name": "Electricians",
        "parent": "home-services",
        "description": "Rewiring, fault finding, EV chargers and safety certificates.",
        "schema": {
            "properties": {
                "certifications": {"type": "array", "items": {"type": "string", "maxLength": 40}},
                "emergency_callout": {"type": "boolean"},
            }
        },
    },
    {
        "slug": "plumbers",
        "name": "Plumbers",
        "parent": "home-services",
        "description": "Boilers, leaks, bathrooms and heating.",
        "schema": {
            "properties": {
                "gas_safe_registered": {"type": "boolean"},
                "emergency_callout": {"type": "boolean"},
            }
        },
    },
    {
        "slug": "cleaning",
        "name": "Cleaning",
        "parent": "home-services",
        "description": "Regular, deep and end-of-tenancy cleaning.",
        "schema": {
            "properties": {
                "eco_products": {"type": "boolean"},
                "max_bedrooms": {"type": "integer", "minimum": 1, "maximum": 12},
            }
        },
    },
    {
        "slug": "tools-supplies",
        "name": "Tools and supplies",
        "parent": "home-services",
        "description": "Tools, fittings and consumables from local shops.",
        "schema": {
            "properties": {
                "brand": {"type": "string", "maxLength": 60},
                "condition": {"enum": ["new", "used"]},
            }
        },
    },
]

CITIES: list[dict[str, Any]] = [
    {
        "slug": "london",
        "name": "London",
        "country": "GB",
        "lat": "51.507400",
        "lng": "-0.127800",
        "timezone": "Europe/London",
    },
    {
        "slug": "manchester",
        "name": "Manchester",
        "country": "GB",
        "lat": "53.480800",
        "lng": "-2.242600",
        "timezone": "Europe/London",
    },
    {
        "slug": "leeds",
        "name": "Leeds",
        "country": "GB",
        "lat": "53.800800",
        "lng": "-1.549100",
        "timezone": "Europe/London",
    },
    {
        "slug": "sydney",
        "name": "Sydney",
        "country": "AU",
        "lat": "-33.868800",
        "lng": "151.209300",
        "timezone": "Australia/Sydney",
    },
    {
        "slug": "melbourne",
        "name": "Melbourne",
        "country": "AU",
        "lat": "-37.813600",
        "lng": "144.963100",
        "timezone": "Australia/Melbourne",
    },
    {
        "slug": "brisbane",
        "name": "Brisbane",
        "country": "AU",
        "lat": "-27.469800",
        "lng": "153.025100",
        "timezone": "Australia/Brisbane",
    },
]
