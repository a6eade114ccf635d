"""Reads of the ledger for the money flow: a reference's state, escrow, vendor balances.

Every figure is a sum of journal entries, computed in one grouped query.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q, Sum, Value
from django.db.models.functions import Coalesce

from agora.core.money import Money
from agora.payments.models import (
    JournalEntry,
    LedgerAccount,
    OwnerType,
    Purpose,
    TransactionKind,
)


@dataclass(frozen=True, slots=True)
class Split:
    """A sale's three pieces in minor units: vendor share, platform commission, fee."""

    vendor: int
    commission: int
    fee: int

    @property
    def total(self) -> int:
        return self.vendor + self.commission + self.fee


@dataclass(frozen=True, slots=True)
class ReferenceState:
    """What the ledger shows for one reference, vendor and currency."""

    reference: str
    vendor_id: int
    currency: str
    original: Split  # what the captures put in
    current: Split  # what is left of it (vendor: escrow + available)
    escrow: int
    dispute_hold: int
    refunded: int
    released: bool

    @property
    def captured(self) -> Money:
        return Money(self.original.total, self.currency)

    @property
    def consumed(self) -> int:
        """Refunded + held in dispute + lost in disputes."""
        return self.original.total - self.current.total

    @property
    def refundable(self) -> Money:
        return Money(self.original.total - self.consumed, self.currency)


@dataclass(frozen=True, slots=True)
class VendorBalance:
    currency: str
    pending: Money  # in escrow
    available: Money
    paid_out: Money
    on_hold: Money  # frozen by open disputes


def reference_states(*, reference: str, vendor_id: int) -> dict[str, ReferenceState]:
    """The state of `reference` for `vendor_id`, per currency, in one grouped query."""
    from_capture = Q(transaction__kind=TransactionKind.CAPTURE) | Q(
        transaction__reverses__kind=TransactionKind.CAPTURE
    )
    rows = (
        JournalEntry.objects.filter(transaction__reference=reference)
        .filter(
            Q(account__owner_type=OwnerType.VENDOR, account__owner_id=vendor_id)
            | Q(account__owner_type=OwnerType.PLATFORM)
        )
        .values("currency", "account__purpose")
        .annotate(
            total=Sum("amount"),
            original=Coalesce(Sum("amount", filter=from_capture), Value(0)),
            releases=Count("id", filter=Q(transaction__kind=TransactionKind.ESCROW_RELEASE)),
        )
        .order_by()
    )
    total: dict[str, dict[str, int]] = {}
    original: dict[str, dict[str, int]] = {}
    releases: dict[str, int] = {}
    for row in rows:
        currency, purpose = row["currency"], row["account__purpose"]
        total.setdefault(currency, {})[purpose] = int(row["total"])
        original.setdefault(currency, {})[purpose] = int(row["original"])
        if purpose == Purpose.ESCROW:
            releases[currency] = int(row["releases"])
    states = {}
    for currency, now in total.items():
        before = original[currency]
        states[currency] = ReferenceState(
            reference=reference,
            vendor_id=vendor_id,
            currency=currency,
            original=Split(
                vendor=before.get(Purpose.ESCROW, 0),
                commission=before.get(Purpose.COMMISSION, 0),
                fee=before.get(Purpose.PROCESSING_FEES, 0),
            ),
            current=Split(
                vendor=now.get(Purpose.ESCROW, 0) + now.get(Purpose.AVAILABLE, 0),
                commission=now.get(Purpose.COMMISSION, 0),
                fee=now.get(Purpose.PROCESSING_FEES, 0),
            ),
            escrow=now.get(Purpose.ESCROW, 0),
            dispute_hold=now.get(Purpose.DISPUTE_HOLD, 0),
            refunded=now.get(Purpose.REFUNDS, 0),
            released=releases.get(currency, 0) > 0,
        )
    return states


def reference_state(*, reference: str, vendor_id: int, currency: str) -> ReferenceState:
    state = reference_states(reference=reference, vendor_id=vendor_id).get(currency)
    if state is None:
        empty = Split(0, 0, 0)
        return ReferenceState(reference, vendor_id, currency, empty, empty, 0, 0, 0, False)
    return state


def escrow_held_for(*, reference: str, vendor_id: int, currency: str) -> Money:
    """What `reference` still holds in the vendor's escrow (what a release would move).

    Callers freeze the release while a dispute is open; this tells them what is at stake.
    """
    total = JournalEntry.objects.filter(
        transaction__reference=reference,
        account__owner_type=OwnerType.VENDOR,
        account__owner_id=vendor_id,
        account__purpose=Purpose.ESCROW,
        currency=currency,
    ).aggregate(total=Coalesce(Sum("amount"), Value(0)))["total"]
    return Money(int(total), currency)


def vendor_balance(*, vendor_id: int, currency: str) -> VendorBalance:
    """The vendor's pending (escrow), available, paid-out and on-hold money, one query."""
    rows = (
        LedgerAccount.objects.filter(
            owner_type=OwnerType.VENDOR, owner_id=vendor_id, currency=currency
        )
        .annotate(total=Coalesce(Sum("entries__amount"), Value(0)))
        .values_list("purpose", "total")
    )
    by_purpose = {purpose: int(total) for purpose, total in rows}
    return VendorBalance(
        currency=currency,
        pending=Money(by_purpose.get(Purpose.ESCROW, 0), currency),
        available=Money(by_purpose.get(Purpose.AVAILABLE, 0), currency),
        paid_out=Money(by_purpose.get(Purpose.PAID_OUT, 0), currency),
        on_hold=Money(by_purpose.get(Purpose.DISPUTE_HOLD, 0), currency),
    )
