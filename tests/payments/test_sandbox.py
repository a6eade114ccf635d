"""The sandbox gateway: Stripe's test payment methods, deterministic ids, limits."""

from __future__ import annotations

import hashlib
import json

import pytest
from django.core.exceptions import ImproperlyConfigured

from agora.core.errors import DomainError, InvalidInput, problem_from_error
from agora.core.money import Money
from agora.payments import flows
from agora.payments.errors import (
    CardDeclined,
    InsufficientFunds,
    PaymentError,
    PaymentErrorCode,
)
from agora.payments.gateway import (
    GatewayStatus,
    PaymentGateway,
    SandboxGateway,
    get_gateway,
)
from agora.payments.guard import money_change
from agora.payments.models import JournalEntry, JournalTransaction, SandboxCharge
from tests.payments.conftest import VENDOR, gbp

pytestmark = pytest.mark.django_db


@pytest.fixture
def gateway() -> SandboxGateway:
    return SandboxGateway()


@pytest.mark.parametrize("method", ["pm_card_visa", "pm_card_mastercard"])
def test_the_test_cards_that_succeed_authorize(gateway: SandboxGateway, method: str) -> None:
    result = gateway.authorize(
        amount=gbp(45_99), payment_method=method, idempotency_key="k1", metadata={"ref": "b:1"}
    )

    expected_id = "ch_sandbox_" + hashlib.sha256(b"k1").hexdigest()[:24]
    assert (result.id, result.charge_id) == (expected_id, expected_id)
    assert result.status == GatewayStatus.AUTHORIZED
    assert result.amount == gbp(45_99)
    charge = SandboxCharge.objects.get()
    assert (charge.authorized_amount, charge.captured_amount, charge.refunded_amount) == (
        45_99,
        0,
        0,
    )
    assert (charge.payment_method, charge.metadata) == (method, {"ref": "b:1"})


@pytest.mark.parametrize(
    ("method", "error", "code"),
    [
        ("pm_card_chargeDeclined", CardDeclined, "card_declined"),
        ("pm_card_chargeDeclinedInsufficientFunds", InsufficientFunds, "insufficient_funds"),
    ],
)
def test_the_declining_test_cards_are_402_with_their_code_every_time(
    gateway: SandboxGateway, method: str, error: type[PaymentError], code: str
) -> None:
    for _attempt in range(2):  # deterministic: a retry is declined again
        with pytest.raises(error) as caught:
            gateway.authorize(amount=gbp(10_00), payment_method=method, idempotency_key="k1")
        assert (caught.value.status, caught.value.code) == (402, code)

    body = json.loads(problem_from_error(caught.value).content)
    assert (body["status"], body["code"]) == (402, code)
    assert not SandboxCharge.objects.exists()


def test_an_unknown_payment_method_is_422_validation_error(gateway: SandboxGateway) -> None:
    with pytest.raises(InvalidInput) as caught:
        gateway.authorize(amount=gbp(10_00), payment_method="pm_card_amex", idempotency_key="k")

    assert (caught.value.status, caught.value.code) == (422, "validation_error")
    assert caught.value.extra["errors"][0]["loc"] == ["body", "payment_method"]
    assert not SandboxCharge.objects.exists()


def pay(gateway: SandboxGateway, payment_method: str) -> None:
    """What a booking's pay service will do: authorise, capture, record — all or nothing."""
    with money_change():
        charge = gateway.authorize(
            amount=gbp(100_00), payment_method=payment_method, idempotency_key="pay:1"
        )
        gateway.capture(charge_id=charge.charge_id, amount=gbp(100_00), idempotency_key="cap:1")
        flows.post_capture(
            reference="booking:1",
            vendor_id=VENDOR,
            gross=gbp(100_00),
            commission=gbp(3_00),
            processing_fee=gbp(2_90),
            idempotency_key="pay:1",
        )


@pytest.mark.parametrize(
    "method", ["pm_card_chargeDeclined", "pm_card_chargeDeclinedInsufficientFunds"]
)
def test_a_decline_leaves_no_ledger_entries(gateway: SandboxGateway, method: str) -> None:
    with pytest.raises(PaymentError) as caught:
        pay(gateway, method)

    assert caught.value.status == 402
    assert not JournalTransaction.objects.exists()
    assert not JournalEntry.objects.exists()
    assert not SandboxCharge.objects.exists()


def test_an_accepted_card_is_captured_and_recorded(gateway: SandboxGateway) -> None:
    pay(gateway, "pm_card_visa")

    assert SandboxCharge.objects.get().captured_amount == 100_00
    assert JournalTransaction.objects.get().kind == "capture"


def test_retrying_authorize_with_the_same_key_returns_the_same_charge(
    gateway: SandboxGateway,
) -> None:
    first = gateway.authorize(amount=gbp(10_00), payment_method="pm_card_visa", idempotency_key="k")
    again = gateway.authorize(amount=gbp(10_00), payment_method="pm_card_visa", idempotency_key="k")
    other = gateway.authorize(amount=gbp(10_00), payment_method="pm_card_visa", idempotency_key="j")

    assert again == first
    assert other.charge_id != first.charge_id
    assert SandboxCharge.objects.count() == 2
    with pytest.raises(PaymentError) as caught:  # the same key for a different charge
        gateway.authorize(amount=gbp(99), payment_method="pm_card_visa", idempotency_key="k")
    assert (caught.value.status, caught.value.code) == (422, "idempotency_key_reused")


