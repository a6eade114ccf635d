"""The Stripe Connect adapter: `PaymentGateway` on the official `stripe` SDK.

Agora follows Stripe Connect's *separate charges and transfers*: the customer's card is
charged once on the platform account (a PaymentIntent with `transfer_group`, authorised
with `capture_method=manual` and captured when the sale is recorded), the ledger keeps
each vendor's share in escrow, and a payout is a Transfer to the vendor's connected
account. Refunds go back through the PaymentIntent; where the charge's money was already
transferred with it (a destination charge), the transfer is reversed in proportion
(`reverse_transfer`). Webhooks are trusted only after `stripe.Webhook.construct_event`
has verified their `Stripe-Signature`.

Card data never reaches Agora: `payment_method` is a token (`pm_...`) that Stripe.js or a
mobile SDK created in the customer's browser. Anything that does not look like a token is
refused before a request is made, so a card number typed into the wrong field is neither
sent nor stored.

Configuration (environment; settings.py may set the same names):
    AGORA_PAYMENT_GATEWAY=stripe
    AGORA_STRIPE_SECRET_KEY=sk_live_...        the platform's secret key
    AGORA_STRIPE_WEBHOOK_SECRET=whsec_...      the webhook endpoint's signing secret

Tests replace only the HTTP layer: `stripe.default_http_client` (an `HTTPClient`) is
passed to the `StripeClient` when set.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable, Mapping, Sequence
from http import HTTPStatus
from typing import Any, TypeVar

import stripe
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from agora.core.errors import InvalidInput, NotFound
from agora.core.money import CURRENCY_EXPONENTS, Money
from agora.payments.errors import (
    CardDeclined,
    InsufficientFunds,
    PaymentError,
    PaymentErrorCode,
    key_reused,
)
from agora.payments.gateway import ChargeTotals, GatewayResult, GatewayStatus

SECRET_KEY_SETTING = "AGORA_STRIPE_SECRET_KEY"
WEBHOOK_SECRET_SETTING = "AGORA_STRIPE_WEBHOOK_SECRET"
# Retries of network failures and 409/5xx answers, each with the same Idempotency-Key.
MAX_NETWORK_RETRIES = 2

# Stripe's token prefixes: PaymentMethods, legacy tokens, sources and saved cards.
_TOKEN = re.compile(r"^(pm|tok|src|card)_[A-Za-z0-9_]{1,200}$")
_CONNECTED_ACCOUNT = re.compile(r"^acct_[A-Za-z0-9]{1,100}$")

T = TypeVar("T")


def configured(name: str) -> str:
    """A Stripe setting from Django settings, else from the environment ("" when unset)."""
    value = getattr(settings, name, None) or os.environ.get(name, "")
    return str(value).strip()


def stripe_gateway() -> StripeGateway:
    """The adapter for `AGORA_PAYMENT_GATEWAY=stripe`; refuses to start without a key."""
    api_key = configured(SECRET_KEY_SETTING)
    if not api_key:
        raise ImproperlyConfigured(
            f"AGORA_PAYMENT_GATEWAY=stripe needs {SECRET_KEY_SETTING} (the platform's secret "
            "key, sk_live_... or sk_test_...) in the environment."
        )
    return StripeGateway(client=_client(api_key, stripe.default_http_client))


@functools.lru_cache(maxsize=4)
def _client(api_key: str, http_client: object) -> stripe.StripeClient:
    """One client per key (and HTTP layer), so its HTTP connections are reused."""
    return stripe.StripeClient(
        api_key,
        max_network_retries=MAX_NETWORK_RETRIES,
        http_client=http_client,  # type: ignore[arg-type]
    )


def _stripe_currency(amount: Money) -> str:
    return amount.currency.lower()


def _check_amount(amount: Money) -> None:
    if amount.amount <= 0:
        raise InvalidInput(
            "The amount must be positive.",
            errors=[{"loc": ["body", "amount"], "msg": "must be positive", "type": "value_error"}],
        )


def _check_token(payment_method: str) -> None:
    if not _TOKEN.match(payment_method):
        # Never echo the value: it might be a card number.
        raise InvalidInput(
            "payment_method must be a Stripe payment method token (pm_...), never card data.",
            errors=[
                {
                    "loc": ["body", "payment_method"],
                    "msg": "not a payment method token",
                    "type": "unknown_payment_method",
                }
            ],
        )


def _error_body(error: stripe.StripeError) -> dict[str, Any]:
    body = error.json_body if isinstance(error.json_body, dict) else {}
    inner = body.get("error")
    return inner if isinstance(inner, dict) else {}


def _translate(error: stripe.StripeError, idempotency_key: str, *, refund: bool) -> Exception:
    """Stripe's refusals as Agora's domain errors (problem+json with a stable code);
    `refund` says the request was a refund (whose "amount too large" is ours to name)."""
    details = _error_body(error)
    code = details.get("code") or error.code or ""
    if isinstance(error, stripe.CardError):
        if details.get("decline_code") == "insufficient_funds" or code == "insufficient_funds":
            return InsufficientFunds()
        if code == "authentication_required":
            return PaymentError(
                "The card needs the customer's authentication (3-D Secure).",
                code=PaymentErrorCode.AUTHENTICATION_REQUIRED,
                status=HTTPStatus.PAYMENT_REQUIRED,
            )
        return CardDeclined()
    if isinstance(error, stripe.IdempotencyError):
        return key_reused(idempotency_key)
    if isinstance(error, stripe.InvalidRequestError):
        if code == "resource_missing":
            return NotFound("The payment provider does not know this charge or account.")
        if refund and code in {"charge_already_refunded", "amount_too_large"}:
            return PaymentError(
                "The payment provider refused: more than captured and not yet refunded.",
                code=PaymentErrorCode.REFUND_EXCEEDS_CAPTURED,
            )
    return PaymentError(
        "The payment provider could not complete the request; nothing was charged twice "
        "and it can be retried with the same Idempotency-Key.",
        code=PaymentErrorCode.GATEWAY_ERROR,
        status=HTTPStatus.BAD_GATEWAY,
        extra={"gateway_code": code, "request_id": getattr(error, "request_id", None)},
    )


class StripeGateway:
    """`PaymentGateway` on Stripe Connect; every POST carries the caller's idempotency key,
    so a retry after a timeout replays Stripe's first answer instead of moving money
    again."""

    name = "stripe"
    # Stripe lists charges only page by page over the whole account: callers name them.
    lists_all_charges = False

    def __init__(self, *, client: stripe.StripeClient) -> None:
        self.client = client

    def _call(self, idempotency_key: str, request: Callable[[], T], *, refund: bool = False) -> T:
        try:
            return request()
        except stripe.StripeError as error:
            raise _translate(error, idempotency_key, refund=refund) from error

    def authorize(
        self,
        *,
        amount: Money,
        payment_method: str,
        idempotency_key: str,
        metadata: Mapping[str, str] | None = None,
        transfer_group: str | None = None,
    ) -> GatewayResult:
        """A PaymentIntent confirmed at once and held for capture (capture_method=manual)."""
        _check_amount(amount)
        _check_token(payment_method)
        params: dict[str, Any] = {
            "amount": amount.amount,
            "currency": _stripe_currency(amount),
            "payment_method": payment_method,
            "payment_method_types": ["card"],
            "capture_method": "manual",
            "confirm": True,
            "metadata": dict(metadata or {}),
        }
        if transfer_group:
            params["transfer_group"] = transfer_group
        intent = self._call(
            idempotency_key,
            lambda: self.client.v1.payment_intents.create(
                params,  # type: ignore[arg-type]
                {"idempotency_key": idempotency_key},
            ),
        )
        if intent.status == "requires_capture":
            return GatewayResult(intent.id, intent.id, GatewayStatus.AUTHORIZED, amount)
        if intent.status == "requires_action":
            raise PaymentError(
                "The card needs the customer's authentication (3-D Secure).",
                code=PaymentErrorCode.AUTHENTICATION_REQUIRED,
                status=HTTPStatus.PAYMENT_REQUIRED,
            )
        raise CardDeclined()

    def capture(self, *, charge_id: str, amount: Money, idempotency_key: str) -> GatewayResult:
        _check_amount(amount)
        intent = self._call(
            idempotency_key,
            lambda: self.client.v1.payment_intents.capture(
                charge_id,
                {"amount_to_capture": amount.amount},
                {"idempotency_key": idempotency_key},
            ),
        )
        if intent.status != "succeeded" or intent.currency != _stripe_currency(amount):
            raise PaymentError(
                f"The payment provider did not capture {amount} (status {intent.status}).",
                code=PaymentErrorCode.GATEWAY_ERROR,
                status=HTTPStatus.BAD_GATEWAY,
            )
        return GatewayResult(
            str(intent.latest_charge or intent.id), intent.id, GatewayStatus.CAPTURED, amount
        )

    def refund(self, *, charge_id: str, amount: Money, idempotency_key: str) -> GatewayResult:
        """Refund part or all of a captured PaymentIntent. When its charge was transferred
        on (a destination charge), the transfer is reversed in proportion, so the
        connected account gives its share back; Agora's own payouts are transfers of
        released earnings, and a refund after one is recovered in the ledger instead."""
        _check_amount(amount)
        intent = self._call(
            idempotency_key,
            lambda: self.client.v1.payment_intents.retrieve(
                charge_id, {"expand": ["latest_charge"]}
            ),
        )
        params: dict[str, Any] = {
            "payment_intent": charge_id,
            "amount": amount.amount,
            "metadata": {"agora_idempotency_key": idempotency_key[:500]},
        }
        latest_charge = intent.latest_charge
        if latest_charge is not None and getattr(latest_charge, "transfer", None):
            params["reverse_transfer"] = True
        refund = self._call(
            idempotency_key,
            lambda: self.client.v1.refunds.create(
                params,  # type: ignore[arg-type]
                {"idempotency_key": idempotency_key},
            ),
            refund=True,
        )
        if refund.status in {"failed", "canceled"}:
            raise PaymentError(
                f"The payment provider refused the refund ({refund.status}).",
                code=PaymentErrorCode.GATEWAY_ERROR,
                status=HTTPStatus.BAD_GATEWAY,
            )
        return GatewayResult(refund.id, charge_id, GatewayStatus.REFUNDED, amount)

    def transfer(
        self,
        *,
        destination: str,
        amount: Money,
        idempotency_key: str,
        transfer_group: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> GatewayResult:
        """Move `amount` from the platform's balance to a vendor's connected account."""
        _check_amount(amount)
        if not _CONNECTED_ACCOUNT.match(destination):
            raise PaymentError(
                "The vendor has no Stripe connected account (acct_...) to pay out to.",
                code=PaymentErrorCode.GATEWAY_ERROR,
                status=HTTPStatus.UNPROCESSABLE_ENTITY,
            )
        params: dict[str, Any] = {
            "amount": amount.amount,
            "currency": _stripe_currency(amount),
            "destination": destination,
            "metadata": dict(metadata or {}),
        }
        if transfer_group:
            params["transfer_group"] = transfer_group
        transfer = self._call(
            idempotency_key,
            lambda: self.client.v1.transfers.create(
                params,  # type: ignore[arg-type]
                {"idempotency_key": idempotency_key},
            ),
        )
        return GatewayResult(transfer.id, "", GatewayStatus.TRANSFERRED, amount)

    def charge_totals(self, *, charge_ids: Sequence[str] | None = None) -> dict[str, ChargeTotals]:
        """Captured and refunded per PaymentIntent, as Stripe reports them (one request
        each). Stripe is never asked for "everything": None names no charge."""
        totals = {}
        for charge_id in charge_ids or ():
            intent = self._call(
                charge_id,
                lambda charge_id=charge_id: self.client.v1.payment_intents.retrieve(  # type: ignore[misc]
                    charge_id, {"expand": ["latest_charge"]}
                ),
            )
            latest_charge = intent.latest_charge
            refunded = int(getattr(latest_charge, "amount_refunded", 0) or 0)
            totals[charge_id] = ChargeTotals(
                charge_id, intent.currency.upper(), int(intent.amount_received or 0), refunded
            )
        return totals


# --- webhooks ---------------------------------------------------------------------------------


def verified_event(*, payload: bytes, signature: str | None) -> stripe.Event:
    """The webhook's event, once its Stripe-Signature checks out against the endpoint's
    secret (and is at most five minutes old): otherwise 400 `invalid_signature`.

    Without a configured secret the endpoint does not exist (404): an unverifiable event
    is never acted on."""
    secret = configured(WEBHOOK_SECRET_SETTING)
    if not secret:
        raise NotFound("Stripe webhooks are not configured here.")
    try:
        return stripe.Webhook.construct_event(payload, signature, secret)
    except (stripe.SignatureVerificationError, ValueError, UnicodeDecodeError) as error:
        raise PaymentError(
            "The Stripe-Signature header does not match this payload.",
            code=PaymentErrorCode.INVALID_SIGNATURE,
            status=HTTPStatus.BAD_REQUEST,
        ) from error


def event_money(amount: object, currency: object) -> Money | None:
    """A Stripe amount and lowercase currency as Money; None for what Agora cannot hold."""
    code = str(currency or "").upper()
    if not isinstance(amount, int) or code not in CURRENCY_EXPONENTS:
        return None
    return Money(amount, code)
