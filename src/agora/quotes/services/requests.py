"""A quote request's life: asked, matched and invited (in waves), cancelled, expired.

Every move goes through REQUEST_LIFECYCLE (audited, conditional UPDATE) inside a
transaction that first locks the request's row, the lock every write about one request
takes (quotes, acceptance, expiry, waves) so that they queue instead of interleaving.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from jsonschema import Draft202012Validator

from agora.accounts.models import User
from agora.catalog.models import Category, City, Listing, ListingStatus
from agora.core import clock
from agora.core.audit import audit_log, audit_log_many
from agora.core.errors import InvalidInput, NotFound
from agora.core.locking import lock_row
from agora.core.money import Money
from agora.core.validation import check_coordinates, field_error
from agora.quotes import candidates, timers
from agora.quotes.matching import Match
from agora.quotes.models import (
    LIVE_REQUEST_STATUSES,
    AssignmentMode,
    Invitation,
    InvitationKind,
    InvitationStatus,
    Quote,
    QuoteRequest,
    QuoteStatus,
    RequestStatus,
)
from agora.quotes.selectors import QuoteSettings, quote_settings
from agora.quotes.services import announce, stats
from agora.quotes.states import INVITATION_LIFECYCLE, QUOTE_LIFECYCLE, REQUEST_LIFECYCLE
from agora.vendors.models import Vendor, VendorStatus

MAX_WINDOW = timedelta(days=365)


def locked_request(request_id: int) -> QuoteRequest:
    """The request's row, locked and fresh. Precondition: inside a transaction."""
    request = lock_row(QuoteRequest.objects.filter(pk=request_id))
    if request is None:
        raise NotFound("No such quote request.")
    # Loaded apart from the lock: PostgreSQL cannot lock the nullable side of a join.
    return QuoteRequest.objects.select_related("category", "city", "customer").get(pk=request_id)


