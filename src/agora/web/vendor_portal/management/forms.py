"""Forms of the management pages. They shape and bound the input; the rules (what a listing
needs, what its attributes must look like, what a valid schedule is, whether a payout is
covered) stay in the catalogue, bookings and payments services, whose refusals are shown on
the same form."""

from __future__ import annotations

import re
import secrets
from typing import Any

from django import forms

from agora.availability.schedule import WEEKDAY_KEYS
from agora.bookings.models import ResourceKind
from agora.catalog.models import Category, ListingKind, ListingStatus
from agora.payments.models import PayoutSchedule
from agora.vendors.analytics import PRESET_DAYS
from agora.web.vendor_portal.management.attributes import (
    AttributeSpec,
    NotJson,
    field_name,
    initial_value,
    json_value,
    make_field,
)
from agora.web.vendor_portal.management.common import MoneyField

KIND_CHOICES = [
    (ListingKind.SERVICE.value, "Bookable service"),
    (ListingKind.QUOTE.value, "Quote-based job"),
    (ListingKind.PRODUCT.value, "Goods"),
]
STATUS_CHOICES = [
    (ListingStatus.ACTIVE.value, "Published"),
    (ListingStatus.DRAFT.value, "Draft (not public)"),
]
SERVICE_FIELDS = ("duration_minutes", "capacity", "auto_accept")
PRODUCT_FIELDS = ("sku", "weight_grams", "low_stock_threshold")
DAY_LABELS = dict(
    zip(
        WEEKDAY_KEYS,
        ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
        strict=True,
    )
)


def category_choices(categories: list[Category]) -> list[tuple[str, str]]:
    """Categories as a flat list, children indented under their parents (tree order)."""
    return [("", "Choose a category")] + [
        (c.slug, "\u2003" * c.path.count("/") + c.name) for c in categories
    ]


class ListingForm(forms.Form):
    """A listing's own fields plus one field per attribute of the chosen category."""

    kind = forms.ChoiceField(label="Kind", choices=KIND_CHOICES)
    title = forms.CharField(label="Title", max_length=200)
    description = forms.CharField(
        label="Description",
        required=False,
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    category = forms.ChoiceField(label="Category")
    status = forms.ChoiceField(label="Visibility", choices=STATUS_CHOICES)
    # services
    duration_minutes = forms.IntegerField(
        label="Duration (minutes)", required=False, min_value=1, max_value=1440
    )
    capacity = forms.IntegerField(
        label="Customers at the same time", required=False, min_value=1, max_value=1000
    )
    auto_accept = forms.BooleanField(label="Accept bookings automatically", required=False)
    # goods
    stock = forms.IntegerField(
        label="Stock",
        required=False,
        min_value=0,
        max_value=2**31 - 1,
        help_text="Units on hand when the listing is created; later, use Restock.",
    )
    sku = forms.CharField(label="SKU", required=False, max_length=64)
    weight_grams = forms.IntegerField(
        label="Weight (grams)", required=False, min_value=0, max_value=2**31 - 1
    )
    low_stock_threshold = forms.IntegerField(
        label="Low-stock alert at", required=False, min_value=0, max_value=2**31 - 1
    )

    def __init__(
        self,
        *args: Any,
        currency: str,
        categories: list[Category],
        specs: list[AttributeSpec],
        editing: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.specs = specs
        self.fields["category"].choices = category_choices(categories)  # type: ignore[attr-defined]
        self.fields["price"] = MoneyField(
            currency=currency,
            label="Price",
            help_text=f"In {currency}; for quotes, the 'from' price.",
        )
        self.order_fields(["kind", "title", "description", "category", "price", "status"])
        if editing:
            # The kind is fixed once created; stock moves through restocking only, so a
            # stale form can never overwrite units sold in the meantime.
            del self.fields["kind"]
            del self.fields["stock"]
        for spec in specs:
            self.fields[field_name(spec.name)] = make_field(spec)

    @property
    def attribute_fields(self) -> list[forms.BoundField]:
        return [self[field_name(spec.name)] for spec in self.specs]

    @property
    def main_fields(self) -> list[forms.BoundField]:
        names = ("kind", "title", "description", "category", "price", "status")
        return [self[name] for name in names if name in self.fields]

    @property
    def service_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in SERVICE_FIELDS]

    @property
    def product_fields(self) -> list[forms.BoundField]:
        names = ("stock", *PRODUCT_FIELDS)
        return [self[name] for name in names if name in self.fields]

    def attributes(self) -> dict[str, Any]:
        """The attribute values typed, as JSON values (call after is_valid)."""
        values = {}
        for spec in self.specs:
            name = field_name(spec.name)
            try:
                present, value = json_value(spec, self.cleaned_data.get(name))
            except NotJson:
                self.add_error(name, "Enter a valid JSON value.")
                continue
            if present:
                values[spec.name] = value
        return values

    def attribute_error_names(self) -> dict[str, str]:
        return {f"attributes.{spec.name}": field_name(spec.name) for spec in self.specs}

    @staticmethod
    def initial_for(listing: Any, specs: list[AttributeSpec]) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "title": listing.title,
            "description": listing.description,
            "category": listing.category.slug,
            "price": listing.price_amount,
            "status": listing.status if listing.status in dict(STATUS_CHOICES) else "draft",
            "duration_minutes": listing.duration_minutes,
            "capacity": listing.capacity,
            "auto_accept": listing.auto_accept,
            "sku": listing.sku,
            "weight_grams": listing.weight_grams,
            "low_stock_threshold": listing.low_stock_threshold,
        }
        for spec in specs:
            initial[field_name(spec.name)] = initial_value(spec, listing.attributes.get(spec.name))
        return initial


