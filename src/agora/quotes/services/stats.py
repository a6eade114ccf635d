"""The counters behind vendors' quote metrics and matching scores: conditional `F()`
UPDATEs in the transaction of what they count, never read-modify-save."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db.models import F

from agora.quotes.models import VendorQuoteStats


def _ensure(vendor_ids: Iterable[int]) -> list[int]:
    ids = sorted(set(vendor_ids))
    VendorQuoteStats.objects.bulk_create(
        [VendorQuoteStats(vendor_id=vendor_id) for vendor_id in ids], ignore_conflicts=True
    )
    return ids


def count_invited(*, vendor_ids: Iterable[int], at: datetime) -> None:
    ids = _ensure(vendor_ids)
    VendorQuoteStats.objects.filter(vendor_id__in=ids).update(
        invitations=F("invitations") + 1,
        open_invitations=F("open_invitations") + 1,
        last_invited_at=at,
    )


def count_answered(*, vendor_id: int, seconds: int, quoted: bool) -> None:
    """An invitation answered with a quote (`quoted`) or a pass."""
    _ensure([vendor_id])
    VendorQuoteStats.objects.filter(vendor_id=vendor_id).update(
        responses=F("responses") + 1,
        response_seconds=F("response_seconds") + max(seconds, 0),
        quotes=F("quotes") + (1 if quoted else 0),
        passes=F("passes") + (0 if quoted else 1),
        open_invitations=F("open_invitations") - 1,
    )


def count_lapsed(*, vendor_id: int) -> None:
    _ensure([vendor_id])
    VendorQuoteStats.objects.filter(vendor_id=vendor_id).update(
        lapses=F("lapses") + 1, open_invitations=F("open_invitations") - 1
    )


def count_closed(*, vendor_ids: Iterable[int]) -> None:
    """Invitations left unanswered when their request closed: off the vendors' desks."""
    ids = _ensure(vendor_ids)
    if ids:
        VendorQuoteStats.objects.filter(vendor_id__in=ids).update(
            open_invitations=F("open_invitations") - 1
        )


def count_won(*, vendor_id: int) -> None:
    _ensure([vendor_id])
    VendorQuoteStats.objects.filter(vendor_id=vendor_id).update(wins=F("wins") + 1)
