"""Forms of the operator console. They check shape and bounds (as the API's schemas do);
the rules themselves stay in the services, whose refusals are shown on the same form."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms

from agora.core.money import CURRENCY_EXPONENTS, Money
from agora.payments.models import DisputeOutcome
from agora.vendors.models import VendorTier

REASON_MAX = 500
_ONCE = re.compile(r"^[0-9a-f]{32}$")


class OnceField(forms.CharField):
    """A one-time token rendered into a money form: a double submit replays, never
    repeats, the movement (the service's idempotency key)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(widget=forms.HiddenInput, max_length=32, **kwargs)

    def clean(self, value: Any) -> str:
        value = super().clean(value)
        if not _ONCE.match(value or ""):
            raise forms.ValidationError("This form has expired; reload the page and try again.")
        return str(value)


def parse_amount(text: str, currency: str) -> Money | None:
    """'12.50' in `currency`'s major units → Money in minor units; blank → None."""
    text = text.strip().replace(",", "")
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation as error:
        raise forms.ValidationError("Enter an amount such as 12.50.") from error
    minor = value * (10 ** CURRENCY_EXPONENTS[currency])
    if not value.is_finite() or minor != minor.to_integral_value():
        raise forms.ValidationError(f"Too many decimal places for {currency}.")
    if minor <= 0:
        raise forms.ValidationError("The amount must be more than zero.")
    return Money(int(minor), currency)


class VendorDecisionForm(forms.Form):
    reason = forms.CharField(max_length=REASON_MAX, required=False, strip=True)


BULK_ACTIONS = (
    ("approve", "Approve"),
    ("reject", "Reject"),
    ("suspend", "Suspend"),
    ("reinstate", "Reinstate"),
)
REASON_REQUIRED = frozenset({"reject", "suspend"})


class BulkVendorForm(forms.Form):
    action = forms.ChoiceField(choices=BULK_ACTIONS)
    vendor_ids = forms.TypedMultipleChoiceField(coerce=int, choices=())
    reason = forms.CharField(max_length=REASON_MAX, required=False, strip=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Any id is accepted here; each is looked up (and may be refused) one by one.
        submitted = self.data.getlist("vendor_ids") if hasattr(self.data, "getlist") else []
        field = self.fields["vendor_ids"]
        assert isinstance(field, forms.TypedMultipleChoiceField)
        field.choices = [(value, value) for value in submitted]
        field.error_messages["required"] = "Select at least one vendor."

    def clean_vendor_ids(self) -> list[int]:
        ids = self.cleaned_data["vendor_ids"]
        if len(ids) > 100:
            raise forms.ValidationError("At most 100 vendors at once.")
        return list(dict.fromkeys(ids))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("action") in REASON_REQUIRED and not data.get("reason"):
            self.add_error("reason", "Say why: the vendors are told the reason.")
        return data


class RefundForm(forms.Form):
    amount = forms.CharField(
        required=False,
        max_length=20,
        help_text="Leave blank to refund everything that is left.",
    )
    reason = forms.CharField(max_length=300, strip=True)
    once = OnceField()

    def __init__(self, *args: Any, currency: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.currency = currency

    def clean_amount(self) -> Money | None:
        return parse_amount(self.cleaned_data.get("amount") or "", self.currency)


class DisputeOpenForm(RefundForm):
    pass


class EvidenceForm(forms.Form):
    text = forms.CharField(max_length=5000, strip=True, widget=forms.Textarea(attrs={"rows": 3}))


class DisputeDecideForm(forms.Form):
    outcome = forms.ChoiceField(choices=DisputeOutcome.choices)
    reason = forms.CharField(max_length=300, required=False, strip=True)


class SaleLookupForm(forms.Form):
    kind = forms.ChoiceField(choices=(("booking", "Booking"), ("order", "Order")))
    number = forms.IntegerField(min_value=1, label="Number")


class CommissionRuleForm(forms.Form):
    """The fields of CommissionRuleIn, with the percentage in % instead of basis points."""

    name = forms.CharField(max_length=120, strip=True)
    priority = forms.IntegerField(
        min_value=0, max_value=10_000, initial=100, help_text="The lowest matching one wins."
    )
    percent = forms.DecimalField(
        min_value=Decimal(0),
        max_value=Decimal(100),
        decimal_places=2,
        initial=Decimal("3.00"),
        label="Percentage (%)",
    )
    fixed_amount = forms.IntegerField(
        min_value=0,
        max_value=10_000_000,
        initial=0,
        label="Fixed amount (minor units)",
        help_text="In pence or cents: 50 is 0.50.",
    )
    minimum_amount = forms.IntegerField(
        min_value=0, max_value=10_000_000, required=False, label="Floor (minor units)"
    )
    maximum_amount = forms.IntegerField(
        min_value=0, max_value=10_000_000, required=False, label="Cap (minor units)"
    )
    currency = forms.ChoiceField(
        choices=[("", "Any currency"), *[(c, c) for c in sorted(CURRENCY_EXPONENTS)]],
        required=False,
    )
    vendor_tier = forms.ChoiceField(choices=[("", "Any tier"), *VendorTier.choices], required=False)
    category_path = forms.ChoiceField(choices=(), required=False, label="Category")
    listing_id = forms.IntegerField(min_value=1, required=False, label="Listing number")

    def __init__(self, *args: Any, categories: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["category_path"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "Any category"), *categories]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        floor, cap = data.get("minimum_amount"), data.get("maximum_amount")
        if floor is not None and cap is not None and floor > cap:
            self.add_error("maximum_amount", "The cap must not be below the floor.")
        return data

    @staticmethod
    def initial_of(rule: Any) -> dict[str, Any]:
        """The form's values for an existing rule (the percentage from its basis points)."""
        return {
            "name": rule.name,
            "priority": rule.priority,
            "percent": (Decimal(rule.percent_bp) / 100).quantize(Decimal("0.01")),
            "fixed_amount": rule.fixed_amount,
            "minimum_amount": rule.minimum_amount,
            "maximum_amount": rule.maximum_amount,
            "currency": rule.currency,
            "vendor_tier": rule.vendor_tier,
            "category_path": rule.category_path,
            "listing_id": rule.listing_id,
        }

    def service_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "priority": data["priority"],
            "percent_bp": int(data["percent"] * 100),
            "fixed_amount": data["fixed_amount"],
            "minimum_amount": data["minimum_amount"],
            "maximum_amount": data["maximum_amount"],
            "currency": data["currency"],
            "listing_id": data["listing_id"],
            "category_path": data["category_path"],
            "vendor_tier": data["vendor_tier"],
        }
