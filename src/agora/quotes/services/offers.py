"""Quotes: offered (and revised, every version kept), withdrawn, passed on, expired, and
accepted — which turns the quote into a paid booking and declines the others.

Every write locks the request's row first (`requests.locked_request`). Two customers'
clicks on two quotes of one request, a vendor revising while the customer accepts, the
expiry sweep firing while someone accepts: all queue on that one row, and each finds the
state the previous one left. Acceptance in particular takes the lock *before* it charges
the card, so a second accept is refused before any money is asked for — with a real
gateway a charge is not undone by rolling back our transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Case, IntegerField, Value, When

from agora.accounts.models import User
from agora.bookings.models import Booking, BookingStatus
from agora.bookings.services import lifecycle as booking_lifecycle
from agora.bookings.services.quoted import booking_hold_quoted
from agora.catalog.models import Listing, ListingKind, ListingStatus
from agora.core import clock
from agora.core.audit import audit_log
from agora.core.errors import InvalidTransition, NotFound
from agora.core.money import Money
from agora.core.validation import field_error
from agora.quotes import timers
from agora.quotes.candidates import subtree
from agora.quotes.errors import QuoteError, QuoteErrorCode, quote_expired
from agora.quotes.models import (
    LIVE_REQUEST_STATUSES,
    Invitation,
    InvitationKind,
    InvitationStatus,
    Pricing,
    Quote,
    QuoteRequest,
    QuoteRevision,
    QuoteStatus,
    RequestStatus,
)
from agora.quotes.services import announce, stats
from agora.quotes.services.requests import close_request, locked_request
from agora.quotes.states import INVITATION_LIFECYCLE, QUOTE_LIFECYCLE, REQUEST_LIFECYCLE

MAX_DURATION_MINUTES = 14 * 24 * 60
MAX_VALIDITY = timedelta(days=90)
DEFAULT_DURATION_MINUTES = 60


@dataclass(frozen=True)
class QuoteTerms:
    """What a vendor offers. `lines` are `(description, amount)` in the price's currency."""

    price: Money
    valid_until: datetime
    lines: tuple[tuple[str, Money], ...] = ()
    pricing: str = Pricing.FIXED
    start: datetime | None = None
    duration_minutes: int | None = None
    message: str = ""


def _check_terms(terms: QuoteTerms, *, currency: str, now: datetime) -> list[dict[str, Any]]:
    if terms.price.currency != currency:
        raise field_error("price.currency", f"quote in the vendor's currency, {currency}")
    if terms.price.amount <= 0:
        raise field_error("price.amount", "must be positive")
    lines: list[dict[str, Any]] = []
    for index, (description, amount) in enumerate(terms.lines):
        if amount.currency != terms.price.currency:
            raise field_error(f"lines.{index}.amount.currency", "must be the price's currency")
        if amount.amount < 0:
            raise field_error(f"lines.{index}.amount.amount", "must not be negative")
        lines.append({"description": description.strip(), "amount": amount.amount})
    if lines and sum(amount.amount for _, amount in terms.lines) != terms.price.amount:
        raise field_error("lines", "the lines must add up to the price")
    for name, value in (("valid_until", terms.valid_until), ("start", terms.start)):
        if value is not None and value.tzinfo is None:
            raise field_error(name, "needs a UTC offset", "datetime")
    if not now < terms.valid_until <= now + MAX_VALIDITY:
        raise field_error("valid_until", "must be in the future, at most 90 days ahead")
    if terms.start is not None and not now < terms.start <= now + timedelta(days=365):
        raise field_error("start", "must be in the future, at most a year ahead")
    if terms.duration_minutes is not None and not (
        1 <= terms.duration_minutes <= MAX_DURATION_MINUTES
    ):
        raise field_error("duration_minutes", "from 1 minute to 14 days")
    if terms.pricing not in Pricing.values:
        raise field_error("pricing", f"one of {', '.join(Pricing.values)}", "enum")
    return lines


def _terms_fields(terms: QuoteTerms, lines: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "price_amount": terms.price.amount,
        "currency": terms.price.currency,
        "lines": lines,
        "pricing": terms.pricing,
        "valid_until": terms.valid_until,
        "start": terms.start,
        "duration_minutes": terms.duration_minutes,
        "message": terms.message.strip(),
    }


