"""Reads of the ledger for the money flow: a reference's state, escrow, vendor balances,
a vendor's statement, the operator's reconciliation and disputes.

Every figure is a sum of journal entries, computed in one grouped query.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.core import signing
from django.db import connection
from django.db.models import Count, Q, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.dateparse import parse_datetime

from agora.core.errors import InvalidInput, NotFound
from agora.core.money import Money
from agora.core.pagination import Page, paginate
from agora.payments.gateway import PaymentGateway
from agora.payments.models import (
    Dispute,
    JournalEntry,
    LedgerAccount,
    OwnerType,
    Payment,
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


# --- vendor statement --------------------------------------------------------------------------

STATEMENT_PURPOSES = (Purpose.AVAILABLE, Purpose.ESCROW)
STATEMENT_PAGE_MAX = 500


@dataclass(frozen=True, slots=True)
class StatementLine:
    entry_id: int
    at: datetime
    kind: str
    reference: str
    memo: str
    amount: int
    balance: int  # the account's balance after this entry, from its very first entry


@dataclass(frozen=True, slots=True)
class Statement:
    vendor_id: int
    purpose: str
    currency: str
    lines: list[StatementLine]
    next_cursor: str | None


# The running balance is a window SUM over every entry of the account (SQLite ≥ 3.25 and
# PostgreSQL alike); the date range and the cursor filter the *outer* query, so a page
# that starts in March still carries the balance built up since the first entry.
_STATEMENT_SQL = """
SELECT entry_id, created_at, kind, reference, memo, amount, balance FROM (
    SELECT entry.id AS entry_id, journal.created_at AS created_at, journal.kind AS kind,
           journal.reference AS reference, journal.memo AS memo, entry.amount AS amount,
           SUM(entry.amount) OVER (
               ORDER BY journal.created_at, entry.id
               ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
           ) AS balance
    FROM payments_journalentry entry
    JOIN payments_journaltransaction journal ON journal.id = entry.transaction_id
    WHERE entry.account_id = %s
) statement
WHERE {conditions}
ORDER BY created_at, entry_id
"""


def _statement_salt(vendor_id: int, purpose: str, currency: str) -> str:
    return f"agora.payments.statement:{vendor_id}:{purpose}:{currency}"


def _as_datetime(value: object) -> datetime:
    """A datetime from the raw cursor: PostgreSQL gives one, SQLite the stored text."""
    if isinstance(value, datetime):
        parsed = value
    else:
        parsed_text = parse_datetime(str(value))
        if parsed_text is None:
            raise ValueError(f"not a datetime: {value!r}")
        parsed = parsed_text
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def vendor_statement(
    *,
    vendor_id: int,
    currency: str,
    purpose: str = Purpose.AVAILABLE,
    start: datetime | None = None,
    end: datetime | None = None,
    cursor: str | None = None,
    limit: int | None = 100,
) -> Statement:
    """The entries of the vendor's `purpose` account (available or escrow) from `start`
    (inclusive) to `end` (exclusive), oldest first, each with the account's running
    balance — in one query. `limit=None` returns every line (the CSV export)."""
    if purpose not in STATEMENT_PURPOSES:
        raise InvalidInput(
            "purpose must be available or escrow.",
            errors=[{"loc": ["query", "purpose"], "msg": "available or escrow", "type": "enum"}],
        )
    account_id = (
        LedgerAccount.objects.filter(
            owner_type=OwnerType.VENDOR, owner_id=vendor_id, purpose=purpose, currency=currency
        )
        .values_list("pk", flat=True)
        .first()
    )
    if account_id is None:
        return Statement(vendor_id, purpose, currency, [], None)
    ops = connection.ops
    conditions: list[str] = ["1 = 1"]
    params: list[Any] = [account_id]
    if start is not None:
        conditions.append("created_at >= %s")
        params.append(ops.adapt_datetimefield_value(start))
    if end is not None:
        conditions.append("created_at < %s")
        params.append(ops.adapt_datetimefield_value(end))
    salt = _statement_salt(vendor_id, purpose, currency)
    if cursor:
        try:
            after_at, after_id = signing.loads(cursor, salt=salt)
            after = _as_datetime(after_at)
        except (signing.BadSignature, TypeError, ValueError) as error:
            raise InvalidInput(
                "The cursor is not valid.",
                errors=[{"loc": ["query", "cursor"], "msg": "invalid cursor", "type": "cursor"}],
            ) from error
        conditions.append("(created_at > %s OR (created_at = %s AND entry_id > %s))")
        at = ops.adapt_datetimefield_value(after)
        params += [at, at, int(after_id)]
    sql = _STATEMENT_SQL.format(conditions=" AND ".join(conditions))
    if limit is not None:
        limit = max(1, min(limit, STATEMENT_PAGE_MAX))
        sql += " LIMIT %s"
        params.append(limit + 1)
    with connection.cursor() as raw:
        raw.execute(sql, params)
        rows = raw.fetchall()
    lines = [
        StatementLine(
            entry_id=int(row[0]),
            at=_as_datetime(row[1]),
            kind=row[2],
            reference=row[3],
            memo=row[4],
            amount=int(row[5]),
            balance=int(row[6]),
        )
        for row in rows
    ]
    next_cursor = None
    if limit is not None and len(lines) > limit:
        lines = lines[:limit]
        last = lines[-1]
        next_cursor = signing.dumps([last.at.isoformat(), last.entry_id], salt=salt)
    return Statement(vendor_id, purpose, currency, lines, next_cursor)


# --- reconciliation: the gateway's records, the ledger and the sales ---------------------------


@dataclass(frozen=True, slots=True)
class Totals:
    captured: int = 0
    refunded: int = 0

    @property
    def net(self) -> int:
        return self.captured - self.refunded

    def __add__(self, other: Totals) -> Totals:
        return Totals(self.captured + other.captured, self.refunded + other.refunded)


@dataclass(frozen=True, slots=True)
class CurrencyReconciliation:
    currency: str
    gateway: Totals
    ledger: Totals
    payments: Totals

    @property
    def balanced(self) -> bool:
        return self.gateway == self.ledger == self.payments


@dataclass(frozen=True, slots=True)
class ChargeDifference:
    charge_id: str  # "" for ledger references that no sale row names
    currency: str
    references: tuple[str, ...]
    gateway: Totals
    ledger: Totals
    payments: Totals


@dataclass(frozen=True, slots=True)
class Reconciliation:
    gateway: str
    currencies: list[CurrencyReconciliation]
    differences: list[ChargeDifference]  # empty in a healthy system


def _ledger_totals_by_reference() -> dict[tuple[str, str], Totals]:
    """Captured (clearing's side of captures, net of their reversals) and refunded (the
    refunds account) per (reference, currency), in one grouped query."""
    from_capture = Q(transaction__kind=TransactionKind.CAPTURE) | Q(
        transaction__reverses__kind=TransactionKind.CAPTURE
    )
    rows = (
        JournalEntry.objects.filter(
            Q(account__purpose=Purpose.GATEWAY_CLEARING, account__owner_type=OwnerType.GATEWAY)
            & from_capture
            | Q(account__purpose=Purpose.REFUNDS, account__owner_type=OwnerType.PLATFORM)
        )
        .values("transaction__reference", "currency")
        .annotate(
            captured=Coalesce(
                Sum("amount", filter=Q(account__purpose=Purpose.GATEWAY_CLEARING)), Value(0)
            ),
            refunded=Coalesce(Sum("amount", filter=Q(account__purpose=Purpose.REFUNDS)), Value(0)),
        )
        .order_by()
    )
    return {
        (row["transaction__reference"], row["currency"]): Totals(
            -int(row["captured"]), int(row["refunded"])
        )
        for row in rows
    }


def reconciliation(*, gateway: PaymentGateway) -> Reconciliation:
    """Per currency, what the gateway says was captured and refunded, what the ledger
    posted, and what the sale rows say — with every charge where the three disagree.

    The sandbox lists all its charges (a charge with no sale is a difference too); Stripe
    is asked about the charges the sale rows name, one request each.
    """
    sales: dict[str, dict[str, Any]] = {}
    for row in (
        Payment.objects.filter(gateway=gateway.name)
        .values("charge_id", "currency", "reference", "gross_amount", "refunded_amount")
        .order_by("charge_id", "reference")
    ):
        charge = sales.setdefault(
            row["charge_id"], {"currency": row["currency"], "refs": [], "totals": Totals()}
        )
        charge["refs"].append(row["reference"])
        charge["totals"] += Totals(row["gross_amount"], row["refunded_amount"])
    charge_ids = None if gateway.lists_all_charges else sorted(sales)
    from_gateway = gateway.charge_totals(charge_ids=charge_ids)
    ledger_rows = _ledger_totals_by_reference()
    charge_of = {ref: charge_id for charge_id, sale in sales.items() for ref in sale["refs"]}

    by_charge: dict[tuple[str, str], dict[str, Any]] = {}

    def slot(charge_id: str, currency: str) -> dict[str, Any]:
        return by_charge.setdefault(
            (charge_id, currency),
            {"refs": [], "gateway": Totals(), "ledger": Totals(), "payments": Totals()},
        )

    for charge_id, sale in sales.items():
        entry = slot(charge_id, sale["currency"])
        entry["refs"] += sale["refs"]
        entry["payments"] += sale["totals"]
    for charge_id, record in from_gateway.items():
        slot(charge_id, record.currency)["gateway"] += Totals(record.captured, record.refunded)
    for (reference, currency), totals in ledger_rows.items():
        entry = slot(charge_of.get(reference, ""), currency)
        entry["ledger"] += totals
        if reference not in charge_of:
            entry["refs"].append(reference)

    per_currency: dict[str, dict[str, Totals]] = {}
    differences = []
    for (charge_id, currency), entry in sorted(by_charge.items()):
        sums = per_currency.setdefault(
            currency, {"gateway": Totals(), "ledger": Totals(), "payments": Totals()}
        )
        for side in sums:
            sums[side] += entry[side]
        if not entry["gateway"] == entry["ledger"] == entry["payments"]:
            differences.append(
                ChargeDifference(
                    charge_id=charge_id,
                    currency=currency,
                    references=tuple(sorted(entry["refs"])),
                    gateway=entry["gateway"],
                    ledger=entry["ledger"],
                    payments=entry["payments"],
                )
            )
    currencies = [
        CurrencyReconciliation(currency, sums["gateway"], sums["ledger"], sums["payments"])
        for currency, sums in sorted(per_currency.items())
    ]
    return Reconciliation(gateway.name, currencies, differences)


# --- disputes -----------------------------------------------------------------------------------


def disputes_list(*, status: str | None, cursor: str | None, limit: int = 20) -> Page[Dispute]:
    """Disputes for operators, newest first (filtered by status when given)."""
    disputes = Dispute.objects.prefetch_related("evidence")
    if status:
        disputes = disputes.filter(status=status)
    return paginate(disputes, ordering=("-created_at", "-id"), cursor=cursor, limit=limit)


def dispute_get(*, dispute_id: int) -> Dispute:
    """A dispute for an operator (operators see every dispute); NotFound otherwise."""
    dispute = Dispute.objects.prefetch_related("evidence").filter(pk=dispute_id).first()
    if dispute is None:
        raise NotFound("No such dispute.")
    return dispute
