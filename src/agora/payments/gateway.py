"""Payment gateways: the interface the marketplace talks to, and the built-in sandbox.

The ledger is the source of truth and the gateway is told what to do (ARCHITECTURE.md):
a gateway call moves money in the outside world and returns what happened; the caller
records it with `flows.post_*`. Every call takes an idempotency key, so a retry after a
timeout returns the first outcome instead of charging twice (Stripe's semantics).

`SandboxGateway` behaves like Stripe in test mode, offline and deterministically:
Stripe's test payment-method names decide the outcome, ids derive from the idempotency
key, and its state lives in the database so it behaves the same across processes.
`stripe_gateway.StripeGateway` implements the same protocol on Stripe Connect.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from http import HTTPStatus
from typing import Protocol, runtime_checkable

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.db.models import F

from agora.core.errors import InvalidInput
from agora.core.money import Money
from agora.payments.errors import (
    CardDeclined,
    InsufficientFunds,
    PaymentError,
    PaymentErrorCode,
    key_reused,
)
from agora.payments.models import SandboxCharge, SandboxOperation, SandboxOperationKind


class GatewayStatus(StrEnum):
    AUTHORIZED = "authorized"
    CAPTURED = "captured"
    REFUNDED = "refunded"
    TRANSFERRED = "transferred"


@dataclass(frozen=True, slots=True)
class ChargeTotals:
    """What the gateway says happened to one charge, for reconciliation (minor units)."""

    charge_id: str
    currency: str
    captured: int
    refunded: int


@dataclass(frozen=True, slots=True)
class GatewayResult:
    id: str  # this operation's id at the gateway (for authorize: the charge's)
    charge_id: str  # the charge it concerns; "" for transfers
    status: GatewayStatus
    amount: Money  # this operation's amount


@runtime_checkable
class PaymentGateway(Protocol):
    """What Agora needs from a payment provider (Stripe Connect's separate charges and
    transfers). Declines raise `CardDeclined` / `InsufficientFunds` (402); an unknown
    payment method raises `InvalidInput` (422).

    `transfer_group` ties a charge to the transfers that later pay its vendors (Stripe's
    separate charges and transfers); `charge_totals` is what the gateway recorded, for
    the operator's reconciliation: every charge when `charge_ids` is None, which only a
    gateway with `lists_all_charges` can answer cheaply."""

    name: str
    lists_all_charges: bool

    def authorize(
        self,
        *,
        amount: Money,
        payment_method: str,
        idempotency_key: str,
        metadata: Mapping[str, str] | None = None,
        transfer_group: str | None = None,
    ) -> GatewayResult: ...

    def capture(self, *, charge_id: str, amount: Money, idempotency_key: str) -> GatewayResult: ...

    def refund(self, *, charge_id: str, amount: Money, idempotency_key: str) -> GatewayResult: ...

    def transfer(
        self,
        *,
        destination: str,
        amount: Money,
        idempotency_key: str,
        transfer_group: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> GatewayResult: ...

    def charge_totals(
        self, *, charge_ids: Sequence[str] | None = None
    ) -> dict[str, ChargeTotals]: ...


# Stripe's test payment methods and what the sandbox does with them (API.md): None
# succeeds, an error class is raised.
TEST_PAYMENT_METHODS: dict[str, Callable[[], PaymentError] | None] = {
    "pm_card_visa": None,
    "pm_card_mastercard": None,
    "pm_card_chargeDeclined": CardDeclined,
    "pm_card_chargeDeclinedInsufficientFunds": InsufficientFunds,
}


def sandbox_id(prefix: str, idempotency_key: str) -> str:
    """Deterministic: the same key always names the same charge, refund or transfer."""
    return f"{prefix}_sandbox_{hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]}"


def _with_group(metadata: Mapping[str, str] | None, transfer_group: str | None) -> dict[str, str]:
    stored = dict(metadata or {})
    if transfer_group:
        stored.setdefault("transfer_group", transfer_group)
    return stored


def _check_amount(amount: Money) -> None:
    if amount.amount <= 0:
        raise InvalidInput(
            "The amount must be positive.",
            errors=[{"loc": ["body", "amount"], "msg": "must be positive", "type": "value_error"}],
        )


class SandboxGateway:
    """Offline stand-in for Stripe with Stripe's test payment-method names."""

    name = "sandbox"
    lists_all_charges = True

    def authorize(
        self,
        *,
        amount: Money,
        payment_method: str,
        idempotency_key: str,
        metadata: Mapping[str, str] | None = None,
        transfer_group: str | None = None,
    ) -> GatewayResult:
        _check_amount(amount)
        if payment_method not in TEST_PAYMENT_METHODS:
            raise InvalidInput(
                f"Unknown payment method {payment_method!r}.",
                errors=[
                    {
                        "loc": ["body", "payment_method"],
                        "msg": "unknown payment method; the sandbox accepts "
                        + ", ".join(TEST_PAYMENT_METHODS),
                        "type": "unknown_payment_method",
                    }
                ],
            )
        decline = TEST_PAYMENT_METHODS[payment_method]
        if decline is not None:
            raise decline()  # deterministic: a retry is declined again, nothing is stored
        with transaction.atomic():
            charge = SandboxCharge.objects.filter(idempotency_key=idempotency_key).first()
            if charge is None:
                try:
                    with transaction.atomic():
                        charge = SandboxCharge.objects.create(
                            charge_id=sandbox_id("ch", idempotency_key),
                            idempotency_key=idempotency_key,
                            payment_method=payment_method,
                            currency=amount.currency,
                            authorized_amount=amount.amount,
                            metadata=_with_group(metadata, transfer_group),
                        )
                except IntegrityError:  # a concurrent retry won; replay its charge
                    charge = SandboxCharge.objects.get(idempotency_key=idempotency_key)
        if (
            charge.authorized_amount != amount.amount
            or charge.currency != amount.currency
            or charge.payment_method != payment_method
        ):
            raise key_reused(idempotency_key)
        return GatewayResult(charge.charge_id, charge.charge_id, GatewayStatus.AUTHORIZED, amount)

    def capture(self, *, charge_id: str, amount: Money, idempotency_key: str) -> GatewayResult:
        """Capture up to the authorised amount, in one or more parts."""
        return self._move(
            kind=SandboxOperationKind.CAPTURE,
            charge_id=charge_id,
            amount=amount,
            idempotency_key=idempotency_key,
        )

    def refund(self, *, charge_id: str, amount: Money, idempotency_key: str) -> GatewayResult:
        """Refund up to the captured amount, in one or more parts."""
        return self._move(
            kind=SandboxOperationKind.REFUND,
            charge_id=charge_id,
            amount=amount,
            idempotency_key=idempotency_key,
        )

    def transfer(
        self,
        *,
        destination: str,
        amount: Money,
        idempotency_key: str,
        transfer_group: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> GatewayResult:
        """Pay a vendor's connected account (a payout). Always succeeds in the sandbox."""
        _check_amount(amount)
        if not destination:
            raise InvalidInput(
                "A transfer needs a destination account.",
                errors=[{"loc": ["destination"], "msg": "required", "type": "missing"}],
            )
        with transaction.atomic():
            operation = self._claim(
                kind=SandboxOperationKind.TRANSFER,
                prefix="tr",
                charge=None,
                destination=destination,
                amount=amount,
                idempotency_key=idempotency_key,
            )
        return GatewayResult(operation.operation_id, "", GatewayStatus.TRANSFERRED, amount)

    def charge_totals(self, *, charge_ids: Sequence[str] | None = None) -> dict[str, ChargeTotals]:
        """The sandbox's own record of each charge (every charge when `charge_ids` is
        None), as Stripe's dashboard would show it."""
        charges = SandboxCharge.objects.all()
        if charge_ids is not None:
            charges = charges.filter(charge_id__in=list(charge_ids))
        return {
            charge.charge_id: ChargeTotals(
                charge.charge_id, charge.currency, charge.captured_amount, charge.refunded_amount
            )
            for charge in charges.only(
                "charge_id", "currency", "captured_amount", "refunded_amount"
            )
        }

    # --- internals ---------------------------------------------------------------------

    def _move(
        self, *, kind: SandboxOperationKind, charge_id: str, amount: Money, idempotency_key: str
    ) -> GatewayResult:
        _check_amount(amount)
        with transaction.atomic():
            charge = SandboxCharge.objects.filter(charge_id=charge_id).first()
            if charge is None:
                raise PaymentError(
                    f"No charge {charge_id!r}.",
                    code=PaymentErrorCode.CHARGE_NOT_FOUND,
                    status=HTTPStatus.NOT_FOUND,
                )
            if charge.currency != amount.currency:
                raise InvalidInput(
                    f"Charge {charge_id} is in {charge.currency}, not {amount.currency}.",
                    errors=[{"loc": ["amount", "currency"], "msg": "currency mismatch"}],
                )
            existing = SandboxOperation.objects.filter(idempotency_key=idempotency_key).first()
            if existing is None:
                existing = self._claim(
                    kind=kind,
                    prefix="ca" if kind == SandboxOperationKind.CAPTURE else "re",
                    charge=charge,
                    destination="",
                    amount=amount,
                    idempotency_key=idempotency_key,
                    apply=lambda: self._apply(kind, charge, amount),
                )
            elif (existing.kind, existing.charge_id, existing.amount) != (
                kind,
                charge.pk,
                amount.amount,
            ):
                raise key_reused(idempotency_key)
        captured = kind == SandboxOperationKind.CAPTURE
        status = GatewayStatus.CAPTURED if captured else GatewayStatus.REFUNDED
        return GatewayResult(existing.operation_id, charge.charge_id, status, amount)

    @staticmethod
    def _apply(kind: SandboxOperationKind, charge: SandboxCharge, amount: Money) -> None:
        # Conditional UPDATEs: two concurrent captures cannot both pass the limit.
        charges = SandboxCharge.objects.filter(pk=charge.pk)
        if kind == SandboxOperationKind.CAPTURE:
            moved = charges.filter(
                captured_amount__lte=F("authorized_amount") - amount.amount
            ).update(captured_amount=F("captured_amount") + amount.amount)
            if not moved:
                raise PaymentError(
                    f"Cannot capture {amount}: more than authorised and not yet captured.",
                    code=PaymentErrorCode.CAPTURE_EXCEEDS_AUTHORIZED,
                )
        else:
            moved = charges.filter(
                refunded_amount__lte=F("captured_amount") - amount.amount
            ).update(refunded_amount=F("refunded_amount") + amount.amount)
            if not moved:
                raise PaymentError(
                    f"Cannot refund {amount}: more than captured and not yet refunded.",
                    code=PaymentErrorCode.REFUND_EXCEEDS_CAPTURED,
                )

    @staticmethod
    def _claim(
        *,
        kind: SandboxOperationKind,
        prefix: str,
        charge: SandboxCharge | None,
        destination: str,
        amount: Money,
        idempotency_key: str,
        apply: Callable[[], None] | None = None,
    ) -> SandboxOperation:
        """Record the operation under its key, then apply it; a concurrent retry that lost
        the race on the key's unique index gets the winner's operation instead."""
        try:
            with transaction.atomic():
                operation = SandboxOperation.objects.create(
                    idempotency_key=idempotency_key,
                    operation_id=sandbox_id(prefix, idempotency_key),
                    kind=kind,
                    charge=charge,
                    destination=destination,
                    amount=amount.amount,
                    currency=amount.currency,
                )
                if apply is not None:
                    apply()
        except IntegrityError:
            operation = SandboxOperation.objects.get(idempotency_key=idempotency_key)
        if (operation.kind, operation.charge_id, operation.destination, operation.amount) != (
            kind,
            charge.pk if charge is not None else None,
            destination,
            amount.amount,
        ):
            raise key_reused(idempotency_key)
        return operation


def get_gateway() -> PaymentGateway:
    """The gateway named by `settings.AGORA_PAYMENT_GATEWAY` ("sandbox" by default, or
    "stripe": the Stripe Connect adapter, which needs AGORA_STRIPE_SECRET_KEY)."""
    name = settings.AGORA_PAYMENT_GATEWAY
    if name == "sandbox":
        return SandboxGateway()
    if name == "stripe":
        from agora.payments.stripe_gateway import stripe_gateway

        return stripe_gateway()
    raise ImproperlyConfigured(
        f"Unknown AGORA_PAYMENT_GATEWAY {name!r}; use 'sandbox' (default) or 'stripe'."
    )
