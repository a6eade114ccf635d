"""The money flow, to the penny: capture → escrow → release → payout, refunds, disputes."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction

from agora.payments import flows, ledger
from agora.payments.errors import PaymentError
from agora.payments.models import JournalEntry, JournalTransaction, Purpose
from tests.payments.conftest import (
    VENDOR,
    aud,
    capture,
    clearing,
    entries_of,
    gbp,
    platform,
    vendor,
)

pytestmark = pytest.mark.django_db

REF = "booking:12"


def refund(amount: Any, key: str, reference: str = REF) -> JournalTransaction:
    with transaction.atomic():
        return flows.post_refund(
            reference=reference, vendor_id=VENDOR, amount=amount, idempotency_key=key
        )


def release(key: str = "release:1", reference: str = REF) -> JournalTransaction | None:
    with transaction.atomic():
        return flows.post_escrow_release(reference=reference, vendor_id=VENDOR, idempotency_key=key)


def payout(amount: Any, key: str = "payout:1") -> JournalTransaction:
    with transaction.atomic():
        return flows.post_payout(vendor_id=VENDOR, amount=amount, idempotency_key=key)


def assert_captured_is_fully_accounted_for(currency: str = "GBP") -> None:
    """ARCHITECTURE.md invariant 3: captured = vendor earnings + commission + fees + refunds
    (+ money in dispute and lost to disputes, which is what clearing got back)."""
    vendor_money = sum(
        vendor(purpose, currency)
        for purpose in (Purpose.ESCROW, Purpose.AVAILABLE, Purpose.PAID_OUT, Purpose.DISPUTE_HOLD)
    )
    platform_money = sum(
        platform(purpose, currency)
        for purpose in (Purpose.COMMISSION, Purpose.PROCESSING_FEES, Purpose.REFUNDS)
    )
    assert -clearing(currency) == vendor_money + platform_money
    assert ledger.trial_balance().get(currency, 0) == 0


# --- the happy path --------------------------------------------------------------------------


def test_capture_release_payout_of_100_pounds_to_the_penny() -> None:
    # £100.00 with the seeded 3% commission and 2.9% processing fee
    captured = capture(REF, gbp(100_00))

    assert entries_of(captured) == {
        "gateway:0:gateway_clearing:GBP": -100_00,
        "vendor:7:escrow:GBP": 94_10,
        "platform:0:commission:GBP": 3_00,
        "platform:0:processing_fees:GBP": 2_90,
    }
    balance = flows.vendor_balance(vendor_id=VENDOR, currency="GBP")
    assert (balance.pending, balance.available, balance.paid_out) == (
        gbp(94_10),
        gbp(0),
        gbp(0),
    )
    assert flows.escrow_held_for(reference=REF, vendor_id=VENDOR, currency="GBP") == gbp(94_10)

    released = release()

    assert released is not None
    assert entries_of(released) == {"vendor:7:escrow:GBP": -94_10, "vendor:7:available:GBP": 94_10}
    balance = flows.vendor_balance(vendor_id=VENDOR, currency="GBP")
    assert (balance.pending, balance.available) == (gbp(0), gbp(94_10))

    paid = payout(gbp(94_10))

    assert entries_of(paid) == {"vendor:7:available:GBP": -94_10, "vendor:7:paid_out:GBP": 94_10}
    balance = flows.vendor_balance(vendor_id=VENDOR, currency="GBP")
    assert (balance.pending, balance.available, balance.paid_out) == (
        gbp(0),
        gbp(0),
        gbp(94_10),
    )
    assert (platform(Purpose.COMMISSION), platform(Purpose.PROCESSING_FEES)) == (3_00, 2_90)
    assert clearing() == -100_00
    assert_captured_is_fully_accounted_for()


def test_every_movement_is_idempotent_by_its_key() -> None:
    first = capture(REF, gbp(100_00), key="cap")
    assert capture(REF, gbp(100_00), key="cap") == first
    assert release("rel") == release("rel")
    assert refund(gbp(10_00), "ref") == refund(gbp(10_00), "ref")
    assert payout(gbp(50_00), "pay") == payout(gbp(50_00), "pay")

    assert JournalTransaction.objects.count() == 4
    assert platform(Purpose.REFUNDS) == 10_00
    assert vendor(Purpose.PAID_OUT) == 50_00


def test_the_same_key_for_a_different_movement_is_refused() -> None:
    capture(REF, gbp(100_00), key="cap")
    refund(gbp(10_00), "ref")

    for attempt in (
        lambda: capture(REF, gbp(200_00), key="cap"),
        lambda: refund(gbp(20_00), "ref"),
        lambda: refund(gbp(10_00), "cap"),
    ):
        with pytest.raises(PaymentError) as caught:
            attempt()
        assert (caught.value.status, caught.value.code) == (422, "idempotency_key_reused")

    assert platform(Purpose.REFUNDS) == 10_00
    assert JournalTransaction.objects.count() == 2


def test_zero_commission_and_fee_post_no_zero_entries() -> None:
    txn = capture(REF, gbp(10_00), commission_bp=0, processing_bp=0)

    assert entries_of(txn) == {
        "gateway:0:gateway_clearing:GBP": -10_00,
        "vendor:7:escrow:GBP": 10_00,
    }
    assert not JournalEntry.objects.filter(amount=0).exists()


def test_a_capture_cannot_pay_out_more_than_the_gross() -> None:
    with pytest.raises(ValueError, match="exceed the gross"), transaction.atomic():
        flows.post_capture(
            reference=REF,
            vendor_id=VENDOR,
            gross=gbp(100),
            commission=gbp(90),
            processing_fee=gbp(11),
            idempotency_key="cap",
        )
    assert not JournalTransaction.objects.exists()


def test_a_reference_belongs_to_one_vendor() -> None:
    capture(REF, gbp(100_00), vendor_id=VENDOR)

    with pytest.raises(PaymentError) as caught:
        capture(REF, gbp(100_00), vendor_id=VENDOR + 1, key="other")

    assert caught.value.code == "reference_vendor_mismatch"
    assert JournalTransaction.objects.count() == 1


# --- refunds ---------------------------------------------------------------------------------


def test_partial_refunds_split_proportionally_and_exactly_to_the_penny() -> None:
    capture(REF, gbp(100_00))  # vendor 94.10, commission 3.00, fee 2.90

    first = refund(gbp(33_33), "r1")

    # 3333 × (9410, 300, 290) / 10000 = (3136.353, 99.99, 96.657): floors 3136 + 99 + 96 =
    # 3331, the two pennies left go to the largest remainders (commission, then fee)
    assert entries_of(first) == {
        "vendor:7:escrow:GBP": -31_36,
        "platform:0:commission:GBP": -1_00,
        "platform:0:processing_fees:GBP": -97,
        "platform:0:refunds:GBP": 33_33,
    }
    second = refund(gbp(66_67), "r2")

    # the rest: whatever remained of each piece, so a full refund returns exactly all
    assert entries_of(second) == {
        "vendor:7:escrow:GBP": -62_74,
        "platform:0:commission:GBP": -2_00,
        "platform:0:processing_fees:GBP": -1_93,
        "platform:0:refunds:GBP": 66_67,
    }
    assert (vendor(Purpose.ESCROW), platform(Purpose.COMMISSION)) == (0, 0)
    assert platform(Purpose.PROCESSING_FEES) == 0
    assert platform(Purpose.REFUNDS) == 100_00
    assert_captured_is_fully_accounted_for()


@pytest.mark.parametrize(
    ("gross", "refunds"),
    [
        (100_00, [1] * 7),
        (99_99, [33_33, 33_33, 33_33]),
        (1, [1]),
        (7, [1, 2, 4]),
        (12_345_67, [1_00, 11_11, 999_99, 2]),
    ],
)
def test_each_refund_splits_into_pieces_that_sum_to_it(gross: int, refunds: list[int]) -> None:
    capture(REF, gbp(gross))

    for n, amount in enumerate(refunds):
        txn = refund(gbp(amount), f"r{n}")
        pieces = entries_of(txn)
        assert pieces.pop("platform:0:refunds:GBP") == amount
        assert -sum(pieces.values()) == amount

    assert platform(Purpose.REFUNDS) == sum(refunds)
    assert vendor(Purpose.ESCROW) >= 0
    assert_captured_is_fully_accounted_for()


def test_refunds_never_exceed_what_was_captured() -> None:
    capture(REF, gbp(100_00))

    with pytest.raises(PaymentError) as caught:
        refund(gbp(100_01), "too-much")
    assert (caught.value.status, caught.value.code) == (409, "refund_exceeds_captured")
    assert caught.value.extra["refundable"] == 100_00

    refund(gbp(60_00), "r1")
    with pytest.raises(PaymentError, match=r"40\.00 GBP of 100\.00 GBP"):
        refund(gbp(40_01), "r2")
    refund(gbp(40_00), "r3")
    with pytest.raises(PaymentError):
        refund(gbp(1), "r4")
    with pytest.raises(PaymentError):  # nothing captured under this reference at all
        refund(gbp(1), "r5", reference="booking:404")
    with pytest.raises(PaymentError):  # nor in this currency
        refund(aud(1), "r6")

    assert platform(Purpose.REFUNDS) == 100_00
    assert JournalTransaction.objects.filter(kind="refund").count() == 2


def test_a_refund_after_release_comes_from_available_which_may_go_negative() -> None:
    capture(REF, gbp(100_00))
    release()
    payout(gbp(94_10))

    txn = refund(gbp(50_00), "r1")

    # 5000 × (9410, 300, 290) / 10000 = (4705, 150, 145) exactly
    assert entries_of(txn) == {
        "vendor:7:available:GBP": -47_05,
        "platform:0:commission:GBP": -1_50,
        "platform:0:processing_fees:GBP": -1_45,
        "platform:0:refunds:GBP": 50_00,
    }
    # the vendor owes £47.05, recovered from future earnings; no payout until then
    assert flows.vendor_balance(vendor_id=VENDOR, currency="GBP").available == gbp(-47_05)
    with pytest.raises(PaymentError) as caught:
        payout(gbp(1), "payout:2")
    assert caught.value.code == "insufficient_balance"

    capture("booking:13", gbp(100_00))
    release("release:2", reference="booking:13")
    assert flows.vendor_balance(vendor_id=VENDOR, currency="GBP").available == gbp(47_05)
    assert_captured_is_fully_accounted_for()


# --- escrow release --------------------------------------------------------------------------


def test_release_moves_only_what_is_left_of_this_references_escrow() -> None:
    capture(REF, gbp(100_00))
    capture("booking:13", gbp(50_00))
    refund(gbp(50_00), "r1")  # escrow for REF: 9410 - 4705

    released = release()

    assert released is not None
    assert entries_of(released) == {"vendor:7:escrow:GBP": -47_05, "vendor:7:available:GBP": 47_05}
    assert vendor(Purpose.ESCROW) == 47_05  # booking:13's share stays in escrow
    assert release("release:again") is None  # nothing left to release
    assert flows.escrow_held_for(reference=REF, vendor_id=VENDOR, currency="GBP") == gbp(0)


# --- payouts ---------------------------------------------------------------------------------


def test_payouts_never_exceed_available_and_a_failed_payout_returns_once() -> None:
    capture(REF, gbp(100_00))
    with pytest.raises(PaymentError) as caught:
        payout(gbp(1))  # all of it is still in escrow
    assert (caught.value.code, caught.value.extra["available"]) == ("insufficient_balance", 0)

    release()
    paid = payout(gbp(90_00))
    with pytest.raises(PaymentError):
        payout(gbp(4_11), "payout:2")

    with transaction.atomic():
        failed = flows.post_payout_failed(payout=paid, idempotency_key="failed:1")

    assert failed.kind == "payout_failed"
    assert failed.reverses == paid
    assert entries_of(failed) == {"vendor:7:available:GBP": 90_00, "vendor:7:paid_out:GBP": -90_00}
    assert (vendor(Purpose.AVAILABLE), vendor(Purpose.PAID_OUT)) == (94_10, 0)
    with transaction.atomic():  # a retry of the same failure report
        assert flows.post_payout_failed(payout=paid, idempotency_key="failed:1") == failed
    with pytest.raises(PaymentError) as caught, transaction.atomic():
        flows.post_payout_failed(payout=paid, idempotency_key="failed:2")
    assert caught.value.code == "already_reversed"
    with pytest.raises(PaymentError) as caught, transaction.atomic():
        flows.post_payout_failed(payout=failed, idempotency_key="failed:3")
    assert caught.value.code == "not_reversible"
    assert_captured_is_fully_accounted_for()


# --- disputes --------------------------------------------------------------------------------


def dispute(step: str, amount: Any, key: str) -> JournalTransaction:
    post = {
        "opened": flows.post_dispute_opened,
        "won": flows.post_dispute_won,
        "lost": flows.post_dispute_lost,
    }[step]
    with transaction.atomic():
        return post(reference=REF, vendor_id=VENDOR, amount=amount, idempotency_key=key)


def test_an_open_dispute_freezes_the_money_and_winning_it_restores_every_piece() -> None:
    capture(REF, gbp(100_00))

    opened = dispute("opened", gbp(100_00), "d1")

    assert entries_of(opened) == {
        "vendor:7:escrow:GBP": -94_10,
        "platform:0:commission:GBP": -3_00,
        "platform:0:processing_fees:GBP": -2_90,
        "vendor:7:dispute_hold:GBP": 100_00,
    }
    balance = flows.vendor_balance(vendor_id=VENDOR, currency="GBP")
    assert (balance.pending, balance.on_hold) == (gbp(0), gbp(100_00))
    assert release() is None  # nothing is left in escrow to release
    with pytest.raises(PaymentError):  # nor to refund
        refund(gbp(1), "r1")

    won = dispute("won", gbp(100_00), "d1-won")

    assert entries_of(won) == {
        "vendor:7:escrow:GBP": 94_10,
        "platform:0:commission:GBP": 3_00,
        "platform:0:processing_fees:GBP": 2_90,
        "vendor:7:dispute_hold:GBP": -100_00,
    }
    assert flows.escrow_held_for(reference=REF, vendor_id=VENDOR, currency="GBP") == gbp(94_10)
    assert_captured_is_fully_accounted_for()


def test_a_lost_dispute_sends_the_held_money_back_through_the_gateway() -> None:
    capture(REF, gbp(100_00))
    release()
    dispute("opened", gbp(40_00), "d1")  # after release: the vendor share from available

    assert vendor(Purpose.AVAILABLE) == 94_10 - 37_64
    lost = dispute("lost", gbp(40_00), "d1-lost")

    assert entries_of(lost) == {
        "vendor:7:dispute_hold:GBP": -40_00,
        "gateway:0:gateway_clearing:GBP": 40_00,
    }
    assert clearing() == -60_00
    assert (platform(Purpose.COMMISSION), platform(Purpose.PROCESSING_FEES)) == (1_80, 1_74)
    # what was lost can no longer be refunded: 60.00 remains
    with pytest.raises(PaymentError, match=r"60\.00 GBP"):
        refund(gbp(60_01), "r1")
    refund(gbp(60_00), "r2")
    assert (vendor(Purpose.AVAILABLE), platform(Purpose.COMMISSION)) == (0, 0)
    assert_captured_is_fully_accounted_for()


def test_disputes_cannot_exceed_what_is_captured_or_on_hold() -> None:
    capture(REF, gbp(100_00))
    refund(gbp(30_00), "r1")

    with pytest.raises(PaymentError) as caught:
        dispute("opened", gbp(70_01), "d1")
    assert caught.value.code == "dispute_exceeds_captured"
    dispute("opened", gbp(20_00), "d2")
    with pytest.raises(PaymentError) as caught:
        dispute("won", gbp(20_01), "d3")
    assert caught.value.code == "dispute_exceeds_hold"
    with pytest.raises(PaymentError):
        dispute("lost", gbp(20_01), "d4")
    # refunds during the dispute are limited to what is neither refunded nor disputed
    with pytest.raises(PaymentError):
        refund(gbp(50_01), "r2")
    refund(gbp(50_00), "r3")
    dispute("won", gbp(5_00), "d5")
    dispute("lost", gbp(15_00), "d6")

    assert vendor(Purpose.DISPUTE_HOLD) == 0
    assert platform(Purpose.REFUNDS) == 80_00
    assert clearing() == -85_00
    assert_captured_is_fully_accounted_for()


# --- several currencies ----------------------------------------------------------------------


def test_currencies_never_mix() -> None:
    capture("order:1", gbp(100_00))
    capture("order:2", aud(250_00))
    release(reference="order:1")
    release("release:aud", reference="order:2")
    with transaction.atomic():
        flows.post_refund(
            reference="order:2", vendor_id=VENDOR, amount=aud(50_00), idempotency_key="r-aud"
        )

    gbp_balance = flows.vendor_balance(vendor_id=VENDOR, currency="GBP")
    aud_balance = flows.vendor_balance(vendor_id=VENDOR, currency="AUD")
    assert gbp_balance.available == gbp(94_10)
    # A$250 × 94.1% = 235.25; a fifth of it refunded → 188.20
    assert aud_balance.available == aud(188_20)
    assert ledger.trial_balance() == {"GBP": 0, "AUD": 0}
    with pytest.raises(PaymentError):  # order:1 was paid in GBP
        refund(aud(1_00), "r-wrong", reference="order:1")
    with pytest.raises(PaymentError):  # GBP balance cannot pay out AUD
        payout(aud(200_00))
    assert_captured_is_fully_accounted_for("GBP")
    assert_captured_is_fully_accounted_for("AUD")


def test_one_reference_may_hold_escrow_in_two_currencies_and_release_both_at_once() -> None:
    capture("order:9", gbp(10_00), key="c1")
    capture("order:9", aud(20_00), key="c2")

    released = release(reference="order:9")

    assert released is not None
    assert entries_of(released) == {
        "vendor:7:escrow:GBP": -9_41,
        "vendor:7:available:GBP": 9_41,
        "vendor:7:escrow:AUD": -18_82,
        "vendor:7:available:AUD": 18_82,
    }
    assert ledger.trial_balance() == {"GBP": 0, "AUD": 0}


def test_reading_a_reference_is_one_query(django_assert_max_num_queries: Any) -> None:
    capture(REF, gbp(100_00))
    refund(gbp(10_00), "r1")

    with django_assert_max_num_queries(1):
        state = flows.reference_state(reference=REF, vendor_id=VENDOR, currency="GBP")

    assert (state.captured, state.refundable, state.refunded) == (gbp(100_00), gbp(90_00), 10_00)
    assert not state.released
