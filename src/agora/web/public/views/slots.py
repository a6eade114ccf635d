"""Live slots of a bookable service, a week at a time.

htmx swaps the fragment into the listing page, and the page fetches it again whenever the
listing's public live stream says a booking at its vendor changed (notifications.live), so a
slot someone else takes disappears while the visitor looks; and once a minute regardless,
since a hold is not announced as an event. Without JavaScript the same URL is a page of its
own. Each slot links to the customer portal's booking step.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_safe

from agora.availability import Slot
from agora.bookings import selectors as booking_selectors
from agora.catalog.models import Listing, ListingKind
from agora.core import clock
from agora.core.errors import DomainError
from agora.web.public import seo
from agora.web.public.views.common import listing_or_404

SLOT_DAYS = 7
MAX_AHEAD = timedelta(days=730)


@dataclass(frozen=True)
class Window:
    first_day: date
    start: datetime
    end: datetime


def slot_window(raw: str | None, tz: ZoneInfo) -> Window:
    """Seven local days from `raw` (YYYY-MM-DD); ValueError if `raw` is not a date."""
    today = clock.now().astimezone(tz).date()
    # Never before today, never past two years ahead (no listing books further out, and
    # 9999-12-31 plus a week would overflow).
    first = min(max(date.fromisoformat(raw) if raw else today, today), today + MAX_AHEAD)
    return Window(
        first_day=first,
        start=datetime.combine(first, time.min, tzinfo=tz),
        end=datetime.combine(first + timedelta(days=SLOT_DAYS), time.min, tzinfo=tz),
    )


def book_url(listing_id: int, start: datetime) -> str:
    """The customer portal's booking step for a slot (the offset survives URL encoding)."""
    return f"/account/book/{listing_id}/?{urlencode({'start': start.isoformat()})}"


def slot_days(listing: Listing, slots: list[Slot], tz: ZoneInfo) -> list[dict[str, Any]]:
    """Free slots grouped by local day, with their labels, links and seats left."""
    days: dict[date, list[dict[str, Any]]] = {}
    for slot in slots:
        if slot.remaining <= 0:
            continue
        local = slot.start.astimezone(tz)
        days.setdefault(local.date(), []).append(
            {
                # A stable id lets htmx give focus back to the same slot after a refresh.
                "id": f"slot-{int(slot.start.timestamp())}",
                "label": f"{local:%H:%M}",
                "iso": slot.start.isoformat(),
                "url": book_url(listing.pk, slot.start),
                "remaining": slot.remaining,
                "accessible": f"{local:%A} {local.day} {local:%B at %H:%M}",
            }
        )
    return [
        {"date": day, "label": f"{day:%A} {day.day} {day:%B}", "slots": items}
        for day, items in sorted(days.items())
    ]


def _day(value: date) -> str:
    return f"{value:%a} {value.day} {value:%b}"


@require_safe
def listing_slots(request: HttpRequest, listing_id: int) -> HttpResponse:
    listing = listing_or_404(request, listing_id)
    if listing.kind != ListingKind.SERVICE:
        raise Http404("Only bookable services have slots.")
    tz = ZoneInfo(listing.vendor.timezone)
    context: dict[str, Any] = {"listing": listing, "timezone": listing.vendor.timezone, "days": []}
    status = 200
    try:
        window = slot_window(request.GET.get("from"), tz)
    except ValueError:
        context["problem"] = "That is not a date; use the form YYYY-MM-DD."
        window = slot_window(None, tz)
        status = 400
    else:
        try:
            found = booking_selectors.listing_slots(
                listing=listing, start=window.start, end=window.end
            )
        except DomainError as error:  # e.g. no opening hours published yet
            context["problem"] = error.detail
        else:
            context["days"] = slot_days(listing, found.slots, tz)
    base = f"/l/{listing.pk}/slots/"
    first = window.first_day
    today = clock.now().astimezone(tz).date()
    context.update(
        self_url=f"{base}?from={first.isoformat()}",
        next_url=f"{base}?from={(first + timedelta(days=SLOT_DAYS)).isoformat()}",
        previous_url=(
            f"{base}?from={max(first - timedelta(days=SLOT_DAYS), today).isoformat()}"
            if first > today
            else None
        ),
        range_label=f"{_day(first)} – {_day(first + timedelta(days=SLOT_DAYS - 1))}",
    )
    if request.htmx:  # type: ignore[attr-defined]
        template = "web/public/partials/slots.html"
    else:
        template = "web/public/slots_page.html"
        context.update(
            page_title=f"Available times: {listing.title} — Agora",
            meta_description=f"Free times for {listing.title} at {listing.vendor.name}.",
            canonical_url=seo.absolute(request, seo.listing_path(listing)),
            noindex=True,
        )
    response = render(request, template, context, status=status)
    add_never_cache_headers(response)
    return response
