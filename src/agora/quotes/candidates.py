"""What the matching engine scores, read from the database: the vendors that could take a
request (as a `CandidateTable`), and whether they have free capacity in its window.

Reads only. The candidate query is one statement however many vendors there are: active
vendors with an active listing in the request's category subtree, inside a bounding box
around the request's place (the widest service radius), with their ratings, their quote
counters and their lowest price there. The capacity check asks the availability engine
about a handful of vendors at a time, in a fixed number of queries.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Max, Min, Q

from agora.availability import (
    AvailabilityCandidate,
    Occupancy,
    Schedule,
    SlotRules,
    first_available,
)
from agora.bookings.models import Booking, CapacityUnit, ResourceAssignment, TimeBlock
from agora.bookings.rules import schedule_for, slot_rules_for
from agora.bookings.services.context import occupying_bookings
from agora.catalog.models import Listing, ListingKind, ListingStatus
from agora.core import clock
from agora.quotes.matching import (
    CandidateTable,
    Match,
    MatchParams,
    MatchRequest,
    explain,
    rank,
    rank_with_capacity,
    score,
)
from agora.quotes.models import QuoteRequest
from agora.vendors.models import Vendor, VendorStatus

# No service area reaches farther than this, whatever a vendor claims.
MAX_SERVICE_RADIUS_KM = 500
# The window in which capacity is looked for is cut to this length (the slot engine's own
# longest window).
MAX_CAPACITY_WINDOW = timedelta(days=62)
# A vendor that sells the category only on quote (no bookable service there) is free when
# its opening hours have an hour not taken by its bookings or blocks.
QUOTE_VISIT = timedelta(hours=1)


def subtree(path: str, field: str = "category__path") -> Q:
    return Q(**{field: path}) | Q(**{f"{field}__startswith": f"{path}/"})


def _bounding_box(lat: float, lng: float, radius_km: float) -> Q:
    lat_delta = radius_km / 111.0
    lng_delta = radius_km / max(111.0 * math.cos(math.radians(lat)), 0.01)
    return Q(
        vendor__lat__range=(Decimal(f"{lat - lat_delta:.6f}"), Decimal(f"{lat + lat_delta:.6f}")),
        vendor__lng__range=(Decimal(f"{lng - lng_delta:.6f}"), Decimal(f"{lng + lng_delta:.6f}")),
    )


def candidate_table(
    *,
    category_path: str,
    request: MatchRequest,
    params: MatchParams,
    currency: str | None,
    vendor_ids: list[int] | None = None,
) -> CandidateTable:
    """Every vendor that could be invited (one query, plus one for the widest radius when
    the request has a place). `vendor_ids` narrows it (a request for one listing)."""
    listings = Listing.objects.filter(
        subtree(category_path), status=ListingStatus.ACTIVE, vendor__status=VendorStatus.ACTIVE
    )
    if vendor_ids is not None:
        listings = listings.filter(vendor_id__in=vendor_ids)
    if request.lat is not None and request.lng is not None and vendor_ids is None:
        reach = min(max(widest_service_radius(), params.default_radius_km), MAX_SERVICE_RADIUS_KM)
        listings = listings.filter(_bounding_box(request.lat, request.lng, reach))
    price = Min("price_amount", filter=Q(currency=currency)) if currency else Min("price_amount")
    # Tuples, not dicts or models: thousands of rows are read per request.
    fields = (
        "vendor_id",
        "vendor__lat",
        "vendor__lng",
        "vendor__service_radius_km",
        "vendor__rating_sum",
        "vendor__rating_count",
        "vendor__quote_stats__invitations",
        "vendor__quote_stats__quotes",
        "vendor__quote_stats__responses",
        "vendor__quote_stats__response_seconds",
        "vendor__quote_stats__open_invitations",
    )
    rows = list(
        listings.order_by()
        .values(*fields)
        .annotate(typical_price=price)
        .values_list(*fields, "typical_price")
    )
    columns = list(zip(*rows, strict=True)) if rows else [()] * 12

    def floats(index: int, default: float = 0.0) -> list[float]:
        return [default if value is None else float(value) for value in columns[index]]

    size = len(rows)
    return CandidateTable(
        vendor_id=list(columns[0]),
        lat=floats(1, math.nan),
        lng=floats(2, math.nan),
        radius_km=[min(v, MAX_SERVICE_RADIUS_KM) for v in floats(3)],
        active=[True] * size,
        in_category=[True] * size,
        capacity=[-1] * size,
        rating_sum=floats(4),
        rating_count=floats(5),
        invitations=floats(6),
        quotes=floats(7),
        responses=floats(8),
        response_seconds=floats(9),
        open_invitations=floats(10),
        typical_price=floats(11, math.nan),
    )


_widest: tuple[float, float] | None = None  # (radius, read at monotonic time)
WIDEST_RADIUS_TTL_SECONDS = 60.0


def widest_service_radius() -> float:
    """The largest service radius of any active vendor, read at most once a minute: it
    sizes the bounding box, and a vendor who widened its area a minute ago is matched
    at its old reach until then."""
    global _widest
    now = time.monotonic()
    if _widest is None or now - _widest[1] > WIDEST_RADIUS_TTL_SECONDS:
        value = Vendor.objects.filter(status=VendorStatus.ACTIVE).aggregate(
            r=Max("service_radius_km")
        )["r"]
        _widest = (float(value or 0), now)
    return _widest[0]


# --- free capacity in a window ------------------------------------------------------------


def capacity_window(
    start: datetime | None, end: datetime | None, now: datetime
) -> tuple[datetime, datetime] | None:
    """The part of the request's window still ahead, at most 62 days; None if no window."""
    if start is None and end is None:
        return None
    begin = max(start or now, now)
    finish = end or begin + timedelta(days=7)
    finish = min(finish, begin + MAX_CAPACITY_WINDOW)
    return (begin, finish) if finish > begin else (begin, begin)