def _check_answers(answers: Any, schema: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(answers, dict):
        raise field_error("answers", "must be an object", "type")
    if not schema:
        return answers
    problems = sorted(
        Draft202012Validator(schema).iter_errors(answers), key=lambda e: list(map(str, e.path))
    )
    if problems:
        raise InvalidInput(
            "The answers do not match the category's questions.",
            errors=[
                {
                    "loc": ["body", "answers", *map(str, problem.absolute_path)],
                    "msg": problem.message,
                    "type": str(problem.validator),
                }
                for problem in problems
            ],
        )
    return answers


def _check_window(
    start: datetime | None, end: datetime | None, now: datetime
) -> tuple[datetime | None, datetime | None]:
    for name, value in (("window_start", start), ("window_end", end)):
        if value is not None and value.tzinfo is None:
            raise field_error(name, "needs a UTC offset", "datetime")
        if value is not None and not now - timedelta(days=1) <= value <= now + MAX_WINDOW:
            raise field_error(name, "must be from today to a year ahead")
    if start is not None and end is not None and end <= start:
        raise field_error("window_end", "must be after window_start")
    if end is not None and end <= now:
        raise field_error("window_end", "must be in the future")
    return start, end


def _check_listing(listing: Listing | None, category: Category) -> None:
    if listing is None:
        return
    if listing.status != ListingStatus.ACTIVE or listing.vendor.status != VendorStatus.ACTIVE:
        raise field_error("listing_id", "this listing does not take requests now")
    path = listing.category.path
    if path != category.path and not path.startswith(f"{category.path}/"):
        raise field_error("listing_id", f"the listing is not in the category {category.slug!r}")


def _expiry(settings: QuoteSettings, window_end: datetime | None, now: datetime) -> datetime:
    expires = now + timedelta(hours=settings.request_ttl_hours)
    return min(expires, window_end) if window_end is not None else expires


@transaction.atomic
def quote_request_create(
    *,
    customer: User,
    category: Category,
    title: str,
    description: str = "",
    answers: dict[str, Any] | None = None,
    city: City | None = None,
    lat: Decimal | float | None = None,
    lng: Decimal | float | None = None,
    window_start: datetime | None = None,
    window_end: datetime | None = None,
    urgency: str = "standard",
    budget: Money | None = None,
    listing: Listing | None = None,
) -> QuoteRequest:
    """Ask for quotes: the request is stored `open` and the best-suited vendors invited
    (or, in a category assigned automatically, queued for the next assignment batch).
    Bad input → 422 and nothing is stored."""
    now = clock.now()
    settings = quote_settings(category=category)
    answers = _check_answers(answers if answers is not None else {}, settings.request_schema)
    check_coordinates(lat, lng)
    window_start, window_end = _check_window(window_start, window_end, now)
    _check_listing(listing, category)
    if budget is not None and budget.amount <= 0:
        raise field_error("budget.amount", "must be positive")
    if lat is None and city is not None:
        lat, lng = city.lat, city.lng
    mode = AssignmentMode.BROADCAST if listing is not None else settings.assignment_mode
    request = QuoteRequest.objects.create(
        customer=customer,
        category=category,
        listing=listing,
        title=title.strip(),
        description=description.strip(),
        answers=answers,
        city=city,
        lat=Decimal(f"{float(lat):.6f}") if lat is not None else None,
        lng=Decimal(f"{float(lng):.6f}") if lng is not None else None,
        window_start=window_start,
        window_end=window_end,
        urgency=urgency,
        budget_amount=budget.amount if budget else None,
        currency=budget.currency if budget else "",
        assignment_mode=mode,
        expires_at=_expiry(settings, window_end, now),
        created_at=now,
    )
    audit_log(
        actor=customer,
        action="quote_request.created",
        target=request,
        data={"to": RequestStatus.OPEN, "category": category.slug, "mode": mode},
    )
    if listing is not None:
        match = candidates.match_for_vendor(
            request=request,
            vendor_id=listing.vendor_id,
            default_radius_km=settings.default_radius_km,
        )
        invite(request, [match], wave=1, kind=InvitationKind.BROADCAST, actor=customer)
    elif mode == AssignmentMode.AUTOMATIC:
        timers.assign_soon()
    else:
        matches = candidates.matches_for(
            request=request,
            default_radius_km=settings.default_radius_km,
            limit=settings.invite_count,
        )
        invite(request, matches, wave=1, kind=InvitationKind.BROADCAST, actor=customer)
        _schedule_next_wave(request, settings, now)
    timers.after_request(request=request)
    return request


def _schedule_next_wave(request: QuoteRequest, settings: QuoteSettings, now: datetime) -> None:
    if request.wave >= settings.max_waves:
        next_at = None
    else:
        next_at = now + timedelta(minutes=settings.response_sla_minutes)
    QuoteRequest.objects.filter(pk=request.pk).update(next_wave_at=next_at)
    request.next_wave_at = next_at
    if next_at is not None:
        timers.at_next_wave(request=request)


def invite(
    request: QuoteRequest,
    matches: list[Match],
    *,
    wave: int,
    kind: str,
    actor: User | None,
    respond_by: datetime | None = None,
) -> list[Invitation]:
    """Invite the matched vendors: one row each with the score and its breakdown, their
    counters, one audit row each and a `quote.requested` event to each vendor's staff.
    Precondition: inside the request's transaction (its row locked, or just created)."""
    if not matches:
        return []
    now = clock.now()
    vendors = Vendor.objects.in_bulk([m.vendor_id for m in matches])
    invitations = Invitation.objects.bulk_create(
        [
            Invitation(
                request=request,
                vendor=vendors[match.vendor_id],
                kind=kind,
                score=round(match.score, 6),
                breakdown=match.breakdown,
                rank=position,
                wave=wave,
                invited_at=now,
                respond_by=respond_by,
            )
            for position, match in enumerate(matches, start=1)
            if match.vendor_id in vendors
        ]
    )
    stats.count_invited(vendor_ids=[i.vendor_id for i in invitations], at=now)
    audit_log_many(
        actor=actor,
        action="invitation.created",
        targets=list(invitations),
        data={"request_id": request.pk, "wave": wave, "kind": kind},
    )
    announce.announce_invitations(
        request, invitations, customer_name=announce.first_name(request.customer.name)
    )
    return invitations


def _close_open_invitations(request: QuoteRequest) -> None:
    """Invitations still unanswered when the request closes leave the vendors' desks."""
    waiting = list(
        Invitation.objects.filter(request=request, status=InvitationStatus.INVITED).order_by("pk")
    )
    if not waiting:
        return
    Invitation.objects.filter(pk__in=[i.pk for i in waiting]).update(status=InvitationStatus.CLOSED)
    audit_log_many(
        actor=None,
        action="invitation.closed",
        targets=list(waiting),
        data={"from": InvitationStatus.INVITED, "to": InvitationStatus.CLOSED},
    )
    stats.count_closed(vendor_ids=[i.vendor_id for i in waiting])


def close_request(
    request: QuoteRequest,
    target: str,
    *,
    actor: User | None,
    reason: str,
    quote_status: str,
    updates: dict[str, Any] | None = None,
) -> list[Quote]:
    """Move a live request to `target` (accepted, cancelled, expired) with its offered
    quotes to `quote_status` (declined or expired) and its unanswered invitations closed.
    Returns the quotes so moved. Precondition: the request's row is locked."""
    now = clock.now()
    REQUEST_LIFECYCLE.apply(
        request,
        target,
        actor=actor,
        reason=reason,
        updates={"closed_at": now, "next_wave_at": None, **(updates or {})},
    )
    moved = []
    for quote in Quote.objects.filter(request=request, status=QuoteStatus.OFFERED).select_related(
        "vendor"
    ):
        QUOTE_LIFECYCLE.apply(
            quote, quote_status, actor=actor, reason=reason, updates={"decided_at": now}
        )
        moved.append(quote)
    _close_open_invitations(request)
    return moved


@transaction.atomic
def quote_request_cancel(
    *, customer: User, request: QuoteRequest, reason: str = ""
) -> QuoteRequest:
    """The customer no longer wants quotes: offered quotes are declined, and the vendors
    still involved are told."""
    request = locked_request(request.pk)
    if request.customer_id != customer.pk:
        raise InvalidInput("Only the request's customer may cancel it.")
    involved = list(
        Vendor.objects.filter(
            quote_invitations__request=request,
            quote_invitations__status__in=[InvitationStatus.INVITED, InvitationStatus.QUOTED],
        ).order_by("pk")
    )
    close_request(
        request,
        RequestStatus.CANCELLED,
        actor=customer,
        reason=reason or "cancelled by the customer",
        quote_status=QuoteStatus.DECLINED,
    )
    announce.announce_to_vendors("quote.cancelled", request, involved, reason=reason)
    return request


# --- automatic moves (tasks) --------------------------------------------------------------------


def requests_expire_due(*, now: datetime | None = None, limit: int = 200) -> int:
    """Live requests past `expires_at` → expired, their offered quotes expired. `now` is
    the sweep's idea of the time (a timer may fire late)."""
    now = now or clock.now()
    due = list(
        QuoteRequest.objects.filter(status__in=LIVE_REQUEST_STATUSES, expires_at__lte=now)
        .order_by("expires_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    done = 0
    for request_id in due:
        with transaction.atomic():
            request = locked_request(request_id)
            if request.status not in LIVE_REQUEST_STATUSES or request.expires_at > now:
                continue
            close_request(
                request,
                RequestStatus.EXPIRED,
                actor=None,
                reason="no quote accepted in time",
                quote_status=QuoteStatus.EXPIRED,
            )
            announce.announce_to_customer("quote.expired", request)
            done += 1
    return done


def requests_next_wave_due(*, limit: int = 100) -> int:
    """Broadcast requests nobody has quoted within the category's SLA: invite the next
    best vendors (a second wave), never one invited before."""
    now = clock.now()
    due = list(
        QuoteRequest.objects.filter(
            status=RequestStatus.OPEN,
            assignment_mode=AssignmentMode.BROADCAST,
            next_wave_at__lte=now,
        )
        .order_by("next_wave_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    done = 0
    for request_id in due:
        with transaction.atomic():
            request = locked_request(request_id)
            if (
                request.status != RequestStatus.OPEN
                or request.next_wave_at is None
                or request.next_wave_at > now
            ):
                continue
            settings = quote_settings(category=request.category)
            invited = set(
                Invitation.objects.filter(request=request).values_list("vendor_id", flat=True)
            )
            matches = candidates.matches_for(
                request=request,
                default_radius_km=settings.default_radius_km,
                limit=settings.invite_count,
                exclude_vendor_ids=invited,
            )
            wave = request.wave + 1
            QuoteRequest.objects.filter(pk=request.pk).update(wave=wave)
            request.wave = wave
            invite(request, matches, wave=wave, kind=InvitationKind.BROADCAST, actor=None)
            audit_log(
                actor=None,
                action="quote_request.wave",
                target=request,
                data={"wave": wave, "invited": [m.vendor_id for m in matches]},
            )
            _schedule_next_wave(request, settings, now)
            done += 1
    return done


def lapse_invitation(invitation: Invitation, *, now: datetime) -> None:
    """An assignment not answered by its deadline. Precondition: request row locked."""
    INVITATION_LIFECYCLE.apply(
        invitation,
        InvitationStatus.LAPSED,
        actor=None,
        reason="not answered in time",
        updates={"responded_at": now},
    )
    stats.count_lapsed(vendor_id=invitation.vendor_id)
