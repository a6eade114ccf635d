"""The marketplace's money movements as ledger postings (ARCHITECTURE.md "Money flow").

One function per movement; each posts exactly one balanced journal transaction and is
idempotent by its key (a retry returns the first transaction; the same key for a different
movement is 422 `idempotency_key_reused`). They take plain values — a `reference` such as
"booking:12", a `vendor_id`, `Money` — because payments knows no bookings or orders.
A reference identifies one vendor's part of a sale.

capture ─▶ escrow (vendor) ─release─▶ available (vendor) ─payout─▶ paid out (vendor)
   └──▶ commission, processing fees (platform)            ◀─payout failed─┘
refund: vendor share, commission and fee given back in proportion ─▶ refunds (platform)
dispute: the same proportional pieces ─▶ dispute hold ─won─▶ back / ─lost─▶ gateway

Proportions and rounding. What a capture put in — vendor share, commission, fee — are the
weights. Refunds and disputes *consume* the capture: after them, each piece must have given
up `Money(consumed).allocate(weights)` (largest remainder, exact), where consumed =
refunded + held in dispute + lost in dispute. Each movement posts the difference between
that target and what the ledger shows was already given up. So partial refunds add up to
the refund to the minor unit, a full refund in any number of steps returns exactly the
vendor share, commission and fee captured, and no piece ever gives up more than it got.

Concurrency. Each movement that checks a balance before moving money (release, refund,
disputes, payout) first locks the vendor's `available` account row for the currency
(`core.locking.lock_rows`; on SQLite the IMMEDIATE transaction already serialises writers),
so checks and postings for one vendor and currency run one at a time and always take the
same single lock. Captures only add money and take no lock.
"""

from __future__ import annotations

from agora.core.locking import lock_rows, require_transaction
from agora.core.money import Money
from agora.payments import ledger
from agora.payments.errors import PaymentError, PaymentErrorCode
from agora.payments.ledger import Line
from agora.payments.models import (
    PLATFORM_OWNER_ID,
    AccountKey,
    JournalTransaction,
    LedgerAccount,
    OwnerType,
    Purpose,
    TransactionKind,
)
from agora.payments.selectors import (
    ReferenceState,
    Split,
    VendorBalance,
    escrow_held_for,
    reference_state,
    reference_states,
    vendor_balance,
)

# The reads the money flow decides on live in selectors.py; these are re-exported so a
# caller of the movements finds them here too.
__all__ = [
    "ReferenceState",
    "Split",
    "VendorBalance",
    "escrow_held_for",
    "post_capture",
    "post_dispute_lost",
    "post_dispute_opened",
    "post_dispute_won",
    "post_escrow_release",
    "post_payout",
    "post_payout_failed",
    "post_refund",
    "reference_state",
    "reference_states",
    "vendor_balance",
]


# --- accounts --------------------------------------------------------------------------------


def _vendor(purpose: str, vendor_id: int, currency: str) -> AccountKey:
    return AccountKey(OwnerType.VENDOR, vendor_id, purpose, currency)


def _platform(purpose: str, currency: str) -> AccountKey:
    return AccountKey(OwnerType.PLATFORM, PLATFORM_OWNER_ID, purpose, currency)


def _clearing(currency: str) -> AccountKey:
    return AccountKey(OwnerType.GATEWAY, PLATFORM_OWNER_ID, Purpose.GATEWAY_CLEARING, currency)


def _lock_vendor(
    vendor_id: int, currency: str, *more: AccountKey
) -> dict[AccountKey, LedgerAccount]:
    """Resolve the vendor's accounts (and `more`), then lock its `available` account row.

    The lock serialises every balance check and posting for this vendor and currency; the
    accounts are created first (outside the lock is fine: creation is race-safe) so that
    the row to lock exists.
    """
    available = _vendor(Purpose.AVAILABLE, vendor_id, currency)
    keys = [available, _vendor(Purpose.ESCROW, vendor_id, currency), *more]
    accounts = ledger.accounts_for(keys=keys)
    lock_rows(LedgerAccount.objects.filter(pk=accounts[available].pk))
    return accounts


def _positive(amount: Money) -> None:
    if amount.amount <= 0:
        raise ValueError(f"amount must be positive, got {amount}")


