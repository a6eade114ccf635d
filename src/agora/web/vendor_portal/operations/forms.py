"""Forms of the operations pages. They only shape and bound the input; the rules (which
role may grant which, what a valid time zone is, what a document may contain) stay in the
vendors, bookings and orders services, whose refusals are shown on the same form."""

from __future__ import annotations

from typing import Any

from django import forms

from agora.catalog.selectors import cities_all
from agora.core.errors import DomainError
from agora.core.money import CURRENCY_EXPONENTS
from agora.vendors.models import DocumentKind, StaffRole

VERTICALS = [("", "—"), ("automotive", "Automotive"), ("home-services", "Home services")]


def city_choices() -> list[tuple[str, str]]:
    return [("", "—"), *((c.slug, c.name) for c in cities_all())]


def add_domain_error(form: forms.Form, error: DomainError) -> None:
    """Put a service's refusal on the field it names (its `errors[].loc`), else on the form."""
    placed = False
    items = error.extra.get("errors", [])
    for item in items:
        loc = [str(part) for part in item.get("loc", []) if part not in ("body", "query")]
        name = loc[0] if loc else ""
        if name in form.fields:
            # `field_error` details read "<field>: <msg>"; others ("Documents may be at most
            # 10 MB.") say more than their terse `msg` and are shown whole.
            whole = len(items) == 1 and not error.detail.startswith(f"{name}:")
            form.add_error(name, error.detail if whole else str(item.get("msg") or error.detail))
            placed = True
    if not placed:
        form.add_error(None, error.detail)


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label="Reason", required=False, max_length=500, help_text="Optional; kept in the history."
    )


class CancelForm(forms.Form):
    reason = forms.CharField(label="Reason", required=False, max_length=500)


class ShipForm(forms.Form):
    carrier = forms.CharField(label="Carrier", max_length=60)
    tracking_number = forms.CharField(label="Tracking number", max_length=100)


class InviteForm(forms.Form):
    email = forms.EmailField(label="E-mail address", max_length=254)
    role = forms.ChoiceField(label="Role", choices=StaffRole.choices, initial=StaffRole.STAFF)


class RoleForm(forms.Form):
    role = forms.ChoiceField(label="Role", choices=StaffRole.choices)


class DocumentForm(forms.Form):
    kind = forms.ChoiceField(label="Kind of document", choices=DocumentKind.choices)
    file = forms.FileField(
        label="File", help_text="PDF, JPEG, PNG or WebP, at most 10 MB.", allow_empty_file=True
    )


class _VendorFieldsForm(forms.Form):
    name = forms.CharField(label="Business name", max_length=120)
    description = forms.CharField(
        label="Description",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    address = forms.CharField(label="Address", required=False, max_length=255)
    city = forms.ChoiceField(label="City", required=False)
    postcode = forms.CharField(label="Postcode", required=False, max_length=16)
    timezone = forms.CharField(
        label="Time zone", max_length=64, initial="Europe/London", help_text="e.g. Europe/London"
    )
    contact_email = forms.EmailField(label="Contact e-mail", required=False, max_length=254)
    contact_phone = forms.CharField(label="Contact phone", required=False, max_length=32)
    website = forms.URLField(label="Website", required=False, max_length=200, assume_scheme="https")
    vertical = forms.ChoiceField(label="Trade", required=False, choices=VERTICALS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["city"].choices = city_choices()  # type: ignore[attr-defined]


class OnboardingForm(_VendorFieldsForm):
    currency = forms.ChoiceField(
        label="Currency",
        choices=[(code, code) for code in sorted(CURRENCY_EXPONENTS)],
        initial="GBP",
    )

    def service_arguments(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["city"] = data["city"] or None
        return data


class ProfileForm(_VendorFieldsForm):
    opening_summary = forms.CharField(label="Opening hours summary", required=False, max_length=255)
    service_radius_km = forms.IntegerField(
        label="Service radius (km)", min_value=0, max_value=1000, initial=0
    )
    lat = forms.DecimalField(
        label="Latitude",
        required=False,
        max_digits=9,
        decimal_places=6,
        min_value=-90,
        max_value=90,
    )
    lng = forms.DecimalField(
        label="Longitude",
        required=False,
        max_digits=9,
        decimal_places=6,
        min_value=-180,
        max_value=180,
    )

    FIELDS = (
        "name",
        "description",
        "address",
        "city",
        "postcode",
        "lat",
        "lng",
        "timezone",
        "contact_email",
        "contact_phone",
        "website",
        "opening_summary",
        "service_radius_km",
        "vertical",
    )

    @classmethod
    def initial_for(cls, vendor: Any) -> dict[str, Any]:
        initial = {name: getattr(vendor, name) for name in cls.FIELDS if name != "city"}
        initial["city"] = vendor.city.slug if vendor.city else ""
        return initial

    def changes(self) -> dict[str, Any]:
        """Only the fields the person changed: the service audits their names."""
        changes = {name: self.cleaned_data[name] for name in self.changed_data}
        if "city" in changes:
            changes["city"] = changes["city"] or None
        return changes


class JoinForm(forms.Form):
    token = forms.CharField(
        label="Invitation code", max_length=100, help_text="The code in your invitation e-mail."
    )
