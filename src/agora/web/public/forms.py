"""The search form: what a visitor may filter by, checked before anything is queried."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms

from agora.catalog.models import Category, City, ListingKind
from agora.catalog.selectors import SORTS, ListingFilters

SORT_LABELS = {
    "newest": "Newest first",
    "price_asc": "Price: low to high",
    "price_desc": "Price: high to low",
}


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
        choices=[("", "Any rating"), ("4", "4 stars and up"), ("3", "3 stars and up")],
    )
    sort = forms.ChoiceField(
        label="Sort by",
        required=False,
        choices=[(key, SORT_LABELS.get(key, key)) for key in SORTS],
    )
    cursor = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)

    def __init__(self, *args: Any, categories: list[Category], cities: list[City], **kwargs: Any):
        super().__init__(*args, **kwargs)
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
        return data

    def filters(self) -> ListingFilters:
        data = self.cleaned_data
        return ListingFilters(
            q=data.get("q") or None,
            category=data.get("category") or None,
            city=data.get("city") or None,
            kind=data.get("kind") or None,
            min_price=_minor(data.get("min_price")),
            max_price=_minor(data.get("max_price")),
            min_rating=float(data["min_rating"]) if data.get("min_rating") else None,
            sort=data.get("sort") or "newest",
        )


def _minor(value: Decimal | None) -> int | None:
    # Prices are typed in major units (pounds, dollars); every listed currency has two
    # minor digits today. Listings are compared in their own minor units.
    return None if value is None else int(value * 100)