def _consumption_lines(
    state: ReferenceState, consumed: int, accounts: dict[AccountKey, LedgerAccount]
) -> list[Line]:
    """Lines that bring the pieces given up by `state`'s reference to `consumed`'s share.

    Positive `consumed - state.consumed` takes money from the pieces (refund, dispute);
    negative gives it back (dispute won). The vendor's piece is in escrow until the
    reference is released and in available after; available may go negative.
    """
    currency = state.currency
    original, current = state.original, state.current
    weights = [original.vendor, original.commission, original.fee]
    if sum(weights) > 0:
        target = Money(consumed, currency).allocate(weights)
    else:  # every capture of the reference was reversed: nothing is left to share
        target = [Money.zero(currency)] * 3
    given_up = (
        original.vendor - current.vendor,
        original.commission - current.commission,
        original.fee - current.fee,
    )
    vendor_purpose = Purpose.AVAILABLE if state.released else Purpose.ESCROW
    places = (
        accounts[_vendor(vendor_purpose, state.vendor_id, currency)],
        accounts[_platform(Purpose.COMMISSION, currency)],
        accounts[_platform(Purpose.PROCESSING_FEES, currency)],
    )
    lines = []
    for account, share, before in zip(places, target, given_up, strict=True):
        if share.amount != before:
            lines.append(Line(account, before - share.amount))
    return lines


def _platform_pieces(currency: str) -> tuple[AccountKey, AccountKey]:
    return _platform(Purpose.COMMISSION, currency), _platform(Purpose.PROCESSING_FEES, currency)


# --- movements -------------------------------------------------------------------------------


def post_capture(
    *,
    reference: str,
    vendor_id: int,
    gross: Money,
    commission: Money,
    processing_fee: Money,
    idempotency_key: str,
) -> JournalTransaction:
    """Customer money captured: gateway clearing −gross; vendor escrow +(gross − commission −
    fee); platform commission +commission; processing fees +fee.

    Commission and fee are frozen at sale time by the caller and are never recomputed.
    A reference another vendor already has entries for is refused (409
    `reference_vendor_mismatch`). One statement on PostgreSQL once the accounts exist.
    """
    currency = gross.currency
    _positive(gross)
    if commission.currency != currency or processing_fee.currency != currency:
        raise ValueError("gross, commission and processing fee must share a currency")
    if commission.amount < 0 or processing_fee.amount < 0:
        raise ValueError("commission and processing fee cannot be negative")
    vendor_share = gross - commission - processing_fee
    if vendor_share.amount < 0:
        raise ValueError(f"commission and fee exceed the gross {gross}")
    require_transaction()
    candidates = [
        Line(_clearing(currency), -gross.amount),
        Line(_vendor(Purpose.ESCROW, vendor_id, currency), vendor_share.amount),
        Line(_platform(Purpose.COMMISSION, currency), commission.amount),
        Line(_platform(Purpose.PROCESSING_FEES, currency), processing_fee.amount),
    ]
    return ledger.post(
        kind=TransactionKind.CAPTURE,
        reference=reference,
        lines=[line for line in candidates if line.amount],
        idempotency_key=idempotency_key,
        fingerprint=ledger.fingerprint(
            "capture", reference, vendor_id, gross, commission, processing_fee
        ),
        # A reference is one vendor's sale: checked inside the INSERT, no extra query.
        sole_owner=ledger.SoleOwner(OwnerType.VENDOR, vendor_id),
    )


def post_escrow_release(
    *, reference: str, vendor_id: int, idempotency_key: str
) -> JournalTransaction | None:
    """Move what `reference` still holds in the vendor's escrow to their available balance
    (every currency it holds). Returns None when nothing is held.

    Freezing the release while a dispute is open is the caller's decision
    (`escrow_held_for` shows what is at stake); releasing anyway is consistent: the part
    already frozen in dispute hold stays there.
    """
    require_transaction()
    digest = ledger.fingerprint("escrow_release", reference, vendor_id)
    if (done := ledger.replayed(idempotency_key, digest)) is not None:
        return done
    held = [
        currency
        for currency, state in reference_states(reference=reference, vendor_id=vendor_id).items()
        if state.escrow
    ]
    lines = []
    for currency in sorted(held):  # one lock per currency, in a stable order
        accounts = _lock_vendor(vendor_id, currency)
        state = reference_state(reference=reference, vendor_id=vendor_id, currency=currency)
        if state.escrow > 0:
            lines += [
                Line(accounts[_vendor(Purpose.ESCROW, vendor_id, currency)], -state.escrow),
                Line(accounts[_vendor(Purpose.AVAILABLE, vendor_id, currency)], state.escrow),
            ]
    if not lines:
        return None
    return ledger.post(
        kind=TransactionKind.ESCROW_RELEASE,
        reference=reference,
        lines=lines,
        idempotency_key=idempotency_key,
        fingerprint=digest,
    )


