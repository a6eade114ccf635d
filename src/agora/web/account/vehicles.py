"""The customer's garage at /account/vehicles/: saved vehicles with MOT and tax status,
the MOT history with its advisories, and the service history of the bookings made for
each on Agora. The same services as `/api/v1/me/vehicles`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from agora.core.errors import DomainError
from agora.verticals.automotive import selectors, services
from agora.verticals.automotive.models import Vehicle
from agora.verticals.automotive.profile import MOT_EXPIRED, MOT_VALID, VehicleProfile
from agora.web.access import customer_required
from agora.web.account import display
from agora.web.account.common import customer
from agora.web.account.refusals import refusal_message

# MOT and tax due within this many days are shown as due soon.
DUE_SOON_DAYS = 28


class VehicleForm(forms.Form):
    registration = forms.CharField(
        max_length=20,
        label="Registration",
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters", "placeholder": "AB12 CDE"}
        ),
    )


@dataclass(frozen=True)
class Due:
    """How a due date reads: "valid until Tue 29 Dec 2026 (in 28 days)"."""

    status: str  # valid, due_soon, expired, unknown
    text: str


def mot_due(profile: VehicleProfile, today: date) -> Due:
    expiry = profile.mot_expiry_date
    status = profile.mot_status(today)
    if expiry is None:
        return Due("unknown", "No MOT recorded (new, exempt or not known)")
    days = (expiry - today).days
    when = f"{expiry:%a} {expiry.day} {expiry:%b %Y}"
    if status == MOT_EXPIRED:
        return Due("expired", f"Expired on {when}")
    assert status == MOT_VALID
    soon = "today" if days == 0 else "tomorrow" if days == 1 else f"in {days} days"
    return Due("due_soon" if days <= DUE_SOON_DAYS else "valid", f"Valid until {when} ({soon})")


def tax_due(profile: VehicleProfile, today: date) -> Due:
    labels = {
        "taxed": "Taxed",
        "untaxed": "Untaxed",
        "sorn": "SORN (off the road)",
        "not_taxed_for_on_road_use": "Not taxed for road use",
    }
    if profile.tax_status is None:
        return Due("unknown", "Not known")
    text = labels.get(profile.tax_status, profile.tax_status.replace("_", " ").capitalize())
    due = profile.tax_due_date
    if due is not None:
        text += f", due {due:%a} {due.day} {due:%b %Y}"
    late = profile.tax_status != "taxed" or (due is not None and due < today)
    return Due("expired" if late else "valid", text)


@dataclass(frozen=True)
class GarageRow:
    vehicle: Vehicle
    mot: Due
    tax: Due


def _rows(vehicles: list[Vehicle], today: date) -> list[GarageRow]:
    return [
        GarageRow(
            vehicle=v, mot=mot_due(v.vehicle_profile, today), tax=tax_due(v.vehicle_profile, today)
        )
        for v in vehicles
    ]


@customer_required
@require_http_methods(["GET", "HEAD", "POST"])
def garage(request: HttpRequest) -> HttpResponse:
    """GET: the garage and the form to add a vehicle. POST: add it by registration."""
    status = 200
    if request.method == "POST":
        form = VehicleForm(request.POST)
        if form.is_valid():
            try:
                vehicle = services.vehicle_add(
                    owner=customer(request), registration=form.cleaned_data["registration"]
                )
            except DomainError as error:
                form.add_error("registration", refusal_message(error))
                status = error.status
            else:
                messages.success(
                    request, f"{vehicle.title} ({vehicle.registration_display}) is in your garage."
                )
                return redirect("web:account-vehicle", vehicle_id=vehicle.pk)
        else:
            status = 400
    else:
        form = VehicleForm(initial={"registration": request.GET.get("registration", "")})
    today = selectors.uk_today()
    context = {
        "page_title": "My garage",
        "form": form,
        "rows": _rows(selectors.vehicles_all_for_owner(owner=customer(request)), today),
    }
    return render(request, "web/account/vehicles/garage.html", context, status=status)


@customer_required
@require_safe
def vehicle_detail(request: HttpRequest, vehicle_id: int) -> HttpResponse:
    vehicle = selectors.vehicle_get_for_owner(owner=customer(request), vehicle_id=vehicle_id)
    profile = vehicle.vehicle_profile
    today = selectors.uk_today()
    history = [
        {
            "booking": booking,
            "when": display.local_time(booking.start, booking.vendor.timezone),
            "status_text": display.booking_status_text(booking.status),
            "price": display.money(booking.price_amount, booking.currency),
        }
        for booking in selectors.vehicle_service_history(vehicle=vehicle)
    ]
    context = {
        "page_title": f"{vehicle.title} {vehicle.registration_display}",
        "vehicle": vehicle,
        "profile": profile,
        "mot": mot_due(profile, today),
        "tax": tax_due(profile, today),
        "advisories": profile.last_advisories,
        "tests": profile.mot_tests,
        "odometer": profile.latest_odometer,
        "history": history,
        "book_mot_url": "/c/mot-servicing/",
    }
    return render(request, "web/account/vehicles/detail.html", context)


@customer_required
@require_POST
def vehicle_remove(request: HttpRequest, vehicle_id: int) -> HttpResponse:
    vehicle = selectors.vehicle_get_for_owner(owner=customer(request), vehicle_id=vehicle_id)
    services.vehicle_remove(owner=customer(request), vehicle=vehicle)
    messages.success(request, f"{vehicle.registration_display} was removed from your garage.")
    return redirect("web:account-vehicles")
