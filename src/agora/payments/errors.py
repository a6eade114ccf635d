"""Payments' errors: refusals a client can act on (`PaymentError`, problem+json) and
ledger integrity failures that are bugs (`LedgerError`, never caught, a loud 500).
"""

from __future__ import annotations

from enum import StrEnum
from http import HTTPStatus
from typing import Any

from agora.core.errors import DomainError


class PaymentErrorCode(StrEnum):
    CARD_DECLINED = "card_declined"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    REFUND_EXCEEDS_CAPTURED = "refund_exceeds_captured"
    CAPTURE_EXCEEDS_AUTHORIZED = "capture_exceeds_authorized"
    DISPUTE_EXCEEDS_CAPTURED = "dispute_exceeds_captured"
    DISPUTE_EXCEEDS_HOLD = "dispute_exceeds_hold"
    INSUFFICIENT_BALANCE = "insufficient_balance"
    ALREADY_REVERSED = "already_reversed"
    NOT_REVERSIBLE = "not_reversible"
    REFERENCE_VENDOR_MISMATCH = "reference_vendor_mismatch"
    CHARGE_NOT_FOUND = "charge_not_found"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    CURRENCY_MISMATCH = "currency_mismatch"
    ALREADY_PAID = "already_paid"
    INVALID_RULE = "invalid_rule"
    AUTHENTICATION_REQUIRED = "authentication_required"
    GATEWAY_ERROR = "gateway_error"
    INVALID_SIGNATURE = "invalid_signature"


class PaymentError(DomainError):
    """A money movement refused for a reason the caller can act on (409 unless stated)."""

    status = HTTPStatus.CONFLICT

    def __init__(
        self,
        detail: str,
        *,
        code: PaymentErrorCode,
        status: int | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail, code=code, status=status, extra=extra)


class CardDeclined(PaymentError):
    status = HTTPStatus.PAYMENT_REQUIRED

    def __init__(self, detail: str = "The card was declined.") -> None:
        super().__init__(detail, code=PaymentErrorCode.CARD_DECLINED)


class InsufficientFunds(PaymentError):
    status = HTTPStatus.PAYMENT_REQUIRED

    def __init__(self, detail: str = "The card has insufficient funds.") -> None:
        super().__init__(detail, code=PaymentErrorCode.INSUFFICIENT_FUNDS)


def key_reused(key: str) -> PaymentError:
    # Same wording and status as the HTTP layer's Idempotency-Key reuse (API.md).
    return PaymentError(
        f"Idempotency key {key!r} was already used for a different movement.",
        code=PaymentErrorCode.IDEMPOTENCY_KEY_REUSED,
        status=HTTPStatus.UNPROCESSABLE_ENTITY,
    )


class LedgerError(Exception):
    """The ledger's own rules were broken by code: a bug, never a client's mistake."""


class UnbalancedTransaction(LedgerError):
    pass


class ImmutableLedgerError(LedgerError):
    pass


class LedgerGuardError(LedgerError):
    """Money state changed without a ledger posting in the same transaction (or outside
    `money_change()` altogether)."""