def vendors_free_in_window(
    *, vendor_ids: list[int], category_path: str, start: datetime, end: datetime
) -> dict[int, bool]:
    """For each vendor, whether it can take a job in [start, end): a free slot of one of
    its bookable services in the category, or — selling there only on quote — a free hour
    in its opening hours. A vendor without published hours is taken to be free (nothing
    says otherwise). Seven queries whatever the number of vendors."""
    now = clock.now()
    if end <= start or not vendor_ids:
        return dict.fromkeys(vendor_ids, False)
    vendors = {v.pk: v for v in Vendor.objects.select_related("schedule").filter(pk__in=vendor_ids)}
    services = list(
        Listing.objects.filter(
            subtree(category_path),
            vendor_id__in=vendor_ids,
            kind=ListingKind.SERVICE,
            status=ListingStatus.ACTIVE,
        )
        .select_related("vendor")
        .order_by("vendor_id", "id")
    )
    assignments = {
        a.listing_id: a.resource
        for a in ResourceAssignment.objects.select_related("resource").filter(listing__in=services)
    }
    units = list(
        CapacityUnit.objects.filter(
            Q(listing__in=services)
            | Q(resource__in=list(assignments.values()))
            | Q(vendor_id__in=vendor_ids)
        )
    )
    unit_of: dict[tuple[str, int], int] = {}
    units_of_vendor: dict[int, list[int]] = defaultdict(list)
    for unit in units:
        units_of_vendor[unit.vendor_id].append(unit.pk)
        if unit.listing_id:
            unit_of[("listing", unit.listing_id)] = unit.pk
        if unit.resource_id:
            unit_of[("resource", unit.resource_id)] = unit.pk
    margin = timedelta(days=1)
    bookings_by_unit: dict[int, list[Booking]] = defaultdict(list)
    for booking in occupying_bookings(
        unit_ids=[unit.pk for unit in units], start=start - margin, end=end + margin, now=now
    ):
        bookings_by_unit[booking.unit_id].append(booking)
    blocks_by_vendor: dict[int, list[TimeBlock]] = defaultdict(list)
    for block in TimeBlock.objects.filter(
        vendor_id__in=vendor_ids, start__lt=end + margin, end__gt=start - margin
    ):
        blocks_by_vendor[block.vendor_id].append(block)

    owners: list[int] = []
    candidates: list[AvailabilityCandidate] = []
    with_services = set()
    for listing in services:
        vendor = vendors[listing.vendor_id]
        resource = assignments.get(listing.pk)
        vendor_schedule = getattr(vendor, "schedule", None)
        if vendor_schedule is None and (resource is None or not resource.schedule):
            continue
        with_services.add(vendor.pk)
        capacity = resource.capacity if resource else listing.capacity
        unit_id = unit_of.get(("resource", resource.pk) if resource else ("listing", listing.pk))
        occupancies = [
            Occupancy(start=b.blocked_from, end=b.blocked_until, seats=b.seats)
            for b in bookings_by_unit.get(unit_id or -1, [])
        ] + [
            Occupancy(start=b.start, end=b.end, seats=capacity)
            for b in blocks_by_vendor.get(vendor.pk, [])
            if b.resource_id is None or (resource is not None and b.resource_id == resource.pk)
        ]
        owners.append(vendor.pk)
        candidates.append(
            AvailabilityCandidate(
                schedule=schedule_for(
                    timezone=vendor.timezone, vendor_schedule=vendor_schedule, resource=resource
                ),
                rules=slot_rules_for(listing, capacity=capacity),
                occupancies=occupancies,
            )
        )
    answers: dict[int, bool] = {}
    for vendor_id in vendor_ids:
        found = vendors.get(vendor_id)
        if found is None:
            answers[vendor_id] = False
        elif vendor_id not in with_services:
            schedule = _quote_only_schedule(found)
            if schedule is None:
                answers[vendor_id] = True
                continue
            occupancies = [
                Occupancy(start=b.blocked_from, end=b.blocked_until, seats=b.seats)
                for unit_id in units_of_vendor.get(vendor_id, [])
                for b in bookings_by_unit.get(unit_id, [])
            ] + [
                Occupancy(start=b.start, end=b.end, seats=1)
                for b in blocks_by_vendor.get(vendor_id, [])
                if b.resource_id is None
            ]
            owners.append(vendor_id)
            candidates.append(
                AvailabilityCandidate(
                    schedule=schedule,
                    rules=SlotRules(
                        duration=QUOTE_VISIT,
                        step=timedelta(minutes=30),
                        horizon=timedelta(days=730),
                    ),
                    occupancies=occupancies,
                )
            )
    first_slots = first_available(candidates, now=now, from_utc=start, to_utc=end)
    for owner, slot in zip(owners, first_slots, strict=True):
        answers[owner] = answers.get(owner, False) or slot is not None
    return {vendor_id: answers.get(vendor_id, False) for vendor_id in vendor_ids}