def test_captures_never_exceed_the_authorised_amount(gateway: SandboxGateway) -> None:
    charge = gateway.authorize(
        amount=gbp(100_00), payment_method="pm_card_visa", idempotency_key="a"
    )

    with pytest.raises(PaymentError) as caught:
        gateway.capture(charge_id=charge.charge_id, amount=gbp(100_01), idempotency_key="c0")
    assert (caught.value.status, caught.value.code) == (409, "capture_exceeds_authorized")

    first = gateway.capture(charge_id=charge.charge_id, amount=gbp(60_00), idempotency_key="c1")
    retried = gateway.capture(charge_id=charge.charge_id, amount=gbp(60_00), idempotency_key="c1")
    assert retried == first
    assert first.status == GatewayStatus.CAPTURED
    assert first.id == "ca_sandbox_" + hashlib.sha256(b"c1").hexdigest()[:24]
    with pytest.raises(PaymentError):
        gateway.capture(charge_id=charge.charge_id, amount=gbp(40_01), idempotency_key="c2")
    gateway.capture(charge_id=charge.charge_id, amount=gbp(40_00), idempotency_key="c3")

    assert SandboxCharge.objects.get().captured_amount == 100_00


def test_refunds_never_exceed_the_captured_amount(gateway: SandboxGateway) -> None:
    charge = gateway.authorize(
        amount=gbp(100_00), payment_method="pm_card_visa", idempotency_key="a"
    )
    with pytest.raises(PaymentError) as caught:  # nothing captured yet
        gateway.refund(charge_id=charge.charge_id, amount=gbp(1), idempotency_key="r0")
    assert caught.value.code == "refund_exceeds_captured"
    gateway.capture(charge_id=charge.charge_id, amount=gbp(80_00), idempotency_key="c1")

    first = gateway.refund(charge_id=charge.charge_id, amount=gbp(50_00), idempotency_key="r1")
    assert gateway.refund(charge_id=charge.charge_id, amount=gbp(50_00), idempotency_key="r1") == (
        first
    )
    assert first.status == GatewayStatus.REFUNDED
    with pytest.raises(PaymentError):
        gateway.refund(charge_id=charge.charge_id, amount=gbp(30_01), idempotency_key="r2")
    gateway.refund(charge_id=charge.charge_id, amount=gbp(30_00), idempotency_key="r3")

    stored = SandboxCharge.objects.get()
    assert (stored.captured_amount, stored.refunded_amount) == (80_00, 80_00)


def test_unknown_charges_and_wrong_currencies_are_refused(gateway: SandboxGateway) -> None:
    charge = gateway.authorize(
        amount=gbp(10_00), payment_method="pm_card_visa", idempotency_key="a"
    )

    with pytest.raises(PaymentError) as caught:
        gateway.capture(charge_id="ch_nope", amount=gbp(1), idempotency_key="c1")
    assert (caught.value.status, caught.value.code) == (404, "charge_not_found")
    with pytest.raises(InvalidInput):
        gateway.capture(charge_id=charge.charge_id, amount=Money(1, "AUD"), idempotency_key="c2")
    with pytest.raises(InvalidInput):
        gateway.authorize(amount=gbp(0), payment_method="pm_card_visa", idempotency_key="z")


def test_transfers_pay_a_destination_once_per_key(gateway: SandboxGateway) -> None:
    first = gateway.transfer(destination="acct_vendor_7", amount=gbp(94_10), idempotency_key="t1")
    again = gateway.transfer(destination="acct_vendor_7", amount=gbp(94_10), idempotency_key="t1")

    assert again == first
    assert first.status == GatewayStatus.TRANSFERRED
    assert first.id.startswith("tr_sandbox_")
    with pytest.raises(PaymentError):
        gateway.transfer(destination="acct_other", amount=gbp(94_10), idempotency_key="t1")


def test_get_gateway_follows_the_setting(settings: object, monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(get_gateway(), SandboxGateway)
    assert isinstance(get_gateway(), PaymentGateway)

    # stripe without its secret key: a clear configuration error, not a late 500
    monkeypatch.delenv("AGORA_STRIPE_SECRET_KEY", raising=False)
    settings.AGORA_PAYMENT_GATEWAY = "stripe"  # type: ignore[attr-defined]
    with pytest.raises(ImproperlyConfigured, match="needs AGORA_STRIPE_SECRET_KEY"):
        get_gateway()
    settings.AGORA_PAYMENT_GATEWAY = "paypal"  # type: ignore[attr-defined]
    with pytest.raises(ImproperlyConfigured, match="Unknown AGORA_PAYMENT_GATEWAY"):
        get_gateway()


def test_payment_errors_are_domain_errors_rendered_as_problem_json() -> None:
    error = PaymentError("x", code=PaymentErrorCode.REFUND_EXCEEDS_CAPTURED)
    assert isinstance(error, DomainError)
    body = json.loads(problem_from_error(error).content)
    assert (body["status"], body["code"]) == (409, "refund_exceeds_captured")