def _locked_invitation(invitation: Invitation) -> tuple[QuoteRequest, Invitation]:
    request = locked_request(invitation.request_id)
    fresh = Invitation.objects.select_related("vendor").get(pk=invitation.pk)
    return request, fresh


@transaction.atomic
def quote_offer(*, actor: User, invitation: Invitation, terms: QuoteTerms) -> Quote:
    """The invited vendor quotes — or revises its quote (the earlier terms are kept as a
    revision). Precondition: `actor` is on the invited vendor's staff (the selector that
    found `invitation` checked it). Not open any more → 409 invalid_transition."""
    request, invitation = _locked_invitation(invitation)
    vendor = invitation.vendor
    now = clock.now()
    if request.status not in LIVE_REQUEST_STATUSES:
        raise InvalidTransition(
            f"This request is {request.status}; it takes no more quotes.",
            extra={"from": request.status, "to": "quoted"},
        )
    lines = _check_terms(terms, currency=vendor.currency, now=now)
    fields = _terms_fields(terms, lines)
    existing = Quote.objects.filter(request=request, vendor=vendor).first()
    if existing is not None:
        return _revise(existing, actor=actor, request=request, fields=fields, now=now)
    if invitation.status != InvitationStatus.INVITED:
        raise InvalidTransition(
            f"This invitation was {invitation.status}; it can no longer be answered.",
            extra={"from": invitation.status, "to": InvitationStatus.QUOTED},
        )
    quote = Quote.objects.create(
        request=request, vendor=vendor, created_by=actor, created_at=now, updated_at=now, **fields
    )
    QuoteRevision.objects.create(
        quote=quote, revision=1, created_by=actor, created_at=now, **fields
    )
    audit_log(
        actor=actor,
        action="quote.offered",
        target=quote,
        data={"to": QuoteStatus.OFFERED, "revision": 1, "price": terms.price.amount},
    )
    INVITATION_LIFECYCLE.apply(
        invitation, InvitationStatus.QUOTED, actor=actor, updates={"responded_at": now}
    )
    stats.count_answered(
        vendor_id=vendor.pk,
        seconds=int((now - invitation.invited_at).total_seconds()),
        quoted=True,
    )
    if request.status == RequestStatus.OPEN:
        REQUEST_LIFECYCLE.apply(
            request,
            RequestStatus.QUOTED,
            actor=actor,
            reason="first quote",
            updates={"first_quote_at": request.first_quote_at or now, "next_wave_at": None},
        )
    announce.announce_quote(
        "quote.offered", quote, request=request, vendor=vendor, to_customer=True, revised=False
    )
    timers.after_quote(quote=quote)
    return quote


def _revise(
    quote: Quote, *, actor: User, request: QuoteRequest, fields: dict[str, Any], now: datetime
) -> Quote:
    if quote.status != QuoteStatus.OFFERED:
        raise InvalidTransition(
            f"A {quote.status} quote cannot be revised.",
            extra={"from": quote.status, "to": QuoteStatus.OFFERED},
        )
    revision = quote.revision + 1
    moved = Quote.objects.filter(pk=quote.pk, status=QuoteStatus.OFFERED).update(
        revision=revision, updated_at=now, **fields
    )
    if not moved:  # cannot happen under the request's lock; refuse rather than guess
        raise InvalidTransition("The quote changed meanwhile; reload it.")
    for name, value in fields.items():
        setattr(quote, name, value)
    quote.revision, quote.updated_at = revision, now
    QuoteRevision.objects.create(
        quote=quote, revision=revision, created_by=actor, created_at=now, **fields
    )
    audit_log(
        actor=actor,
        action="quote.revised",
        target=quote,
        data={"revision": revision, "price": quote.price_amount},
    )
    announce.announce_quote(
        "quote.offered",
        quote,
        request=request,
        vendor=quote.vendor,
        to_customer=True,
        revised=True,
    )
    timers.after_quote(quote=quote)
    return quote


def _reopen_if_unquoted(request: QuoteRequest, *, actor: User | None, reason: str) -> None:
    """A quoted request whose last offered quote went away is open again."""
    if request.status != RequestStatus.QUOTED:
        return
    if not Quote.objects.filter(request=request, status=QuoteStatus.OFFERED).exists():
        REQUEST_LIFECYCLE.apply(request, RequestStatus.OPEN, actor=actor, reason=reason)


