"""Booking a slot and living with the booking: choose → hold (with a countdown) → pay with
the sandbox card → confirmation; then detail, cancel, reschedule and receipt.

Each view parses the form, calls the same service as `agora.bookings.api`, and shows a
refusal (slot just taken, hold expired, card declined) on the page that caused it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_safe

from agora.bookings import selectors
from agora.bookings.errors import BookingError
from agora.bookings.models import Booking, BookingStatus, CancellationPolicy
from agora.bookings.services import holds, lifecycle
from agora.bookings.states import BOOKING_LIFECYCLE
from agora.catalog.models import Listing, ListingKind
from agora.catalog.selectors import listing_get_visible
from agora.core import clock
from agora.core.errors import DomainError, InvalidTransition, NotFound
from agora.core.money import Money
from agora.verticals.automotive.selectors import vehicles_all_for_owner
from agora.web.access import customer_required
from agora.web.account import display, once
from agora.web.account.common import customer
from agora.web.account.forms import (
    CancelForm,
    HoldForm,
    PayForm,
    RescheduleForm,
    parse_start,
)
from agora.web.account.refusals import attach_to_form, form_again, refusal_message

SLOT_CHOICES = 24


@dataclass(frozen=True)
class SlotChoice:
    start: str  # ISO 8601 with offset
    label: str
    day: str
    remaining: int
    url: str


def _book_url(listing_id: int, start: datetime) -> str:
    query = urlencode({"start": start.isoformat()})
    return f"{reverse('web:account-book', args=[listing_id])}?{query}"


def _slot_choices(
    listing: Listing, *, timezone: str, around: datetime | None, days: int = 7
) -> list[SlotChoice]:
    """Free slots from the local day of `around` (or today) for `days` days."""
    zone = ZoneInfo(timezone)
    now = clock.now()
    first_day = (around or now).astimezone(zone).date()
    window_start = max(now, datetime.combine(first_day, time.min, tzinfo=zone))
    window_end = datetime.combine(first_day + timedelta(days=days), time.min, tzinfo=zone)
    result = selectors.listing_slots(listing=listing, start=window_start, end=window_end)
    return [
        SlotChoice(
            start=slot.start.isoformat(),
            label=slot.start.astimezone(zone).strftime("%H:%M"),
            day=slot.start.astimezone(zone).strftime("%A %-d %B"),
            remaining=slot.remaining,
            url=_book_url(listing.pk, slot.start),
        )
        for slot in result.slots[:SLOT_CHOICES]
    ]


def _policy(vendor_id: int) -> CancellationPolicy | None:
    return CancellationPolicy.objects.filter(vendor_id=vendor_id).first()


def _not_a_service(request: HttpRequest, listing: Listing) -> HttpResponse:
    if listing.kind == ListingKind.QUOTE:
        return redirect("web:account-quote", listing_id=listing.pk)
    return render(
        request,
        "web/account/not_bookable.html",
        {"page_title": "This is not a bookable service", "listing": listing},
        status=422,
    )


# --- choose and hold ------------------------------------------------------------------------


@customer_required
@require_http_methods(["GET", "HEAD", "POST"])
def book(request: HttpRequest, listing_id: int) -> HttpResponse:
    """GET ?start=<ISO 8601>[&resource=<id>]: the slot, its price and the policy.
    POST: hold the slot, then pay."""
    listing = listing_get_visible(user=customer(request), listing_id=listing_id)
    if listing.kind != ListingKind.SERVICE:
        return _not_a_service(request, listing)
    timezone = listing.vendor.timezone
    refusal: DomainError | None = None
    start: datetime | None = None
    if request.method == "POST":
        form = HoldForm(request.POST)
        if form.is_valid():
            start = form.cleaned_data["start"]
            outcome = _hold(request, listing, form)
            if isinstance(outcome, HttpResponse):
                return outcome
            refusal = outcome
            form = form_again(HoldForm, request.POST, refusal)
    else:
        start = parse_start(request.GET.get("start"))
        form = HoldForm(
            initial={"start": start.isoformat() if start else "", "token": once.new_token()}
        )
    return _book_page(request, listing, form, start=start, refusal=refusal, timezone=timezone)


def _hold(request: HttpRequest, listing: Listing, form: HoldForm) -> HttpResponse | DomainError:
    """Hold the slot once per form token; the redirect to pay, or the refusal."""
    token = form.cleaned_data["token"]
    with transaction.atomic():
        done = once.claim(user=customer(request), purpose="hold", token=token)
        if done:
            return redirect(done)
        try:
            booking = holds.booking_hold(
                customer=customer(request),
                listing=listing,
                start=form.cleaned_data["start"],
                notes=form.cleaned_data["notes"],
                vehicle_id=form.cleaned_data.get("vehicle_id"),
            )
        except DomainError as error:
            transaction.set_rollback(True)
            return error
        path = reverse("web:account-booking-pay", args=[booking.pk])
        once.remember(user=customer(request), purpose="hold", token=token, result=path)
    return redirect(path)


def _book_page(
    request: HttpRequest,
    listing: Listing,
    form: HoldForm,
    *,
    start: datetime | None,
    refusal: DomainError | None,
    timezone: str,
) -> HttpResponse:
    context: dict[str, object] = {
        "page_title": f"Book {listing.title}",
        "listing": listing,
        "form": form,
        "price": display.money(listing.price_amount, listing.currency),
        "policy": display.policy_text(_policy(listing.vendor_id)),
        "timezone": timezone,
        "start": start,
    }
    status = refusal.status if refusal is not None else 400 if form.errors else 200
    try:
        booking_context = selectors.context_for(listing)
        slots = _slot_choices(listing, timezone=timezone, around=start)
    except BookingError as error:
        # No opening hours, or not bookable: nothing to choose; say why.
        context.update(unbookable=refusal_message(error), slots=[])
        return render(request, "web/account/book.html", context, status=error.status)
    resource_id = request.GET.get("resource")
    context["resource"] = booking_context.resource
    if resource_id and (
        booking_context.resource is None or str(booking_context.resource.pk) != resource_id
    ):
        context["resource_note"] = (
            "The resource in the link does not serve this listing; it is booked on its own "
            "capacity."
        )
    available = {datetime.fromisoformat(choice.start): choice for choice in slots}
    if start is not None:
        duration = timedelta(minutes=listing.duration_minutes or 0)
        context["when"] = display.local_span(start, start + duration, timezone)
        chosen = available.get(start)
        context["chosen"] = chosen
        if chosen is None and refusal is None:
            context["unavailable"] = (
                "That time is not available (taken, full, outside opening hours or too soon). "
                "Choose another time below."
            )
    context["slots"] = slots
    if _for_vehicles(listing):
        context["vehicles"] = vehicles_all_for_owner(owner=customer(request))
        context["chosen_vehicle"] = str(
            form["vehicle_id"].value() or request.GET.get("vehicle", "")
        )
    return render(request, "web/account/book.html", context, status=status)


def _for_vehicles(listing: Listing) -> bool:
    """Automotive services ask which of the customer's vehicles the work is for."""
    path = listing.category.path if listing.category_id else ""
    return path == "automotive" or path.startswith("automotive/")