def post_refund(
    *, reference: str, vendor_id: int, amount: Money, idempotency_key: str
) -> JournalTransaction:
    """Give `amount` back to the customer: the vendor share (from escrow while held, else
    from available — which may go negative, recovered from future earnings), commission
    and fee each give up their proportional part; the refunds account receives `amount`.

    Never more than captured minus refunded minus disputed for the reference: otherwise
    409 `refund_exceeds_captured`.
    """
    _positive(amount)
    require_transaction()
    currency = amount.currency
    digest = ledger.fingerprint("refund", reference, vendor_id, amount)
    if (done := ledger.replayed(idempotency_key, digest)) is not None:
        return done
    refunds = _platform(Purpose.REFUNDS, currency)
    accounts = _lock_vendor(vendor_id, currency, refunds, *_platform_pieces(currency))
    state = reference_state(reference=reference, vendor_id=vendor_id, currency=currency)
    if amount.amount > state.refundable.amount:
        raise PaymentError(
            f"Cannot refund {amount}: {state.refundable} of {state.captured} captured for "
            f"{reference} is refundable.",
            code=PaymentErrorCode.REFUND_EXCEEDS_CAPTURED,
            extra={
                "captured": state.original.total,
                "refunded": state.refunded,
                "in_dispute": state.dispute_hold,
                "refundable": state.refundable.amount,
                "currency": currency,
            },
        )
    lines = _consumption_lines(state, state.consumed + amount.amount, accounts)
    lines.append(Line(accounts[refunds], amount.amount))
    return ledger.post(
        kind=TransactionKind.REFUND,
        reference=reference,
        lines=lines,
        idempotency_key=idempotency_key,
        fingerprint=digest,
    )


def post_payout(
    *, vendor_id: int, amount: Money, idempotency_key: str, reference: str | None = None
) -> JournalTransaction:
    """Pay `amount` of the vendor's available balance out: available → paid out.

    Checked under the vendor's lock: never more than available (409
    `insufficient_balance`), so concurrent payouts cannot overdraw it.
    """
    _positive(amount)
    require_transaction()
    currency = amount.currency
    reference = reference or f"vendor:{vendor_id}:payout"
    digest = ledger.fingerprint("payout", reference, vendor_id, amount)
    if (done := ledger.replayed(idempotency_key, digest)) is not None:
        return done
    paid_out = _vendor(Purpose.PAID_OUT, vendor_id, currency)
    accounts = _lock_vendor(vendor_id, currency, paid_out)
    available = accounts[_vendor(Purpose.AVAILABLE, vendor_id, currency)]
    balance = ledger.balance(available)
    if amount.amount > balance:
        raise PaymentError(
            f"Cannot pay out {amount}: the available balance is {Money(balance, currency)}.",
            code=PaymentErrorCode.INSUFFICIENT_BALANCE,
            extra={"available": balance, "currency": currency},
        )
    return ledger.post(
        kind=TransactionKind.PAYOUT,
        reference=reference,
        lines=[Line(available, -amount.amount), Line(accounts[paid_out], amount.amount)],
        idempotency_key=idempotency_key,
        fingerprint=digest,
    )


def post_payout_failed(*, payout: JournalTransaction, idempotency_key: str) -> JournalTransaction:
    """The bank returned a payout: reverse it (paid out → available), once only."""
    if payout.kind != TransactionKind.PAYOUT:
        raise PaymentError(
            f"Journal transaction #{payout.pk} is a {payout.kind}, not a payout.",
            code=PaymentErrorCode.NOT_REVERSIBLE,
        )
    return ledger.post_reversal(
        original=payout,
        kind=TransactionKind.PAYOUT_FAILED,
        memo="payout failed",
        idempotency_key=idempotency_key,
    )