@transaction.atomic
def quote_withdraw(*, actor: User, quote: Quote, reason: str = "") -> Quote:
    """The vendor takes its offer back. Precondition: `actor` is on the quote's vendor's
    staff."""
    request = locked_request(quote.request_id)
    quote = Quote.objects.select_related("vendor").get(pk=quote.pk)
    QUOTE_LIFECYCLE.apply(
        quote,
        QuoteStatus.WITHDRAWN,
        actor=actor,
        reason=reason,
        updates={"decided_at": clock.now()},
    )
    _reopen_if_unquoted(request, actor=actor, reason="last quote withdrawn")
    announce.announce_quote(
        "quote.withdrawn",
        quote,
        request=request,
        vendor=quote.vendor,
        to_customer=True,
        reason=reason,
    )
    return quote


@transaction.atomic
def invitation_pass(*, actor: User, invitation: Invitation, reason: str = "") -> Invitation:
    """The vendor declines to quote (or an assigned vendor passes the job on; the next
    assignment batch offers it to the next best vendor)."""
    request, invitation = _locked_invitation(invitation)
    now = clock.now()
    if request.status not in LIVE_REQUEST_STATUSES:
        raise InvalidTransition(
            f"This request is {request.status}.", extra={"from": request.status, "to": "passed"}
        )
    INVITATION_LIFECYCLE.apply(
        invitation,
        InvitationStatus.PASSED,
        actor=actor,
        reason=reason,
        updates={"responded_at": now},
    )
    stats.count_answered(
        vendor_id=invitation.vendor_id,
        seconds=int((now - invitation.invited_at).total_seconds()),
        quoted=False,
    )
    if invitation.kind == InvitationKind.ASSIGNMENT:
        timers.assign_soon()
    return invitation


def invitation_mark_seen(*, invitation: Invitation) -> Invitation:
    """The vendor's staff opened the request: the first time is kept (one conditional
    UPDATE, nothing when already seen)."""
    if invitation.seen_at is None:
        now = clock.now()
        if Invitation.objects.filter(pk=invitation.pk, seen_at__isnull=True).update(seen_at=now):
            invitation.seen_at = now
    return invitation


# --- acceptance -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Accepted:
    quote: Quote
    booking: Booking


def _booking_listing(request: QuoteRequest, vendor_id: int) -> Listing:
    """What the booking is of: the request's own listing when it was asked of this
    vendor's listing, else the vendor's quote listing in the category (or, lacking one,
    its other listings there)."""
    listings = Listing.objects.select_related("vendor", "category").filter(
        vendor_id=vendor_id, status=ListingStatus.ACTIVE
    )
    if request.listing_id is not None:
        own = listings.filter(pk=request.listing_id).first()
        if own is not None:
            return own
    found = (
        listings.filter(subtree(request.category.path))
        .annotate(
            preference=Case(
                When(kind=ListingKind.QUOTE, then=Value(0)),
                When(kind=ListingKind.SERVICE, then=Value(1)),
                default=Value(2),
                output_field=IntegerField(),
            )
        )
        .exclude(kind=ListingKind.PRODUCT)
        .order_by("preference", "id")
        .first()
    )
    if found is None:
        raise QuoteError(
            "The vendor has no active listing in this category to book; ask it to quote again.",
            code=QuoteErrorCode.NO_VENDOR_LISTING,
        )
    return found


def _check_acceptable(
    quote: Quote, request: QuoteRequest, *, revision: int | None, now: datetime
) -> None:
    if quote.status == QuoteStatus.ACCEPTED or request.status == RequestStatus.ACCEPTED:
        raise InvalidTransition(
            "A quote of this request was accepted already.",
            extra={"from": quote.status, "to": QuoteStatus.ACCEPTED},
        )
    if quote.status == QuoteStatus.EXPIRED or request.status == RequestStatus.EXPIRED:
        raise quote_expired()
    if quote.status != QuoteStatus.OFFERED or request.status not in LIVE_REQUEST_STATUSES:
        raise InvalidTransition(
            f"This quote is {quote.status} and its request {request.status}.",
            extra={"from": quote.status, "to": QuoteStatus.ACCEPTED},
        )
    if quote.valid_until <= now or request.expires_at <= now:
        raise quote_expired()
    if revision is not None and revision != quote.revision:
        raise QuoteError(
            f"The vendor revised this quote (now revision {quote.revision}); review it again.",
            code=QuoteErrorCode.QUOTE_REVISED,
            extra={"revision": quote.revision},
        )


