"""Bookings: the list with a status filter, one booking with its history, and the vendor's
moves — accept, decline, start, complete, no-show, cancel — through the same lifecycle
services as `POST /api/v1/bookings/{id}/...`.

Every move is a POST (CSRF). A plain form post redirects back with a message; an htmx post
gets the booking's card (or agenda row) re-rendered in place. A move the state machine
refuses is shown as a message where the buttons are, never as an error page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST, require_safe

from agora.accounts.models import User
from agora.bookings import selectors as booking_selectors
from agora.bookings.models import Booking, BookingStatus
from agora.bookings.services import lifecycle
from agora.core import clock
from agora.core.errors import DomainError
from agora.core.money import Money
from agora.vendors.selectors import StaffContext
from agora.web.access import vendor_staff_required
from agora.web.vendor_portal.operations import selectors
from agora.web.vendor_portal.operations.forms import CancelForm, DeclineForm
from agora.web.vendor_portal.operations.job_stages import StageForm, record_stage
from agora.web.vendor_portal.operations.views.common import is_htmx, page, staff_for

STATUS_CHOICES = BookingStatus.choices


@dataclass(frozen=True)
class Action:
    name: str
    label: str
    style: str = ""
    needs_reason: bool = False


ACCEPT = Action("accept", "Accept")
DECLINE = Action("decline", "Decline", "secondary", needs_reason=True)
START = Action("start", "Start work")
COMPLETE = Action("complete", "Mark completed")
NO_SHOW = Action("no-show", "Customer did not come", "secondary")
CANCEL = Action("cancel", "Cancel and refund", "danger", needs_reason=True)


def actions_for(booking: Booking) -> list[Action]:
    """The moves worth offering now; the services still decide (a stale page may offer a
    move another person already made, and gets a clear refusal)."""
    if booking.status == BookingStatus.PENDING:
        return [ACCEPT, DECLINE]
    if booking.status == BookingStatus.ACCEPTED:
        offered = [START, COMPLETE]
        if clock.now() >= booking.start:
            offered.append(NO_SHOW)
        return [*offered, CANCEL]
    if booking.status == BookingStatus.IN_PROGRESS:
        return [COMPLETE]
    return []


def present(booking: Booking) -> Booking:
    """Give the templates what they show beside the row: price and the offered moves."""
    booking.price = Money(booking.price_amount, booking.currency)  # type: ignore[attr-defined]
    booking.actions = actions_for(booking)  # type: ignore[attr-defined]
    booking.resource = booking.unit.resource  # type: ignore[attr-defined]
    return booking


@require_safe
@vendor_staff_required
def booking_list(request: HttpRequest) -> HttpResponse:
    staff = staff_for(request)
    status = request.GET.get("status") or None
    result = selectors.bookings_page(
        staff=staff, status=status, cursor=request.GET.get("cursor") or None
    )
    return page(
        request,
        "bookings.html",
        staff,
        {
            "page_title": "Bookings — vendor portal",
            "bookings": [present(b) for b in result.items],
            "next_cursor": result.next_cursor,
            "status": status or "",
            "status_choices": STATUS_CHOICES,
        },
    )


def _detail_context(staff: StaffContext, booking: Booking) -> dict[str, Any]:
    return {
        "page_title": f"Booking #{booking.pk} — vendor portal",
        "booking": present(booking),
        "history": booking_selectors.booking_history(booking),
        "decline_form": DeclineForm(),
        "cancel_form": CancelForm(),
    }


@require_safe
@vendor_staff_required
def booking_detail(request: HttpRequest, booking_id: int) -> HttpResponse:
    staff = staff_for(request)
    booking = selectors.booking_get(staff=staff, user=request.user, booking_id=booking_id)
    return page(request, "booking_detail.html", staff, _detail_context(staff, booking))


Move = Callable[[User, Booking, dict[str, str]], Booking]

MOVES: dict[str, tuple[Move, str]] = {
    "accept": (lambda u, b, f: lifecycle.booking_accept(actor=u, booking=b), "Booking accepted."),
    "decline": (
        lambda u, b, f: lifecycle.booking_decline(actor=u, booking=b, reason=f["reason"]),
        "Booking declined; the customer is refunded in full.",
    ),
    "start": (lambda u, b, f: lifecycle.booking_start(actor=u, booking=b), "Work started."),
    "complete": (
        lambda u, b, f: lifecycle.booking_complete(actor=u, booking=b),
        "Booking completed.",
    ),
    "no-show": (
        lambda u, b, f: lifecycle.booking_no_show(actor=u, booking=b),
        "Marked as a no-show.",
    ),
    "cancel": (
        lambda u, b, f: lifecycle.booking_cancel(
            actor=u, booking=b, by_vendor=True, reason=f["reason"]
        ),
        "Booking cancelled; the customer is refunded in full.",
    ),
}

# Live job tracking (automotive): where the job on the customer's vehicle is.
MOVES["stage"] = (record_stage, "Stage recorded; the customer sees it at once.")

FORMS = {"decline": DeclineForm, "cancel": CancelForm, "stage": StageForm}


def _safe_next(request: HttpRequest, default: str) -> str:
    back = request.POST.get("next") or ""
    if back.startswith("/vendor/") and url_has_allowed_host_and_scheme(back, allowed_hosts=None):
        return back
    return default


@require_POST
@vendor_staff_required
def booking_move(request: HttpRequest, booking_id: int, action: str) -> HttpResponse:
    staff = staff_for(request)
    booking = selectors.booking_get(staff=staff, user=request.user, booking_id=booking_id)
    if action not in MOVES:
        raise Http404("No such action.")
    move, done = MOVES[action]
    error, status = "", 200
    fields: dict[str, str] = {"reason": ""}
    form_class = FORMS.get(action)
    if form_class is not None:
        form = form_class(request.POST)
        if form.is_valid():
            fields = form.cleaned_data
        else:
            error = " ".join(f"{name}: {e}" for name, errs in form.errors.items() for e in errs)
            status = 422
    if not error:
        try:
            move(request.user, booking, fields)  # type: ignore[arg-type]
        except DomainError as refusal:
            error, status = refusal.detail, int(refusal.status)
    # Fresh from the database: the page shows what is, whoever moved it.
    booking = selectors.booking_get(staff=staff, user=request.user, booking_id=booking.pk)
    context = _detail_context(staff, booking)
    context.update({"error": error, "notice": "" if error else done})
    if is_htmx(request):
        # htmx swaps only 2xx answers: a refusal comes back as 200 with the message in it.
        row = request.POST.get("view") == "row"
        template = "partials/booking_row.html" if row else "partials/booking_card.html"
        response = page(request, template, staff, {**context, "b": context["booking"]})
        if not error:
            # The agenda's counts listen for this and refresh themselves.
            response["HX-Trigger"] = "vendor-agenda-changed"
        return response
    if error:
        return page(request, "booking_detail.html", staff, context, status=status)
    messages.success(request, f"Booking #{booking.pk}: {done}")
    return redirect(_safe_next(request, f"/vendor/bookings/{booking.pk}/"))