# --- pay the hold ---------------------------------------------------------------------------


@customer_required
@require_http_methods(["GET", "HEAD", "POST"])
def booking_pay(request: HttpRequest, booking_id: int) -> HttpResponse:
    booking = selectors.booking_get_for_customer(user=customer(request), booking_id=booking_id)
    # A POST goes on to the token check first: a double-click's second request is sent
    # where the first went (the confirmation), not to the booking.
    if booking.status != BookingStatus.HELD and request.method != "POST":
        return redirect("web:account-booking", booking_id=booking.pk)
    refusal: DomainError | None = None
    if request.method == "POST":
        form = PayForm(request.POST)
        if form.is_valid():
            token = form.cleaned_data["token"]
            with transaction.atomic():
                done = once.claim(user=customer(request), purpose="pay", token=token)
                if done:
                    return redirect(done)
                try:
                    lifecycle.booking_pay(
                        customer=customer(request),
                        booking=booking,
                        payment_method=form.cleaned_data["payment_method"],
                        idempotency_key=f"web-{token}",
                    )
                except DomainError as error:
                    transaction.set_rollback(True)
                    refusal = error
                else:
                    path = reverse("web:account-booking-confirmed", args=[booking.pk])
                    once.remember(user=customer(request), purpose="pay", token=token, result=path)
                    return redirect(path)
            if isinstance(refusal, InvalidTransition):
                messages.info(request, refusal.detail)
                return redirect("web:account-booking", booking_id=booking.pk)
            assert refusal is not None
            form = form_again(PayForm, request.POST, refusal)
    else:
        form = PayForm(initial={"token": once.new_token()})
    timezone = booking.vendor.timezone
    live = display.hold_is_live(booking)
    expires_at = booking.hold_expires_at
    seconds_left = max(0, int((expires_at - clock.now()).total_seconds())) if expires_at else 0
    context = {
        "page_title": "Pay for your booking",
        "booking": booking,
        "form": form,
        "live": live,
        "when": display.local_span(booking.start, booking.end, timezone),
        "price": display.money(booking.price_amount, booking.currency),
        "expires_at_iso": expires_at.isoformat() if expires_at else "",
        "expires_at_text": display.local_time(expires_at, timezone) if expires_at else "",
        "minutes_left": (seconds_left + 59) // 60,
        "seconds_left": seconds_left,
        "policy": display.policy_text(_policy(booking.vendor_id)),
        "book_again_url": _book_url(booking.listing_id, booking.start),
    }
    status = refusal.status if refusal is not None else (200 if live else 409)
    return render(request, "web/account/pay.html", context, status=status)