@transaction.atomic
def quote_accept(
    *,
    customer: User,
    quote: Quote,
    payment_method: str,
    idempotency_key: str,
    start: datetime | None = None,
    revision: int | None = None,
) -> Accepted:
    """Accept a quote: hold the vendor at the quote's (or the given) start for the quote's
    price, pay it at once as `POST /bookings/{id}/pay` would, and — the quote being the
    vendor's own offer for that time and price — confirm it on the vendor's behalf. The
    request becomes accepted and the other quotes declined, all in one transaction: a
    declined card (402) or a taken slot (409) leaves everything as it was.

    Precondition: `customer` is the request's customer. Past `valid_until` → 409
    quote_expired; a second accept → 409 invalid_transition."""
    # The lock first, the card after: see the module's docstring.
    request = locked_request(quote.request_id)
    quote = Quote.objects.select_related("vendor", "created_by").get(pk=quote.pk)
    if request.customer_id != customer.pk:
        raise NotFound("No such quote.")
    now = clock.now()
    _check_acceptable(quote, request, revision=revision, now=now)
    start = start or quote.start
    if start is None:
        raise QuoteError(
            "This quote names no start: choose one.",
            code=QuoteErrorCode.START_REQUIRED,
            status=422,
            extra={"errors": [{"loc": ["body", "start"], "msg": "required", "type": "missing"}]},
        )
    listing = _booking_listing(request, quote.vendor_id)
    minutes = quote.duration_minutes or listing.duration_minutes or DEFAULT_DURATION_MINUTES
    booking = booking_hold_quoted(
        customer=customer,
        listing=listing,
        start=start,
        duration=timedelta(minutes=minutes),
        price=quote.price,
        notes=f"Quote #{quote.pk}: {request.title}",
    )
    booking = booking_lifecycle.booking_pay(
        customer=customer,
        booking=booking,
        payment_method=payment_method,
        idempotency_key=f"quote:{quote.pk}:{idempotency_key}",
    )
    if booking.status == BookingStatus.PENDING and quote.created_by is not None:
        booking = booking_lifecycle.booking_accept(actor=quote.created_by, booking=booking)
    QUOTE_LIFECYCLE.apply(
        quote,
        QuoteStatus.ACCEPTED,
        actor=customer,
        data={"booking_id": booking.pk, "revision": quote.revision},
        updates={"booking": booking, "decided_at": now},
    )
    declined = close_request(
        request,
        RequestStatus.ACCEPTED,
        actor=customer,
        reason="another quote was accepted",
        quote_status=QuoteStatus.DECLINED,
        updates={"accepted_quote": quote, "booking": booking, "accepted_at": now},
    )
    stats.count_won(vendor_id=quote.vendor_id)
    announce.announce_quote(
        "quote.accepted",
        quote,
        request=request,
        vendor=quote.vendor,
        to_vendor=True,
        booking_id=booking.pk,
        booking_url=f"/vendor/bookings/{booking.pk}/?vendor={quote.vendor_id}",
        customer_name=announce.first_name(customer.name),
    )
    for loser in declined:
        announce.announce_quote(
            "quote.declined", loser, request=request, vendor=loser.vendor, to_vendor=True
        )
    return Accepted(quote=quote, booking=booking)


# --- automatic moves (tasks) ------------------------------------------------------------------


def quotes_expire_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """Offered quotes past `valid_until` → expired (a request left with none is open
    again). `now` is the sweep's idea of the time (a timer may fire late)."""
    now = now or clock.now()
    due = list(
        Quote.objects.filter(status=QuoteStatus.OFFERED, valid_until__lte=now)
        .order_by("valid_until", "pk")
        .values_list("pk", "request_id")[:limit]
    )
    done = 0
    for quote_id, request_id in due:
        with transaction.atomic():
            request = locked_request(request_id)
            quote = Quote.objects.get(pk=quote_id)
            if quote.status != QuoteStatus.OFFERED or quote.valid_until > now:
                continue
            QUOTE_LIFECYCLE.apply(
                quote,
                QuoteStatus.EXPIRED,
                actor=None,
                reason="validity ended",
                updates={"decided_at": now},
            )
            _reopen_if_unquoted(request, actor=None, reason="last quote expired")
            done += 1
    return done
