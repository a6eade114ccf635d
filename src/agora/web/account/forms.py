"""The customer's forms: parse and validate input; the services decide everything else."""

from __future__ import annotations

from datetime import datetime

from django import forms

from agora.core.validation import is_near_now
from agora.web.account.display import SANDBOX_CARDS

COUNTRIES = (
    ("GB", "United Kingdom"),
    ("IE", "Ireland"),
    ("FR", "France"),
    ("DE", "Germany"),
    ("NL", "Netherlands"),
    ("ES", "Spain"),
    ("US", "United States"),
)


def parse_start(raw: str | None) -> datetime | None:
    """An ISO 8601 start with its offset, within fifty years of today (None otherwise:
    near the ends of the calendar a week's slots cannot even be computed). In a query
    string an unescaped `+` arrives as a space, so one is read back as `+`."""
    if not raw:
        return None
    text = raw.strip().replace(" ", "+")
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo is not None and is_near_now(value) else None


class StartField(forms.CharField):
    def to_python(self, value: object) -> datetime | None:  # type: ignore[override]
        text = super().to_python(value)
        if not text:
            return None
        parsed = parse_start(text)
        if parsed is None:
            raise forms.ValidationError(
                "Give the time as ISO 8601 with its offset, e.g. 2026-12-01T09:00:00+00:00."
            )
        return parsed


class TokenForm(forms.Form):
    """Carries the once-only token of a form that takes a slot or moves money."""

    token = forms.CharField(widget=forms.HiddenInput, max_length=64)


class HoldForm(TokenForm):
    start = StartField(widget=forms.HiddenInput)
    notes = forms.CharField(
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Notes for the vendor (optional)",
    )
    # One of the customer's saved vehicles (automotive services); the service checks it.
    vehicle_id = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1)


class PayForm(TokenForm):
    payment_method = forms.ChoiceField(
        choices=SANDBOX_CARDS, label="Card (sandbox test cards)", initial="pm_card_visa"
    )


class CancelForm(forms.Form):
    reason = forms.CharField(required=False, max_length=300, label="Reason (optional)")


class RescheduleForm(forms.Form):
    start = StartField(label="New time")


class CartAddForm(forms.Form):
    listing_id = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    variant_id = forms.IntegerField(min_value=1, required=False, widget=forms.HiddenInput)
    quantity = forms.IntegerField(min_value=1, max_value=999, initial=1, label="Quantity")


class CartLineForm(forms.Form):
    listing_id = forms.IntegerField(min_value=1)
    variant_id = forms.IntegerField(min_value=1, required=False)
    quantity = forms.IntegerField(min_value=0, max_value=999, label="Quantity")


class ShippingForm(forms.Form):
    country = forms.ChoiceField(choices=COUNTRIES, initial="GB", label="Ship to")


class CheckoutForm(PayForm):
    name = forms.CharField(max_length=120, label="Full name")
    line1 = forms.CharField(max_length=200, label="Address line 1")
    line2 = forms.CharField(max_length=200, required=False, label="Address line 2 (optional)")
    city = forms.CharField(max_length=100, label="Town or city")
    postcode = forms.CharField(max_length=16, label="Postcode")
    country = forms.ChoiceField(choices=COUNTRIES, initial="GB", label="Country")

    ADDRESS_FIELDS = ("name", "line1", "line2", "city", "postcode", "country")

    def address(self) -> dict[str, str]:
        return {name: self.cleaned_data[name] for name in self.ADDRESS_FIELDS}


class ReviewForm(forms.Form):
    rating = forms.TypedChoiceField(
        choices=[(n, f"{n} star{'s' if n > 1 else ''}") for n in range(5, 0, -1)],
        coerce=int,
        widget=forms.RadioSelect,
        label="Rating",
    )
    text = forms.CharField(
        max_length=4000, widget=forms.Textarea(attrs={"rows": 6}), label="Your review"
    )