@customer_required
@require_safe
def booking_confirmed(request: HttpRequest, booking_id: int) -> HttpResponse:
    booking = selectors.booking_get_for_customer(user=customer(request), booking_id=booking_id)
    if booking.paid_at is None:
        return redirect("web:account-booking", booking_id=booking.pk)
    policy = _policy(booking.vendor_id)
    return render(
        request,
        "web/account/booking_confirmed.html",
        {
            "page_title": "Booking confirmed",
            "booking": booking,
            "status_text": display.booking_status_text(booking.status),
            "when": display.local_span(booking.start, booking.end, booking.vendor.timezone),
            "price": display.money(booking.price_amount, booking.currency),
            "policy": display.policy_text(policy),
        },
    )


# --- the booking afterwards ----------------------------------------------------------------


def _can(booking: Booking, target: str) -> bool:
    return BOOKING_LIFECYCLE.can(display.display_status(booking), target)


@customer_required
@require_safe
def booking_detail(request: HttpRequest, booking_id: int) -> HttpResponse:
    booking = selectors.booking_get_for_customer(user=customer(request), booking_id=booking_id)
    timezone = booking.vendor.timezone
    status = display.display_status(booking)
    return render(
        request,
        "web/account/booking_detail.html",
        {
            "page_title": f"Booking: {booking.listing.title}",
            "booking": booking,
            "status": status,
            "status_text": display.booking_status_text(status),
            "when": display.local_span(booking.start, booking.end, timezone),
            "price": display.money(booking.price_amount, booking.currency),
            "timeline": display.timeline(
                selectors.booking_history(booking),
                customer_id=booking.customer_id,
                timezone=timezone,
                texts=display.BOOKING_STATUS_TEXT,
            ),
            "can_pay": display.hold_is_live(booking),
            "can_cancel": _can(booking, BookingStatus.CANCELLED),
            "can_reschedule": status in holds.RESCHEDULABLE,
            "can_review": booking.status == BookingStatus.COMPLETED,
            "paid": booking.paid_at is not None,
            "policy": display.policy_text(_policy(booking.vendor_id)),
        },
    )


