"""The search form: what a visitor may filter by, checked before anything is queried."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django import forms
from django.http import QueryDict
from django.utils import timezone

from agora.catalog.models import Category, City, ListingKind
from agora.core import clock
from agora.search.places import Place, place_named
from agora.search.selectors import SORT_ALIASES, SearchQuery

SORT_LABELS = {
    "relevance": "Best match",
    "newest": "Newest first",
    "price": "Price: low to high",
    "-price": "Price: high to low",
    "rating": "Best rated",
    "distance": "Nearest first",
    "soonest": "Soonest available",
}
AVAILABILITY = {"today": "Free today", "tomorrow": "Free tomorrow", "week": "Free this week"}
RADII = [
    ("", "Any distance"),
    ("5", "Within 5 km"),
    ("10", "Within 10 km"),
    ("25", "Within 25 km"),
    ("50", "Within 50 km"),
]


class SearchForm(forms.Form):
    q = forms.CharField(label="What do you need?", required=False, max_length=100, strip=True)
    category = forms.ChoiceField(label="Category", required=False)
    city = forms.ChoiceField(label="City", required=False)
    kind = forms.ChoiceField(
        label="Type",
        required=False,
        choices=[("", "Any type"), *[(k.value, k.label) for k in ListingKind]],
    )
    min_price = forms.DecimalField(
        label="Min price", required=False, min_value=0, max_digits=10, decimal_places=2
    )
    max_price = forms.DecimalField(
        label="Max price", required=False, min_value=0, max_digits=10, decimal_places=2
    )
    min_rating = forms.TypedChoiceField(
        label="Rating",
        required=False,
        coerce=int,
        empty_value=None,
        choices=[
            ("", "Any rating"),
            *((str(n), f"{n} stars and up") for n in (4, 3, 2)),
            ("1", "1 star and up"),
        ],
    )
    near = forms.CharField(
        label="Near",
        required=False,
        max_length=80,
        strip=True,
        help_text="A town, or the first half of a postcode (NW1).",
    )
    lat = forms.FloatField(required=False, min_value=-90, max_value=90, widget=forms.HiddenInput)
    lng = forms.FloatField(required=False, min_value=-180, max_value=180, widget=forms.HiddenInput)
    radius_km = forms.TypedChoiceField(
        label="Distance", required=False, coerce=int, empty_value=None, choices=RADII
    )
    available = forms.ChoiceField(
        label="Available", required=False, choices=[("", "Any time"), *AVAILABILITY.items()]
    )
    sort = forms.ChoiceField(
        label="Sort by", required=False, choices=[("", "Best match"), *SORT_LABELS.items()]
    )
    cursor = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)

    def __init__(
        self,
        data: QueryDict | None = None,
        *,
        categories: list[Category],
        cities: list[City],
        **kwargs: Any,
    ):
        sort = data.get("sort") if data is not None else None
        if data is not None and isinstance(sort, str) and sort in SORT_ALIASES:
            # Addresses bookmarked before the sort names changed keep working.
            data = data.copy()
            data["sort"] = SORT_ALIASES[sort]
        super().__init__(data, **kwargs)
        self.place: Place | None = None
        category_field = self.fields["category"]
        city_field = self.fields["city"]
        assert isinstance(category_field, forms.ChoiceField)
        assert isinstance(city_field, forms.ChoiceField)
        category_field.choices = [("", "All categories")] + [
            (c.slug, f"— {c.name}" if c.parent_id else c.name) for c in categories
        ]
        city_field.choices = [("", "Anywhere")] + [(c.slug, c.name) for c in cities]
        self.fields["category"].error_messages["invalid_choice"] = "There is no such category."
        self.fields["city"].error_messages["invalid_choice"] = "We do not list that city yet."

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        low, high = data.get("min_price"), data.get("max_price")
        if low is not None and high is not None and low > high:
            self.add_error("max_price", "The maximum price must not be below the minimum.")
        if (data.get("lat") is None) != (data.get("lng") is None):
            self.add_error(None, "The location is incomplete; try typing a town instead.")
        elif data.get("lat") is not None:
            self.place = Place(name="your location", lat=data["lat"], lng=data["lng"])
        elif data.get("near"):
            self.place = place_named(data["near"])
            if self.place is None:
                self.add_error("near", "We could not find that place. Try a town or a postcode.")
        needs_place = data.get("sort") == "distance" or data.get("radius_km")
        if needs_place and self.place is None and not self.errors.get("near"):
            self.add_error("near", "Say where you are to sort or filter by distance.")
        return data

    def query(self, *, boost_categories: tuple[int, ...] = ()) -> SearchQuery:
        data = self.cleaned_data
        start, end = _window(data.get("available") or "")
        return SearchQuery(
            q=data.get("q") or None,
            category=data.get("category") or None,
            city=data.get("city") or None,
            kind=data.get("kind") or None,
            min_price=_minor(data.get("min_price")),
            max_price=_minor(data.get("max_price")),
            min_rating=float(data["min_rating"]) if data.get("min_rating") else None,
            lat=self.place.lat if self.place else None,
            lng=self.place.lng if self.place else None,
            radius_km=float(data["radius_km"]) if data.get("radius_km") and self.place else None,
            sort=data.get("sort") or None,
            available_from=start,
            available_to=end,
            boost_categories=boost_categories,
        )


def _window(choice: str) -> tuple[datetime | None, datetime | None]:
    """The marketplace's local day(s) a visitor means by "today", "tomorrow", "this week"."""
    if choice not in AVAILABILITY:
        return None, None
    today = timezone.localtime(clock.now()).date()
    first = today + timedelta(days=1) if choice == "tomorrow" else today
    days = 7 if choice == "week" else 1
    zone = timezone.get_current_timezone()
    start = datetime.combine(first, time.min, tzinfo=zone)
    return start, start + timedelta(days=days)


def _minor(value: Decimal | None) -> int | None:
    # Prices are typed in major units (pounds, dollars); every listed currency has two
    # minor digits today. Listings are compared in their own minor units.
    return None if value is None else int(value * 100)
