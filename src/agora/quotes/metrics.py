"""Quote metrics (reads): per vendor — response time, acceptance, quote-to-win and
reliability, beside the median of the vendors in its categories — and for the operator —
time to first quote (p50/p90), quotes per request, conversion, unanswered requests."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db.models import Count
from ninja import Schema

from agora.catalog.models import Listing, ListingStatus
from agora.core import clock
from agora.core.errors import Forbidden
from agora.quotes.models import QuoteRequest, RequestStatus, VendorQuoteStats
from agora.vendors.selectors import vendor_get_for_staff

STATS_WINDOW = timedelta(days=90)
MAX_ROWS = 10_000


@dataclass(frozen=True)
class Rates:
    response_minutes: float | None
    acceptance_rate: float | None
    win_rate: float | None
    reliability: float | None


def rates_of(stats: VendorQuoteStats | None) -> Rates:
    if stats is None:
        return Rates(None, None, None, None)
    return Rates(
        response_minutes=round(stats.response_seconds / stats.responses / 60, 1)
        if stats.responses
        else None,
        acceptance_rate=round(stats.quotes / stats.invitations, 3) if stats.invitations else None,
        win_rate=round(stats.wins / stats.quotes, 3) if stats.quotes else None,
        reliability=round(stats.responses / (stats.responses + stats.lapses), 3)
        if stats.responses + stats.lapses
        else None,
    )


@dataclass(frozen=True)
class VendorMetrics:
    vendor_id: int
    invitations: int
    quotes: int
    wins: int
    open_invitations: int
    mine: Rates
    category_median: Rates


def _median(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return round(statistics.median(known), 3) if known else None


def vendor_metrics(*, user: Any, vendor_id: int) -> VendorMetrics:
    """The vendor's metrics (its staff only) and the medians of the vendors selling in the
    same categories (two queries)."""
    vendor = vendor_get_for_staff(user=user, vendor_id=vendor_id)
    categories = Listing.objects.filter(vendor=vendor, status=ListingStatus.ACTIVE).values(
        "category_id"
    )
    peers = list(
        VendorQuoteStats.objects.filter(
            vendor__listings__category_id__in=categories, vendor__listings__status="active"
        ).distinct()[:MAX_ROWS]
    )
    own = next((row for row in peers if row.vendor_id == vendor.pk), None)
    if own is None:
        own = VendorQuoteStats.objects.filter(vendor=vendor).first()
    peer_rates = [rates_of(row) for row in peers]
    return VendorMetrics(
        vendor_id=vendor.pk,
        invitations=own.invitations if own else 0,
        quotes=own.quotes if own else 0,
        wins=own.wins if own else 0,
        open_invitations=own.open_invitations if own else 0,
        mine=rates_of(own),
        category_median=Rates(
            response_minutes=_median([r.response_minutes for r in peer_rates]),
            acceptance_rate=_median([r.acceptance_rate for r in peer_rates]),
            win_rate=_median([r.win_rate for r in peer_rates]),
            reliability=_median([r.reliability for r in peer_rates]),
        ),
    )


@dataclass(frozen=True)
class PlatformStats:
    requests: int
    by_status: dict[str, int]
    first_quote_minutes_p50: float | None
    first_quote_minutes_p90: float | None
    quotes_per_request: float | None
    conversion: float | None
    unanswered: int


def _percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return round(ordered[index], 1)


def platform_stats(*, user: Any) -> PlatformStats:
    """The last 90 days of requests (three queries)."""
    if not getattr(user, "is_operator", False):
        raise Forbidden("Only operators may do this.")
    since = clock.now() - STATS_WINDOW
    recent = QuoteRequest.objects.filter(created_at__gte=since)
    by_status = {
        row["status"]: row["n"]
        for row in recent.order_by().values("status").annotate(n=Count("id"))
    }
    total = sum(by_status.values())
    rows = list(
        recent.annotate(quote_count=Count("quotes"))
        .order_by("-created_at")
        .values_list("created_at", "first_quote_at", "quote_count", "status")[:MAX_ROWS]
    )
    waits = [
        (first - created).total_seconds() / 60 for created, first, _, _ in rows if first is not None
    ]
    closed = [status for *_, status in rows if status not in ("open", "quoted")]
    accepted = sum(1 for status in closed if status == RequestStatus.ACCEPTED)
    unanswered = recent.filter(status=RequestStatus.OPEN, first_quote_at__isnull=True).count()
    return PlatformStats(
        requests=total,
        by_status=by_status,
        first_quote_minutes_p50=_percentile(waits, 0.5),
        first_quote_minutes_p90=_percentile(waits, 0.9),
        quotes_per_request=round(sum(n for _, _, n, _ in rows) / len(rows), 2) if rows else None,
        conversion=round(accepted / len(closed), 3) if closed else None,
        unanswered=unanswered,
    )


class RatesOut(Schema):
    response_minutes: float | None
    acceptance_rate: float | None
    win_rate: float | None
    reliability: float | None

    @classmethod
    def of(cls, rates: Rates) -> RatesOut:
        return cls(
            response_minutes=rates.response_minutes,
            acceptance_rate=rates.acceptance_rate,
            win_rate=rates.win_rate,
            reliability=rates.reliability,
        )


class VendorMetricsOut(Schema):
    vendor_id: int
    invitations: int
    quotes: int
    wins: int
    open_invitations: int
    mine: RatesOut
    category_median: RatesOut

    @classmethod
    def of(cls, metrics: VendorMetrics) -> VendorMetricsOut:
        return cls(
            vendor_id=metrics.vendor_id,
            invitations=metrics.invitations,
            quotes=metrics.quotes,
            wins=metrics.wins,
            open_invitations=metrics.open_invitations,
            mine=RatesOut.of(metrics.mine),
            category_median=RatesOut.of(metrics.category_median),
        )


class PlatformStatsOut(Schema):
    requests: int
    by_status: dict[str, int]
    first_quote_minutes_p50: float | None
    first_quote_minutes_p90: float | None
    quotes_per_request: float | None
    conversion: float | None
    unanswered: int

    @classmethod
    def of(cls, stats: PlatformStats) -> PlatformStatsOut:
        return cls(**stats.__dict__)