def post_dispute_opened(
    *, reference: str, vendor_id: int, amount: Money, idempotency_key: str
) -> JournalTransaction:
    """A chargeback was opened: freeze `amount` in the vendor's dispute hold, taken from
    the vendor share (escrow while held, else available), commission and fee in proportion
    — exactly as a refund of `amount` would. At most what is still refundable (409
    `dispute_exceeds_captured`)."""
    _positive(amount)
    require_transaction()
    currency = amount.currency
    digest = ledger.fingerprint("dispute_opened", reference, vendor_id, amount)
    if (done := ledger.replayed(idempotency_key, digest)) is not None:
        return done
    hold = _vendor(Purpose.DISPUTE_HOLD, vendor_id, currency)
    accounts = _lock_vendor(vendor_id, currency, hold, *_platform_pieces(currency))
    state = reference_state(reference=reference, vendor_id=vendor_id, currency=currency)
    if amount.amount > state.refundable.amount:
        raise PaymentError(
            f"Cannot dispute {amount}: only {state.refundable} of {reference} is not yet "
            "refunded or disputed.",
            code=PaymentErrorCode.DISPUTE_EXCEEDS_CAPTURED,
            extra={"disputable": state.refundable.amount, "currency": currency},
        )
    lines = _consumption_lines(state, state.consumed + amount.amount, accounts)
    lines.append(Line(accounts[hold], amount.amount))
    return ledger.post(
        kind=TransactionKind.DISPUTE_OPENED,
        reference=reference,
        lines=lines,
        idempotency_key=idempotency_key,
        fingerprint=digest,
    )


def _held_state(
    reference: str, vendor_id: int, amount: Money, *more: AccountKey
) -> tuple[ReferenceState, dict[AccountKey, LedgerAccount]]:
    currency = amount.currency
    hold = _vendor(Purpose.DISPUTE_HOLD, vendor_id, currency)
    accounts = _lock_vendor(vendor_id, currency, hold, *more)
    state = reference_state(reference=reference, vendor_id=vendor_id, currency=currency)
    if amount.amount > state.dispute_hold:
        raise PaymentError(
            f"Cannot settle {amount} of disputes on {reference}: "
            f"{Money(state.dispute_hold, currency)} is on hold.",
            code=PaymentErrorCode.DISPUTE_EXCEEDS_HOLD,
            extra={"on_hold": state.dispute_hold, "currency": currency},
        )
    return state, accounts


def post_dispute_won(
    *, reference: str, vendor_id: int, amount: Money, idempotency_key: str
) -> JournalTransaction:
    """The platform won (part of) a dispute: `amount` leaves the hold and each piece gets
    its share back (the vendor's to escrow if still held, else to available)."""
    _positive(amount)
    require_transaction()
    digest = ledger.fingerprint("dispute_won", reference, vendor_id, amount)
    if (done := ledger.replayed(idempotency_key, digest)) is not None:
        return done
    state, accounts = _held_state(reference, vendor_id, amount, *_platform_pieces(amount.currency))
    lines = _consumption_lines(state, state.consumed - amount.amount, accounts)
    hold = accounts[_vendor(Purpose.DISPUTE_HOLD, vendor_id, amount.currency)]
    lines.append(Line(hold, -amount.amount))
    return ledger.post(
        kind=TransactionKind.DISPUTE_WON,
        reference=reference,
        lines=lines,
        idempotency_key=idempotency_key,
        fingerprint=digest,
    )


def post_dispute_lost(
    *, reference: str, vendor_id: int, amount: Money, idempotency_key: str
) -> JournalTransaction:
    """The platform lost (part of) a dispute: the card network took `amount` back through
    the gateway — dispute hold → gateway clearing."""
    _positive(amount)
    require_transaction()
    digest = ledger.fingerprint("dispute_lost", reference, vendor_id, amount)
    if (done := ledger.replayed(idempotency_key, digest)) is not None:
        return done
    clearing = _clearing(amount.currency)
    _state, accounts = _held_state(reference, vendor_id, amount, clearing)
    hold = accounts[_vendor(Purpose.DISPUTE_HOLD, vendor_id, amount.currency)]
    return ledger.post(
        kind=TransactionKind.DISPUTE_LOST,
        reference=reference,
        lines=[Line(hold, -amount.amount), Line(accounts[clearing], amount.amount)],
        idempotency_key=idempotency_key,
        fingerprint=digest,
    )