def _quote_only_schedule(vendor: Vendor) -> Schedule | None:
    vendor_schedule = getattr(vendor, "schedule", None)
    if vendor_schedule is None:
        return None
    return schedule_for(timezone=vendor.timezone, vendor_schedule=vendor_schedule, resource=None)


# --- a request's matches ------------------------------------------------------------------


def match_request_for(request: QuoteRequest) -> MatchRequest:
    located = request.lat is not None and request.lng is not None
    return MatchRequest(
        lat=float(request.lat) if located and request.lat is not None else None,
        lng=float(request.lng) if located and request.lng is not None else None,
        budget=request.budget_amount,
        urgency=request.urgency,
    )


def matches_for(
    *,
    request: QuoteRequest,
    default_radius_km: float,
    limit: int,
    exclude_vendor_ids: Iterable[int] = (),
) -> list[Match]:
    """The best `limit` vendors for the request that are not excluded: hard filters,
    score, and — when the request has a window — free capacity checked for the few about
    to be chosen. Precondition: `request.category` loaded."""
    params = MatchParams(default_radius_km=float(default_radius_km))
    wanted = match_request_for(request)
    path = request.category.path
    table = candidate_table(
        category_path=path, request=wanted, params=params, currency=request.currency or None
    )
    window = capacity_window(request.window_start, request.window_end, clock.now())
    if window is None:
        return rank(table, wanted, params, limit=limit, exclude_vendor_ids=exclude_vendor_ids)
    start, end = window

    def check(vendor_ids: list[int]) -> dict[int, bool]:
        return vendors_free_in_window(
            vendor_ids=vendor_ids, category_path=path, start=start, end=end
        )

    return rank_with_capacity(
        table, wanted, params, limit=limit, check=check, exclude_vendor_ids=exclude_vendor_ids
    )


def match_for_vendor(*, request: QuoteRequest, vendor_id: int, default_radius_km: float) -> Match:
    """The score of one vendor (a request for its listing), eligible by area or not."""
    params = MatchParams(default_radius_km=float(default_radius_km))
    wanted = match_request_for(request)
    table = candidate_table(
        category_path=request.category.path,
        request=wanted,
        params=params,
        currency=request.currency or None,
        vendor_ids=[vendor_id],
    )
    if len(table) == 0:
        return Match(vendor_id=vendor_id, score=0.0, breakdown={"total": 0.0, "direct": True})
    scored = score(table, wanted, params)
    breakdown = explain(scored, table, 0)
    breakdown["direct"] = True
    return Match(vendor_id=vendor_id, score=float(scored.total[0]), breakdown=breakdown)
