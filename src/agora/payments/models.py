"""The double-entry ledger, the money-state guard's model base, and the sandbox gateway's
own state.

Sign convention
---------------
An entry's `amount` is a signed integer in minor units, never 0. Positive means value
*into* the account, negative value *out of* it, and an account's balance is simply the sum
of its entries. Every journal transaction's entries sum to zero per currency, so the sum of
all balances in a currency (the trial balance) is always zero.

Where each account normally stands:

* gateway clearing (gateway, 0) — **negative**: the source of customer money. A capture
  takes the gross from it; a lost dispute gives the disputed amount back to it (the card
  network took it). Its balance is −(captured − lost in disputes).
* escrow (vendor) — ≥ 0: the vendor's share of captures not yet released. Never negative,
  per reference and in total.
* available (vendor) — usually ≥ 0: released earnings not yet paid out. It may go
  **negative** when a refund or dispute arrives after release; the debt is recovered from
  the vendor's future earnings, and payouts are refused until it is positive again.
* paid out (vendor) — ≥ 0: everything transferred to the vendor's bank, net of failures.
* commission, processing fees (platform, 0) — ≥ 0: the platform's cut, frozen at sale.
* refunds (platform, 0) — ≥ 0: money returned to customers.
* dispute hold (vendor) — ≥ 0: money frozen while a chargeback is open.

Hence, to the minor unit (ARCHITECTURE.md invariant 3), per currency:
−gateway clearing = escrow + available + paid out + commission + fees + refunds + dispute
hold, i.e. captured = vendor earnings + commission + fees + refunds (+ money in dispute).

Where the rules are enforced
----------------------------
* In code, always: `ledger.post` refuses empty, zero, unbalanced and cross-currency
  postings; these models refuse UPDATE and DELETE through the ORM.
* In the schema, both databases: `amount <> 0` (CHECK), an entry's currency equals its
  account's (trigger), UPDATE and DELETE of transactions, entries and accounts are
  rejected (triggers, migration 0002).
* PostgreSQL only: a DEFERRABLE INITIALLY DEFERRED constraint trigger checks at COMMIT
  that each touched transaction's entries sum to zero per currency and that no transaction
  is left without entries — so even raw SQL cannot commit an unbalanced transaction.
  SQLite has no deferred triggers (and no statement-level ones), so there the balance
  rule lives in `ledger.post` alone; `ledger.unbalanced_transactions()` audits it on both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import models
from django.db.models import Q

from agora.core import clock
from agora.core.money import validate_currency
from agora.payments.errors import ImmutableLedgerError
from agora.payments.guard import note_money_state_change

_M = TypeVar("_M", bound=models.Model)

PLATFORM_OWNER_ID = 0


class OwnerType(models.TextChoices):
    PLATFORM = "platform"
    VENDOR = "vendor"
    CUSTOMER = "customer"
    GATEWAY = "gateway"


# Owners that exist once per marketplace: their accounts use owner_id 0, never NULL, so the
# unique constraint works (NULLs never collide in a unique index on either database).
SINGLETON_OWNERS = frozenset({OwnerType.PLATFORM, OwnerType.GATEWAY})


class Purpose(models.TextChoices):
    GATEWAY_CLEARING = "gateway_clearing"
    ESCROW = "escrow"
    AVAILABLE = "available"
    PAID_OUT = "paid_out"
    COMMISSION = "commission"
    PROCESSING_FEES = "processing_fees"
    REFUNDS = "refunds"
    DISPUTE_HOLD = "dispute_hold"
    ADJUSTMENTS = "adjustments"


class TransactionKind(models.TextChoices):
    CAPTURE = "capture"
    REFUND = "refund"
    ESCROW_RELEASE = "escrow_release"
    PAYOUT = "payout"
    PAYOUT_FAILED = "payout_failed"
    DISPUTE_OPENED = "dispute_opened"
    DISPUTE_WON = "dispute_won"
    DISPUTE_LOST = "dispute_lost"
    REVERSAL = "reversal"
    ADJUSTMENT = "adjustment"


# --- append-only rows -------------------------------------------------------------------


class AppendOnlyQuerySet(models.QuerySet[_M]):
    """Refuses the bulk paths that would bypass `save()`/`delete()` (bulk_create is fine)."""

    def update(self, **kwargs: Any) -> int:
        raise ImmutableLedgerError(f"{self.model._meta.label} rows are immutable")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise ImmutableLedgerError(f"{self.model._meta.label} rows are immutable")

    def bulk_update(self, objs: Any, *args: Any, **kwargs: Any) -> int:
        raise ImmutableLedgerError(f"{self.model._meta.label} rows are immutable")


class AppendOnlyModel(models.Model):
    """Inserted once, never updated or deleted — corrections are new rows (reversals)."""

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ImmutableLedgerError(
                f"{self._meta.label} #{self.pk} is immutable; post a reversal instead"
            )
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ImmutableLedgerError(f"{self._meta.label} #{self.pk} cannot be deleted")


# Choices' `.values` builds a new list on every access; keys are validated on every posting.
_OWNER_TYPES = frozenset(OwnerType.values)
_PURPOSES = frozenset(Purpose.values)


@dataclass(frozen=True, slots=True)
class AccountKey:
    """Names a ledger account without touching the database: (owner, purpose, currency)."""

    owner_type: str
    owner_id: int
    purpose: str
    currency: str

    def __post_init__(self) -> None:
        if self.owner_type not in _OWNER_TYPES:
            raise ValueError(f"unknown owner type {self.owner_type!r}")
        if self.purpose not in _PURPOSES:
            raise ValueError(f"unknown account purpose {self.purpose!r}")
        if self.owner_type in SINGLETON_OWNERS:
            if self.owner_id != PLATFORM_OWNER_ID:
                raise ValueError(f"{self.owner_type} accounts use owner_id 0")
        elif not (isinstance(self.owner_id, int) and self.owner_id > 0):
            raise ValueError(f"{self.owner_type} accounts need a positive owner_id")
        validate_currency(self.currency)

    def __str__(self) -> str:
        return f"{self.owner_type}:{self.owner_id}:{self.purpose}:{self.currency}"


class LedgerAccount(AppendOnlyModel):
    """One account per (owner, purpose, currency). Holds no balance: balances are sums of
    entries (`ledger.balance`), so there is no cached figure that could drift."""

    owner_type = models.CharField(max_length=16, choices=OwnerType.choices)
    # A vendor's or customer's id (no FK: payments depends on no other domain app); 0 for
    # the platform and the gateway.
    owner_id = models.BigIntegerField(default=PLATFORM_OWNER_ID)
    purpose = models.CharField(max_length=32, choices=Purpose.choices)
    currency = models.CharField(max_length=3)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["owner_type", "owner_id", "purpose", "currency"],
                name="payments_account_unique",
            ),
            models.CheckConstraint(
                condition=(
                    Q(owner_type__in=sorted(SINGLETON_OWNERS), owner_id=PLATFORM_OWNER_ID)
                    | Q(owner_type__in=[OwnerType.VENDOR, OwnerType.CUSTOMER], owner_id__gt=0)
                ),
                name="payments_account_owner",
            ),
            models.CheckConstraint(
                condition=Q(purpose__in=Purpose.values), name="payments_account_purpose"
            ),
        ]

    def __str__(self) -> str:
        return str(self.key)

    @property
    def key(self) -> AccountKey:
        return AccountKey(self.owner_type, self.owner_id, self.purpose, self.currency)


class JournalTransaction(AppendOnlyModel):
    """A set of entries that sum to zero per currency, recorded at once and forever.

    `reference` names what the money is for ("booking:12", "order:7", "payout:3"):
    payments knows no bookings or orders. `idempotency_key` makes a retried posting return
    this transaction instead of moving the money again; `fingerprint` tells a retry from a
    different request that reused the key.
    """

    kind = models.CharField(max_length=32, choices=TransactionKind.choices)
    reference = models.CharField(max_length=100, db_index=True)
    idempotency_key = models.CharField(max_length=255, null=True, blank=True, unique=True)
    fingerprint = models.CharField(max_length=64, blank=True, default="")
    memo = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=clock.now, db_index=True)
    # One reversal per transaction at most: the unique index settles concurrent attempts.
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=TransactionKind.values), name="payments_transaction_kind"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} {self.reference}"


class JournalEntry(AppendOnlyModel):
    """One signed amount on one account. `currency` repeats the account's (a trigger keeps
    them equal) so the per-currency balance check needs no join."""

    transaction = models.ForeignKey(
        JournalTransaction, on_delete=models.PROTECT, related_name="entries"
    )
    # Indexed by the composite (account, amount) index below: balances become index-only
    # SUMs, and account lookups use its leading column.
    account = models.ForeignKey(
        LedgerAccount, on_delete=models.PROTECT, related_name="entries", db_index=False
    )
    amount = models.BigIntegerField(help_text="Signed minor units; never 0.")
    currency = models.CharField(max_length=3)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["account", "amount"], name="payments_entry_account")]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="payments_entry_nonzero"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.amount:+d} {self.currency}"


# --- the guard's model base ---------------------------------------------------------------


class MoneyStateQuerySet(models.QuerySet[_M]):
    """Bulk writes count as money-state changes too: they must happen in money_change()."""

    def update(self, **kwargs: Any) -> int:
        note_money_state_change(f"{self.model._meta.label}.update")
        return super().update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        note_money_state_change(f"{self.model._meta.label}.delete")
        return super().delete()

    def bulk_create(self, objs: Any, *args: Any, **kwargs: Any) -> list[_M]:
        note_money_state_change(f"{self.model._meta.label}.bulk_create")
        return super().bulk_create(objs, *args, **kwargs)

    def bulk_update(self, objs: Any, *args: Any, **kwargs: Any) -> int:
        note_money_state_change(f"{self.model._meta.label}.bulk_update")
        return super().bulk_update(objs, *args, **kwargs)


class MoneyStateModel(models.Model):
    """Base for models that carry money state (Payment, Refund, Payout, Dispute).

    Every write is refused outside `guard.money_change()`, and a `money_change()` block
    that writes one without posting to the ledger fails and rolls back (pretix's guard).
    """

    objects = MoneyStateQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        note_money_state_change(self._meta.label)
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        note_money_state_change(f"{self._meta.label}.delete")
        return super().delete(*args, **kwargs)


# --- the sandbox gateway's state ----------------------------------------------------------


class SandboxCharge(models.Model):
    """What the sandbox gateway knows about a charge — the stand-in for Stripe's side,
    kept in the database so it behaves the same across processes. Not ledger state:
    the ledger records what *we* did with the money."""

    charge_id = models.CharField(max_length=64, unique=True)
    idempotency_key = models.CharField(max_length=255, unique=True)
    payment_method = models.CharField(max_length=100)
    currency = models.CharField(max_length=3)
    authorized_amount = models.BigIntegerField()
    captured_amount = models.BigIntegerField(default=0)
    refunded_amount = models.BigIntegerField(default=0)
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        constraints = [
            # Also enforced by conditional UPDATEs in the gateway; these make it certain.
            models.CheckConstraint(
                condition=Q(authorized_amount__gt=0), name="payments_sandbox_authorized"
            ),
            models.CheckConstraint(
                condition=Q(captured_amount__gte=0)
                & Q(captured_amount__lte=models.F("authorized_amount")),
                name="payments_sandbox_captured",
            ),
            models.CheckConstraint(
                condition=Q(refunded_amount__gte=0)
                & Q(refunded_amount__lte=models.F("captured_amount")),
                name="payments_sandbox_refunded",
            ),
        ]

    def __str__(self) -> str:
        return self.charge_id


class SandboxOperationKind(models.TextChoices):
    CAPTURE = "capture"
    REFUND = "refund"
    TRANSFER = "transfer"


class SandboxOperation(models.Model):
    """One capture, refund or transfer, by idempotency key, so a retry replays it."""

    idempotency_key = models.CharField(max_length=255, unique=True)
    operation_id = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=16, choices=SandboxOperationKind.choices)
    charge = models.ForeignKey(
        SandboxCharge, null=True, blank=True, on_delete=models.PROTECT, related_name="operations"
    )
    destination = models.CharField(max_length=255, blank=True, default="")
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    created_at = models.DateTimeField(default=clock.now)

    def __str__(self) -> str:
        return self.operation_id


# --- sales: what was charged, for whom, and what was given back ---------------------------


class PaymentStatus(models.TextChoices):
    CAPTURED = "captured", "Captured"
    PARTIALLY_REFUNDED = "partially_refunded", "Partially refunded"
    REFUNDED = "refunded", "Refunded"


class Payment(MoneyStateModel):
    """One vendor's part of a customer charge, by `reference` ("booking:12", "order:7").

    A multi-vendor checkout is one gateway charge (`charge_group`, `charge_id`) split into
    one Payment per vendor order. Commission and processing fee are frozen here at sale
    time; the ledger's capture posting carries the same numbers.
    """

    reference = models.CharField(max_length=64, unique=True)
    charge_group = models.CharField(max_length=64, db_index=True)
    vendor_id = models.BigIntegerField(db_index=True)
    currency = models.CharField(max_length=3)
    gross_amount = models.BigIntegerField()
    commission_amount = models.BigIntegerField()
    fee_amount = models.BigIntegerField()
    refunded_amount = models.BigIntegerField(default=0)
    commission_rule_id = models.BigIntegerField(null=True, blank=True)
    gateway = models.CharField(max_length=32)
    charge_id = models.CharField(max_length=100)
    payment_method = models.CharField(max_length=100)
    status = models.CharField(
        max_length=24, choices=PaymentStatus.choices, default=PaymentStatus.CAPTURED
    )
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(gross_amount__gt=0), name="payments_payment_gross_positive"
            ),
            models.CheckConstraint(
                condition=Q(refunded_amount__gte=0)
                & Q(refunded_amount__lte=models.F("gross_amount")),
                name="payments_payment_refunds_within_gross",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.gross_amount} {self.currency}"


class Refund(MoneyStateModel):
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    reason = models.CharField(max_length=300)
    idempotency_key = models.CharField(max_length=255, unique=True)
    gateway_refund_id = models.CharField(max_length=100)
    created_by_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payments_refund_positive")
        ]

    def __str__(self) -> str:
        return f"refund {self.amount} of {self.payment_id}"


class CommissionRule(models.Model):
    """The platform's cut. Matches by listing, category (and its descendants) or vendor
    tier; the lowest `priority` among matching rules wins (see payments.commission)."""

    name = models.CharField(max_length=120)
    priority = models.PositiveIntegerField(default=100)
    percent_bp = models.PositiveIntegerField(default=0, help_text="Basis points: 300 = 3 %")
    fixed_amount = models.PositiveIntegerField(default=0)
    minimum_amount = models.PositiveIntegerField(null=True, blank=True)
    maximum_amount = models.PositiveIntegerField(null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True, default="")
    listing_id = models.BigIntegerField(null=True, blank=True)
    category_path = models.CharField(max_length=400, blank=True, default="")
    vendor_tier = models.CharField(max_length=16, blank=True, default="")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["priority", "id"]

    def __str__(self) -> str:
        return self.name


class PayoutStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    PAID = "paid", "Paid"
    FAILED = "failed", "Failed"


class PayoutSchedule(models.TextChoices):
    DAILY = "daily", "Daily"
    WEEKLY = "weekly", "Weekly"
    MONTHLY = "monthly", "Monthly"
    MANUAL = "manual", "Manual (on demand)"


class Payout(MoneyStateModel):
    """Money leaving a vendor's available balance for their bank: pending → paid | failed
    (a failed payout returns the money to available)."""

    vendor_id = models.BigIntegerField(db_index=True)
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(
        max_length=16, choices=PayoutStatus.choices, default=PayoutStatus.PENDING
    )
    idempotency_key = models.CharField(max_length=255, unique=True)
    journal_transaction_id = models.BigIntegerField()
    transfer_id = models.CharField(max_length=100, blank=True, default="")
    failure_reason = models.CharField(max_length=300, blank=True, default="")
    requested_by_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=clock.now)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payments_payout_positive")
        ]

    def __str__(self) -> str:
        return f"payout {self.pk} {self.amount} {self.currency} ({self.status})"


class PayoutSettings(models.Model):
    """A vendor's payout schedule and minimum amount (minor units)."""

    vendor_id = models.BigIntegerField(unique=True)
    schedule = models.CharField(
        max_length=16, choices=PayoutSchedule.choices, default=PayoutSchedule.WEEKLY
    )
    minimum_amount = models.PositiveIntegerField(default=1000)
    destination = models.CharField(
        max_length=100, blank=True, default="", help_text="Connected account id."
    )

    def __str__(self) -> str:
        return f"payout settings of {self.vendor_id}"


# --- disputes ---------------------------------------------------------------------------------


class DisputeStatus(models.TextChoices):
    OPENED = "opened", "Opened"
    WON = "won", "Won"
    LOST = "lost", "Lost"


class DisputeOutcome(models.TextChoices):
    WON = "won", "Won"
    LOST = "lost", "Lost"


class Dispute(MoneyStateModel):
    """A chargeback (or an operator-mediated claim) on one vendor's sale: opened → won |
    lost, through `services.DISPUTE_LIFECYCLE` (audited).

    Opening freezes `amount` in the vendor's dispute hold (flows.post_dispute_opened) and
    stops the reference's escrow release until it is decided; winning gives the pieces
    back, losing hands the money to the card network through the gateway.
    A gateway dispute covering a multi-vendor charge becomes one Dispute per Payment,
    sharing `gateway_dispute_id`.
    """

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="disputes")
    reference = models.CharField(max_length=64, db_index=True)
    vendor_id = models.BigIntegerField(db_index=True)
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    reason = models.CharField(max_length=300)
    status = models.CharField(
        max_length=16, choices=DisputeStatus.choices, default=DisputeStatus.OPENED
    )
    gateway_dispute_id = models.CharField(max_length=100, blank=True, default="")
    idempotency_key = models.CharField(max_length=255, unique=True)
    opened_transaction_id = models.BigIntegerField()
    decided_transaction_id = models.BigIntegerField(null=True, blank=True)
    opened_by_id = models.BigIntegerField(null=True, blank=True)
    decided_by_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=clock.now)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payments_dispute_positive"),
            models.CheckConstraint(
                condition=Q(status__in=DisputeStatus.values), name="payments_dispute_status"
            ),
            # A webhook delivered twice opens nothing twice.
            models.UniqueConstraint(
                fields=["gateway_dispute_id", "payment"],
                condition=~Q(gateway_dispute_id=""),
                name="payments_dispute_gateway_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"dispute {self.pk} on {self.reference} ({self.status})"


class DisputeEvidence(models.Model):
    """A note or piece of evidence the operator recorded on a dispute (not money state)."""

    dispute = models.ForeignKey(Dispute, on_delete=models.PROTECT, related_name="evidence")
    text = models.TextField()
    author_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"evidence {self.pk} on dispute {self.dispute_id}"