class VariantForm(forms.Form):
    name = forms.CharField(label="Variant name", max_length=120)
    sku = forms.CharField(label="SKU", required=False, max_length=64)
    stock = forms.IntegerField(label="Stock", min_value=0, max_value=2**31 - 1, initial=0)

    def __init__(self, *args: Any, currency: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["price"] = MoneyField(
            currency=currency,
            label="Price",
            required=False,
            help_text="Leave empty to use the listing's price.",
        )
        self.order_fields(["name", "sku", "price", "stock"])


class RestockForm(forms.Form):
    quantity = forms.IntegerField(label="Units received", min_value=1, max_value=1_000_000)

    def __init__(self, *args: Any, variants: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if variants:
            self.fields["variant"] = forms.TypedChoiceField(
                label="Variant", coerce=int, choices=[(v.pk, v.name) for v in variants]
            )
            self.order_fields(["variant", "quantity"])


class StockCountForm(forms.Form):
    # It shares the listing's page with the restock form: the prefix keeps ids apart.
    prefix = "count"
    level = forms.IntegerField(
        label="Units counted",
        min_value=0,
        max_value=1_000_000,
        help_text="Sets the stock to what you counted; the difference is recorded.",
    )

    def __init__(self, *args: Any, variants: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if variants:
            self.fields["variant"] = forms.TypedChoiceField(
                label="Variant", coerce=int, choices=[(v.pk, v.name) for v in variants]
            )
            self.order_fields(["variant", "level"])


class ImageForm(forms.Form):
    file = forms.ImageField(label="Image (JPEG, PNG or WebP, up to 8 MB)")
    alt = forms.CharField(label="Description for screen readers", required=False, max_length=200)


class ResourceAssignForm(forms.Form):
    resource = forms.TypedChoiceField(
        label="Shared resource", coerce=int, required=False, empty_value=None
    )

    def __init__(self, *args: Any, resources: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["resource"].choices = [  # type: ignore[attr-defined]
            ("", "None (its own capacity)")
        ] + [(r.pk, f"{r.name} (capacity {r.capacity})") for r in resources]


# --- schedule -------------------------------------------------------------------------------

_INTERVAL = re.compile(r"^\s*(\d{1,2}:\d{2})\s*[-–]\s*(\d{1,2}:\d{2})\s*$")


def parse_hours(text: str) -> list[list[str]]:
    """ "09:00-12:00, 13:00-17:00" → [["09:00", "12:00"], ["13:00", "17:00"]]; "" → []."""
    intervals = []
    for part in filter(None, (p.strip() for p in re.split(r"[,;]", text or ""))):
        match = _INTERVAL.match(part)
        if match is None:
            raise forms.ValidationError(f"“{part}” is not a time range; write it like 09:00-17:00.")
        start, end = (value.zfill(5) for value in match.groups())
        intervals.append([start, end])
    return intervals


def format_hours(intervals: list[list[str]]) -> str:
    return ", ".join(f"{start}-{end}" for start, end in intervals)


class HoursField(forms.CharField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 200)
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("placeholder", "closed")

    def clean(self, value: Any) -> list[list[str]]:
        return parse_hours(super().clean(value))


class WeeklyForm(forms.Form):
    """Opening hours per weekday: "09:00-12:00, 13:00-17:00"; empty means closed."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for key in WEEKDAY_KEYS:
            self.fields[key] = HoursField(label=DAY_LABELS[key])

    def weekly(self) -> dict[str, list[list[str]]]:
        return {key: self.cleaned_data[key] for key in WEEKDAY_KEYS}


class OverrideForm(forms.Form):
    date = forms.DateField(label="Date", widget=forms.DateInput(attrs={"type": "date"}))
    hours = HoursField(
        label="Hours that day", help_text="Like 10:00-14:00; leave empty to close all day."
    )


class HolidayForm(forms.Form):
    date = forms.DateField(label="Closed on", widget=forms.DateInput(attrs={"type": "date"}))


class BlockForm(forms.Form):
    start = forms.DateTimeField(
        label="From",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    end = forms.DateTimeField(
        label="Until",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    reason = forms.CharField(label="Reason", required=False, max_length=200)

    def __init__(self, *args: Any, resources: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["resource"] = forms.TypedChoiceField(
            label="What is blocked",
            coerce=int,
            required=False,
            empty_value=None,
            choices=[("", "Everything")] + [(r.pk, r.name) for r in resources],
        )


class ResourceForm(forms.Form):
    name = forms.CharField(label="Name", max_length=120)
    kind = forms.ChoiceField(label="Kind", choices=ResourceKind.choices)
    capacity = forms.IntegerField(label="Capacity", min_value=1, max_value=1000, initial=1)


# --- money ----------------------------------------------------------------------------------


def new_request_token() -> str:
    return secrets.token_urlsafe(16)


class PayoutForm(forms.Form):
    # One token per rendered form: a double click or a resubmitted page pays out once.
    token = forms.RegexField(regex=r"^[A-Za-z0-9_-]{16,64}$", widget=forms.HiddenInput)

    def __init__(self, *args: Any, currency: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["amount"] = MoneyField(
            currency=currency,
            label="Amount",
            required=False,
            help_text="Leave empty to pay out the whole available balance.",
        )


class PayoutSettingsForm(forms.Form):
    schedule = forms.ChoiceField(label="Pay out", choices=PayoutSchedule.choices)

    def __init__(self, *args: Any, currency: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["minimum_amount"] = MoneyField(
            currency=currency,
            label="Minimum amount",
            max_value=100_000,
            help_text="Scheduled payouts wait until the available balance reaches this.",
        )


class StatementFilterForm(forms.Form):
    purpose = forms.ChoiceField(
        label="Account",
        required=False,
        choices=[("available", "Available"), ("escrow", "Pending (escrow)")],
    )
    start = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label="To (inclusive)", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            self.add_error("end", "must not be before From")
        return data


# --- analytics ------------------------------------------------------------------------------

PERIOD_CHOICES = [(str(days), f"Last {days} days") for days in PRESET_DAYS] + [
    ("custom", "From–to")
]


class PeriodForm(forms.Form):
    period = forms.ChoiceField(label="Period", choices=PERIOD_CHOICES, required=False)
    start = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("period") == "custom" or (
            not data.get("period") and (data.get("start") or data.get("end"))
        ):
            data["period"] = "custom"
            if not data.get("start") and "start" not in self.errors:
                self.add_error("start", "Choose the first day.")
            if not data.get("end") and "end" not in self.errors:
                self.add_error("end", "Choose the last day.")
        return data
