"""Search demo data: postcodes for the demo vendors (so "Near NW1" finds Camden), and a
summary of the search index the other steps built."""

from __future__ import annotations

from agora.search.models import SearchDocument, SearchTerm
from agora.vendors.models import Vendor

POSTCODES = {
    "Camden MOT & Service Centre": "NW1 8QL",
    "Brightspark Electrical": "SE1 7PB",
    "Thames Plumbing & Heating": "SE11 5RS",
    "Northern Tyre & Auto": "M4 6BF",
    "Mancunian Motor Factors": "M1 2WD",
    "Spotless Manchester Cleaning": "M15 4FN",
    "Leeds Auto Electrics": "LS9 8DS",
    "Aire Valley Plumbers": "LS12 2AR",
}


def load() -> str:
    added = 0
    for vendor in Vendor.objects.filter(name__in=POSTCODES, postcode=""):
        vendor.postcode = POSTCODES[vendor.name]
        vendor.save(update_fields=["postcode"])
        added += 1
    documents = SearchDocument.objects.filter(visible=True).count()
    return (
        f"{documents} listings searchable, {SearchTerm.objects.count()} words in the "
        f"vocabulary; postcodes for {added} vendors (try “plumber” near NW1, or “servcie”)"
    )