@customer_required
@require_http_methods(["GET", "HEAD", "POST"])
def booking_cancel(request: HttpRequest, booking_id: int) -> HttpResponse:
    """GET: what the policy refunds if you cancel now. POST: cancel."""
    booking = selectors.booking_get_for_customer(user=customer(request), booking_id=booking_id)
    form = CancelForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            lifecycle.booking_cancel(
                actor=customer(request),
                booking=booking,
                by_vendor=False,
                reason=form.cleaned_data["reason"],
            )
        except DomainError as error:
            form.add_error(None, refusal_message(error))
        else:
            booking.refresh_from_db()
            refunded = booking.price_amount - booking.cancellation_fee_amount
            if booking.paid_at is not None:
                messages.success(
                    request,
                    f"Booking cancelled. {display.money(refunded, booking.currency)} will be "
                    "refunded to your card.",
                )
            else:
                messages.success(request, "Booking cancelled. Nothing was charged.")
            return redirect("web:account-booking", booking_id=booking.pk)
    policy = _policy(booking.vendor_id)
    timezone = booking.vendor.timezone
    fee = lifecycle.cancellation_fee(booking, by_vendor=False, policy=policy)
    paid = booking.paid_at is not None
    refund = Money(booking.price_amount - fee.amount, booking.currency) if paid else None
    return render(
        request,
        "web/account/booking_cancel.html",
        {
            "page_title": "Cancel your booking",
            "booking": booking,
            "form": form,
            "can_cancel": _can(booking, BookingStatus.CANCELLED),
            "status_text": display.booking_status_text(display.display_status(booking)),
            "when": display.local_span(booking.start, booking.end, timezone),
            "price": display.money(booking.price_amount, booking.currency),
            "paid": paid,
            "fee": fee.format(),
            "fee_amount": fee.amount,
            "refund": refund.format() if refund else None,
            "deadline": display.local_time(
                display.free_cancellation_deadline(booking, policy), timezone
            ),
            "policy": display.policy_text(policy),
        },
        status=400 if form.errors else 200,
    )


@customer_required
@require_http_methods(["GET", "HEAD", "POST"])
def booking_reschedule(request: HttpRequest, booking_id: int) -> HttpResponse:
    booking = selectors.booking_get_for_customer(user=customer(request), booking_id=booking_id)
    timezone = booking.vendor.timezone
    form = RescheduleForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            holds.booking_reschedule(
                actor=customer(request), booking=booking, start=form.cleaned_data["start"]
            )
        except DomainError as error:
            attach_to_form(form, error)
            status = error.status
        else:
            booking.refresh_from_db()
            messages.success(
                request,
                f"Moved to {display.local_span(booking.start, booking.end, timezone)}.",
            )
            return redirect("web:account-booking", booking_id=booking.pk)
    elif form.errors:
        status = 400
    around = parse_start(request.GET.get("from")) or max(booking.start, clock.now())
    slots: list[SlotChoice] = []
    unbookable = ""
    can_move = display.display_status(booking) in holds.RESCHEDULABLE
    if can_move:
        try:
            slots = _slot_choices(booking.listing, timezone=timezone, around=around)
        except BookingError as error:
            unbookable = refusal_message(error)
    zone = ZoneInfo(timezone)
    week = timedelta(days=7)
    return render(
        request,
        "web/account/booking_reschedule.html",
        {
            "page_title": "Move your booking",
            "booking": booking,
            "form": form,
            "can_move": can_move,
            "slots": slots,
            "unbookable": unbookable,
            "when": display.local_span(booking.start, booking.end, timezone),
            "policy": display.policy_text(_policy(booking.vendor_id)),
            "later_url": "?" + urlencode({"from": (around + week).astimezone(zone).isoformat()}),
            "earlier_url": "?" + urlencode({"from": (around - week).astimezone(zone).isoformat()})
            if around - week > clock.now()
            else "",
        },
        status=status,
    )


@customer_required
@require_safe
def booking_receipt(request: HttpRequest, booking_id: int) -> HttpResponse:
    booking = selectors.booking_get_for_customer(user=customer(request), booking_id=booking_id)
    timezone = booking.vendor.timezone
    receipt = display.receipt_for({booking.reference: booking.listing.title}, timezone=timezone)
    if receipt is None:
        raise NotFound("Nothing has been paid for this booking yet.")
    return render(
        request,
        "web/account/booking_receipt.html",
        {
            "page_title": f"Receipt for booking {booking.pk}",
            "booking": booking,
            "receipt": receipt,
            "when": display.local_span(booking.start, booking.end, timezone),
            "cancellation_fee": display.money(booking.cancellation_fee_amount, booking.currency)
            if booking.cancellation_fee_amount
            else "",
        },
    )
