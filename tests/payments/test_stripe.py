"""The Stripe Connect adapter against recorded HTTP: the official SDK runs for real and
only its HTTP client answers from fixtures, so these tests see the exact requests Agora
makes (method, path, form parameters, Idempotency-Key) — and webhooks signed for real
with the endpoint's secret."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import pytest
import stripe
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from agora.core.errors import InvalidInput, NotFound
from agora.core.money import Money
from agora.payments import ledger, services
from agora.payments.commission import SaleContext
from agora.payments.errors import CardDeclined, InsufficientFunds, PaymentError
from agora.payments.gateway import GatewayStatus, PaymentGateway, get_gateway
from agora.payments.models import Dispute, Payment, Payout, PayoutSettings
from agora.payments.selectors import reconciliation, vendor_balance
from agora.payments.stripe_gateway import StripeGateway
from tests.conftest import ApiClient, assert_problem
from tests.factories import VendorFactory
from tests.payments.market import CATEGORY, money_rows
from tests.payments.stripe_http import RecordedStripe, fixture

pytestmark = pytest.mark.django_db

SECRET_KEY = "sk_test_AgoraPlatform"
WEBHOOK_SECRET = "whsec_AgoraEndpointSecret"
PI = "pi_3QAgoraTestIntent0001"
CARD = "pm_1QAgoraTestCard0001"
VENDOR = 7


@pytest.fixture(autouse=True)
def _the_vendor(db: Any) -> None:
    """The vendor whose sales these tests record. Payments takes a plain vendor id, but
    the events it announces (dispute.opened, payout.failed) name the vendor's row."""
    VendorFactory(pk=VENDOR)


@pytest.fixture
def http(monkeypatch: pytest.MonkeyPatch, settings: Any) -> RecordedStripe:
    """Stripe configured, with the SDK's HTTP layer answering from fixtures."""
    recorded = RecordedStripe()
    monkeypatch.setattr(stripe, "default_http_client", recorded)
    settings.AGORA_PAYMENT_GATEWAY = "stripe"
    settings.AGORA_STRIPE_SECRET_KEY = SECRET_KEY
    settings.AGORA_STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    return recorded


@pytest.fixture
def gateway(http: RecordedStripe) -> PaymentGateway:
    return get_gateway()


def gbp(amount: int) -> Money:
    return Money(amount, "GBP")


# --- configuration --------------------------------------------------------------------------


def test_get_gateway_returns_the_stripe_adapter_when_configured(gateway: PaymentGateway) -> None:
    assert isinstance(gateway, StripeGateway)
    assert isinstance(gateway, PaymentGateway)
    assert gateway.name == "stripe"


