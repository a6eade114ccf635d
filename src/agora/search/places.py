"""Where "near" is, from what a person typed: a city we list, or the outward code of a UK
postcode (`NW1`, `LS1 4AP`) placed at the middle of the vendors registered there. No
outside geocoder: the marketplace's own addresses are the gazetteer."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db.models import Avg, Q

from agora.catalog.models import City
from agora.vendors.models import Vendor

OUTWARD_CODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)(?:\s*[0-9][A-Z]{2})?$")


@dataclass(frozen=True)
class Place:
    name: str
    lat: float
    lng: float


def place_named(text: str) -> Place | None:
    typed = " ".join(text.split())
    if not typed:
        return None
    city = City.objects.filter(Q(name__iexact=typed) | Q(slug__iexact=typed)).first()
    if city is not None:
        return Place(name=city.name, lat=float(city.lat), lng=float(city.lng))
    match = OUTWARD_CODE.match(typed.upper())
    if match is None:
        return None
    outward = match.group(1)
    centre = (
        Vendor.objects.filter(lat__isnull=False, lng__isnull=False)
        .filter(Q(postcode__iexact=outward) | Q(postcode__istartswith=f"{outward} "))
        .aggregate(lat=Avg("lat"), lng=Avg("lng"))
    )
    if centre["lat"] is None:
        return None
    return Place(name=outward, lat=float(centre["lat"]), lng=float(centre["lng"]))