def test_stripe_without_a_secret_key_is_a_clear_configuration_error(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.AGORA_PAYMENT_GATEWAY = "stripe"
    monkeypatch.delenv("AGORA_STRIPE_SECRET_KEY", raising=False)
    with pytest.raises(ImproperlyConfigured, match="AGORA_STRIPE_SECRET_KEY"):
        get_gateway()
    # the environment is enough, without settings.py naming it
    monkeypatch.setenv("AGORA_STRIPE_SECRET_KEY", SECRET_KEY)
    assert isinstance(get_gateway(), StripeGateway)


# --- authorize and capture ------------------------------------------------------------------


def test_authorize_creates_a_manual_capture_payment_intent_with_the_transfer_group(
    gateway: PaymentGateway, http: RecordedStripe
) -> None:
    http.expect("POST", "/v1/payment_intents", fixture("payment_intent_requires_capture"))

    result = gateway.authorize(
        amount=gbp(45_99),
        payment_method=CARD,
        idempotency_key="booking:1:pay:k1:authorize",
        metadata={"charge_group": "booking:1"},
        transfer_group="booking:1",
    )

    assert (result.id, result.charge_id, result.status) == (PI, PI, GatewayStatus.AUTHORIZED)
    assert result.amount == gbp(45_99)
    [sent] = http.sent
    assert sent.params == {
        "amount": "4599",
        "currency": "gbp",
        "payment_method": CARD,
        "payment_method_types[0]": "card",
        "capture_method": "manual",
        "confirm": "true",
        "metadata[charge_group]": "booking:1",
        "transfer_group": "booking:1",
    }
    assert sent.headers["Idempotency-Key"] == "booking:1:pay:k1:authorize"
    assert sent.headers["Authorization"] == f"Bearer {SECRET_KEY}"


def test_capture_captures_the_amount_under_its_own_key(
    gateway: PaymentGateway, http: RecordedStripe
) -> None:
    http.expect("POST", f"/v1/payment_intents/{PI}/capture", fixture("payment_intent_captured"))

    result = gateway.capture(charge_id=PI, amount=gbp(45_99), idempotency_key="k1:capture")

    assert (result.charge_id, result.status) == (PI, GatewayStatus.CAPTURED)
    assert result.id == "ch_3QAgoraTestIntent0001"
    [sent] = http.sent
    assert (sent.params, sent.headers["Idempotency-Key"]) == (
        {"amount_to_capture": "4599"},
        "k1:capture",
    )


@pytest.mark.parametrize(
    ("recorded", "error", "code"),
    [
        ("error_card_declined", CardDeclined, "card_declined"),
        ("error_insufficient_funds", InsufficientFunds, "insufficient_funds"),
    ],
)
def test_declines_become_402_with_their_code(
    gateway: PaymentGateway, http: RecordedStripe, recorded: str, error: type, code: str
) -> None:
    http.expect("POST", "/v1/payment_intents", fixture(recorded), status=402)

    with pytest.raises(error) as caught:
        gateway.authorize(amount=gbp(45_99), payment_method=CARD, idempotency_key="k1")

    assert (caught.value.status, caught.value.code) == (402, code)
    assert len(http.sent) == 1  # a decline is an answer: never retried


def test_a_card_that_needs_3d_secure_is_402_authentication_required(
    gateway: PaymentGateway, http: RecordedStripe
) -> None:
    http.expect("POST", "/v1/payment_intents", fixture("payment_intent_requires_action"))

    with pytest.raises(PaymentError) as caught:
        gateway.authorize(amount=gbp(45_99), payment_method=CARD, idempotency_key="k1")

    assert (caught.value.status, caught.value.code) == (402, "authentication_required")


@pytest.mark.parametrize("card_data", ["4242424242424242", "4242 4242 4242 4242", "pm card", ""])
def test_card_data_is_refused_before_any_request(
    gateway: PaymentGateway, http: RecordedStripe, card_data: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        gateway.authorize(amount=gbp(45_99), payment_method=card_data, idempotency_key="k1")

    assert http.sent == []
    assert card_data not in caught.value.detail or not card_data


def test_server_errors_are_retried_with_the_same_key_then_502(
    gateway: PaymentGateway, http: RecordedStripe
) -> None:
    for _ in range(3):  # the first try and two retries
        http.expect("POST", "/v1/payment_intents", fixture("error_api"), status=500)

    with pytest.raises(PaymentError) as caught:
        gateway.authorize(amount=gbp(45_99), payment_method=CARD, idempotency_key="k1")

    assert (caught.value.status, caught.value.code) == (502, "gateway_error")
    assert [sent.headers["Idempotency-Key"] for sent in http.sent] == ["k1", "k1", "k1"]


def test_a_key_reused_with_other_parameters_is_422(
    gateway: PaymentGateway, http: RecordedStripe
) -> None:
    http.expect("POST", "/v1/payment_intents", fixture("error_idempotency"), status=400)

    with pytest.raises(PaymentError) as caught:
        gateway.authorize(amount=gbp(45_99), payment_method=CARD, idempotency_key="k1")

    assert (caught.value.status, caught.value.code) == (422, "idempotency_key_reused")


# --- refunds and transfers ------------------------------------------------------------------


def test_a_refund_of_a_platform_charge_reverses_no_transfer(
    gateway: PaymentGateway, http: RecordedStripe
) -> None:
    http.expect("GET", f"/v1/payment_intents/{PI}", fixture("payment_intent_with_charge"))
    http.expect("POST", "/v1/refunds", fixture("refund"))

    result = gateway.refund(charge_id=PI, amount=gbp(15_00), idempotency_key="operator:1:r1")

    assert (result.id, result.charge_id, result.status) == (
        "re_3QAgoraTestRefund0001",
        PI,
        GatewayStatus.REFUNDED,
    )
    lookup, create = http.sent
    assert lookup.params == {"expand[0]": "latest_charge"}
    assert create.params == {
        "payment_intent": PI,
        "amount": "1500",
        "metadata[agora_idempotency_key]": "operator:1:r1",
    }
    assert create.headers["Idempotency-Key"] == "operator:1:r1"


def test_a_refund_of_a_transferred_charge_reverses_the_transfer(
    gateway: PaymentGateway, http: RecordedStripe
) -> None:
    http.expect("GET", f"/v1/payment_intents/{PI}", fixture("payment_intent_destination_charge"))
    http.expect("POST", "/v1/refunds", fixture("refund"))

    gateway.refund(charge_id=PI, amount=gbp(15_00), idempotency_key="r1")

    assert http.sent[1].params["reverse_transfer"] == "true"


def test_a_refund_above_what_is_left_is_409(gateway: PaymentGateway, http: RecordedStripe) -> None:
    http.expect("GET", f"/v1/payment_intents/{PI}", fixture("payment_intent_with_charge"))
    http.expect("POST", "/v1/refunds", fixture("error_refund_too_large"), status=400)

    with pytest.raises(PaymentError) as caught:
        gateway.refund(charge_id=PI, amount=gbp(46_00), idempotency_key="r1")

    assert (caught.value.status, caught.value.code) == (409, "refund_exceeds_captured")


def test_an_unknown_payment_intent_is_404(gateway: PaymentGateway, http: RecordedStripe) -> None:
    missing = {
        "error": {
            "type": "invalid_request_error",
            "code": "resource_missing",
            "param": "intent",
            "message": "No such payment_intent: 'pi_missing'",
        }
    }
    http.expect("GET", "/v1/payment_intents/pi_missing", missing, status=404)

    with pytest.raises(NotFound):
        gateway.refund(charge_id="pi_missing", amount=gbp(1_00), idempotency_key="r1")


def test_a_transfer_pays_the_connected_account_with_its_group(
    gateway: PaymentGateway, http: RecordedStripe
) -> None:
    http.expect("POST", "/v1/transfers", fixture("transfer"))

    result = gateway.transfer(
        destination="acct_1QAgoraVendor0001",
        amount=gbp(94_10),
        idempotency_key="payout:7:p1:transfer",
        transfer_group="payout:1",
        metadata={"agora_payout_id": "1"},
    )

    assert (result.id, result.status) == ("tr_1QAgoraPayout0001", GatewayStatus.TRANSFERRED)
    [sent] = http.sent
    assert sent.params == {
        "amount": "9410",
        "currency": "gbp",
        "destination": "acct_1QAgoraVendor0001",
        "transfer_group": "payout:1",
        "metadata[agora_payout_id]": "1",
    }
    assert sent.headers["Idempotency-Key"] == "payout:7:p1:transfer"


def test_a_transfer_to_something_else_than_a_connected_account_sends_nothing(
    gateway: PaymentGateway, http: RecordedStripe
) -> None:
    with pytest.raises(PaymentError):
        gateway.transfer(destination="vendor:7", amount=gbp(1_00), idempotency_key="t1")
    assert http.sent == []


# --- the services on Stripe -----------------------------------------------------------------


def stripe_sale(http: RecordedStripe, reference: str = "booking:1") -> Payment:
    http.expect("POST", "/v1/payment_intents", fixture("payment_intent_requires_capture"))
    http.expect("POST", f"/v1/payment_intents/{PI}/capture", fixture("payment_intent_captured"))
    with transaction.atomic():
        return services.payment_collect(
            reference=reference,
            amount=gbp(45_99),
            payment_method=CARD,
            sale=SaleContext(VENDOR, "standard", CATEGORY, None),
            idempotency_key=f"{reference}:pay:k1",
        )


def test_a_sale_through_stripe_is_recorded_with_the_payment_intent(http: RecordedStripe) -> None:
    payment = stripe_sale(http)

    assert (payment.gateway, payment.charge_id, payment.payment_method) == ("stripe", PI, CARD)
    create, capture = http.sent
    assert create.params["transfer_group"] == "booking:1"
    assert create.headers["Idempotency-Key"] == "booking:1:pay:k1:authorize"
    assert capture.headers["Idempotency-Key"] == "booking:1:pay:k1:capture"
    assert ledger.trial_balance() == {"GBP": 0}


def test_reconciliation_asks_stripe_about_each_charge(http: RecordedStripe) -> None:
    stripe_sale(http)
    http.expect("GET", f"/v1/payment_intents/{PI}", fixture("payment_intent_with_charge"))

    result = reconciliation(gateway=get_gateway())

    assert result.differences == []
    [row] = result.currencies
    assert (row.gateway.net, row.ledger.net, row.payments.net) == (45_99, 45_99, 45_99)


# --- webhooks -------------------------------------------------------------------------------


def signed(event: dict[str, Any], secret: str = WEBHOOK_SECRET) -> tuple[bytes, str]:
    """The body and the Stripe-Signature header Stripe would send (HMAC-SHA256 of
    "<timestamp>.<body>" with the endpoint's secret)."""
    body = json.dumps(event).encode()
    timestamp = int(time.time())
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return body, f"t={timestamp},v1={digest.hexdigest()}"


def deliver(
    event: dict[str, Any], *, secret: str = WEBHOOK_SECRET, header: str | None = None
) -> Any:
    body, signature = signed(event, secret)
    return ApiClient().post(
        "/payments/webhooks/stripe",
        body.decode(),
        raw=True,
        headers={"Stripe-Signature": header if header is not None else signature},
    )


@pytest.mark.parametrize(
    "how", ["wrong secret", "no header", "tampered body", "garbage header", "old timestamp"]
)
def test_a_webhook_that_fails_its_signature_is_400_and_changes_nothing(
    http: RecordedStripe, how: str
) -> None:
    stripe_sale(http)
    event = fixture("event_dispute_created")
    before = money_rows()

    if how == "wrong secret":
        response = deliver(event, secret="whsec_someone_else")
    elif how == "no header":
        response = deliver(event, header="")
    elif how == "garbage header":
        response = deliver(event, header="t=abc,v1=zz")
    elif how == "old timestamp":
        body = json.dumps(event).encode()
        old = int(time.time()) - 3600
        digest = hmac.new(WEBHOOK_SECRET.encode(), f"{old}.".encode() + body, hashlib.sha256)
        response = ApiClient().post(
            "/payments/webhooks/stripe",
            body.decode(),
            raw=True,
            headers={"Stripe-Signature": f"t={old},v1={digest.hexdigest()}"},
        )
    else:
        _, signature = signed(event)
        tampered = json.dumps({**event, "type": "payout.failed"})
        response = ApiClient().post(
            "/payments/webhooks/stripe",
            tampered,
            raw=True,
            headers={"Stripe-Signature": signature},
        )

    assert_problem(response, 400, "invalid_signature")
    assert money_rows() == before


def test_webhooks_are_404_until_a_signing_secret_is_configured(
    http: RecordedStripe, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.AGORA_STRIPE_WEBHOOK_SECRET = ""
    monkeypatch.delenv("AGORA_STRIPE_WEBHOOK_SECRET", raising=False)
    assert_problem(deliver(fixture("event_dispute_created")), 404, "not_found")


def test_a_dispute_created_event_opens_a_dispute_once(http: RecordedStripe) -> None:
    payment = stripe_sale(http)
    event = fixture("event_dispute_created")

    first = deliver(event)
    again = deliver(event)  # Stripe delivers at least once

    assert first.status_code == 200, first.content
    assert first.json() == {
        "received": True,
        "event_id": "evt_1QAgoraDisputeCreated",
        "type": "charge.dispute.created",
        "handled": True,
    }
    assert again.status_code == 200
    dispute = Dispute.objects.get()
    assert (dispute.payment_id, dispute.amount, dispute.reason, dispute.status) == (
        payment.pk,
        45_99,
        "fraudulent",
        "opened",
    )
    assert dispute.gateway_dispute_id == "dp_1QAgoraDispute0001"
    assert services.escrow_release(reference=payment.reference) is False


@pytest.mark.parametrize(("closed", "outcome"), [("won", "won"), ("lost", "lost")])
def test_a_dispute_closed_event_decides_it(http: RecordedStripe, closed: str, outcome: str) -> None:
    payment = stripe_sale(http)
    deliver(fixture("event_dispute_created"))

    response = deliver(fixture(f"event_dispute_closed_{closed}"))
    deliver(fixture(f"event_dispute_closed_{closed}"))  # again: nothing more

    assert response.json()["handled"] is True
    assert Dispute.objects.get().status == outcome
    assert services.escrow_release(reference=payment.reference) is True
    assert ledger.trial_balance() == {"GBP": 0}


def test_a_payout_failed_event_returns_the_money_to_available(
    http: RecordedStripe,
) -> None:
    payment = stripe_sale(http)
    services.escrow_release(reference=payment.reference)
    PayoutSettings.objects.create(vendor_id=VENDOR, destination="acct_1QAgoraVendor0001")
    http.expect("POST", "/v1/transfers", fixture("transfer"))
    payout = services.payout_create(
        vendor_id=VENDOR, currency="GBP", amount=None, idempotency_key="p1", actor=None
    )
    assert (payout.status, payout.transfer_id) == ("paid", "tr_1QAgoraPayout0001")
    assert http.sent[-1].params["metadata[agora_payout_id]"] == str(payout.pk)
    event = fixture("event_payout_failed")
    event["data"]["object"]["metadata"]["agora_payout_id"] = str(payout.pk)

    response = deliver(event)
    deliver(event)

    assert response.json()["handled"] is True
    payout = Payout.objects.get()
    assert payout.status == "failed"
    assert "account has been closed" in payout.failure_reason
    balance = vendor_balance(vendor_id=VENDOR, currency="GBP")
    assert (balance.available.amount, balance.paid_out.amount) == (payout.amount, 0)


def test_other_events_are_acknowledged_and_change_nothing(http: RecordedStripe) -> None:
    before = money_rows()

    response = deliver(fixture("event_customer_created"))

    assert response.status_code == 200
    assert response.json()["handled"] is False
    assert money_rows() == before
