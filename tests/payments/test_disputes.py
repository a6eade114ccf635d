"""Disputes: opened (freezing money and the escrow release), evidenced, decided by the
operator — through the API — and split across the vendors of a multi-vendor charge."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction

from agora.core.audit import audit_trail
from agora.core.money import Money
from agora.payments import ledger, services
from agora.payments.commission import SaleContext
from agora.payments.models import Dispute, JournalTransaction, Payment
from agora.payments.services import SalePart
from tests.conftest import assert_problem
from tests.payments.market import CATEGORY, Market, make_market, money, money_rows

pytestmark = pytest.mark.django_db

SHARE = 94_10


@pytest.fixture
def market(db: Any) -> Market:
    return make_market()


def balances(market: Market) -> dict[str, int]:
    body = market.as_owner.get(f"/vendors/{market.vendor.pk}/balance").json()
    return {key: body[key]["amount"] for key in ("pending", "available", "on_hold")}


def open_dispute(market: Market, booking_id: int = 1, amount: int | None = None, **kw: Any) -> Any:
    body: dict[str, Any] = {"booking_id": booking_id, "reason": "fraudulent", **kw}
    if amount is not None:
        body["amount"] = money(amount)
    return market.as_operator.post("/operator/disputes", body)


def test_an_open_dispute_freezes_the_money_and_the_escrow_release(market: Market) -> None:
    payment = market.sell(1)

    response = open_dispute(market, amount=40_00)

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["reference"], body["amount"]) == (
        "opened",
        "booking:1",
        money(40_00),
    )
    # £40 frozen: the vendor's part of it (94.1 %) leaves escrow, the platform's the rest
    assert balances(market) == {"pending": SHARE - 37_64, "available": 0, "on_hold": 40_00}
    assert services.escrow_release(reference=payment.reference) is False
    assert not JournalTransaction.objects.filter(kind="escrow_release").exists()
    assert audit_trail(Dispute.objects.get()).first().action == "dispute.opened"


def test_a_won_dispute_gives_everything_back_and_the_release_goes_ahead(market: Market) -> None:
    payment = market.sell(1)
    dispute_id = open_dispute(market, amount=40_00).json()["id"]

    evidence = market.as_operator.post(
        f"/operator/disputes/{dispute_id}/evidence", {"text": "signed delivery note"}
    )
    decided = market.as_operator.post(
        f"/operator/disputes/{dispute_id}/decide", {"outcome": "won", "reason": "proof"}
    )

    assert evidence.status_code == 201, evidence.content
    assert [item["text"] for item in evidence.json()["evidence"]] == ["signed delivery note"]
    assert decided.status_code == 200, decided.content
    assert decided.json()["status"] == "won"
    assert balances(market) == {"pending": SHARE, "available": 0, "on_hold": 0}
    assert services.escrow_release(reference=payment.reference) is True
    assert balances(market) == {"pending": 0, "available": SHARE, "on_hold": 0}
    actions = [entry.action for entry in audit_trail(Dispute.objects.get())]
    assert actions == ["dispute.opened", "dispute.evidence_added", "dispute.won"]
    assert ledger.trial_balance() == {"GBP": 0}


def test_a_lost_dispute_pays_the_card_network_and_releases_the_rest(market: Market) -> None:
    payment = market.sell(1)
    dispute_id = open_dispute(market, amount=40_00).json()["id"]

    decided = market.as_operator.post(
        f"/operator/disputes/{dispute_id}/decide", {"outcome": "lost"}
    )

    assert decided.json()["status"] == "lost"
    assert balances(market) == {"pending": SHARE - 37_64, "available": 0, "on_hold": 0}
    assert services.escrow_release(reference=payment.reference) is True
    assert balances(market)["available"] == SHARE - 37_64
    # captured = vendor + commission + fee + lost to the dispute, to the penny
    clearing = ledger.balances(purpose="gateway_clearing")[0].balance
    assert clearing == -100_00 + 40_00


def test_a_decided_dispute_cannot_be_decided_again_or_take_evidence(market: Market) -> None:
    market.sell(1)
    dispute_id = open_dispute(market, amount=10_00).json()["id"]
    market.as_operator.post(f"/operator/disputes/{dispute_id}/decide", {"outcome": "won"})
    before = money_rows()

    other = market.as_operator.post(f"/operator/disputes/{dispute_id}/decide", {"outcome": "lost"})
    late = market.as_operator.post(f"/operator/disputes/{dispute_id}/evidence", {"text": "x"})
    again = market.as_operator.post(f"/operator/disputes/{dispute_id}/decide", {"outcome": "won"})

    assert_problem(other, 409, "invalid_transition")
    assert_problem(late, 409, "invalid_transition")
    assert again.json()["status"] == "won"  # the same decision again changes nothing
    assert money_rows() == before


def test_a_dispute_over_what_is_left_is_409_and_freezes_nothing(market: Market) -> None:
    market.sell(1)
    market.as_operator.post(
        "/operator/refunds",
        {"booking_id": 1, "amount": money(70_00), "reason": "x"},
        idempotency_key="r1",
    )
    before = money_rows()

    response = open_dispute(market, amount=30_01)

    body = assert_problem(response, 409, "dispute_exceeds_captured")
    assert body["disputable"] == 30_00
    assert money_rows() == before


def test_a_dispute_without_an_amount_takes_all_that_is_left(market: Market) -> None:
    market.sell(1)
    response = open_dispute(market)
    assert response.json()["amount"] == money(100_00)
    assert balances(market) == {"pending": 0, "available": 0, "on_hold": 100_00}


def test_a_dispute_on_an_unknown_booking_is_404(market: Market) -> None:
    assert_problem(open_dispute(market, booking_id=404, amount=1_00), 404, "not_found")
    assert_problem(market.as_operator.get("/operator/disputes/999"), 404, "not_found")


def test_disputes_are_listed_newest_first_with_cursor_pagination(
    market: Market, django_assert_max_num_queries: Any
) -> None:
    for booking in range(1, 6):
        market.sell(booking)
        open_dispute(market, booking_id=booking, amount=booking * 1_00)

    with django_assert_max_num_queries(8):
        first = market.as_operator.get("/operator/disputes", limit=2).json()
    second = market.as_operator.get("/operator/disputes", limit=2, cursor=first["next_cursor"])
    third = market.as_operator.get(
        "/operator/disputes", limit=2, cursor=second.json()["next_cursor"]
    ).json()

    amounts = [
        item["amount"]["amount"] for page in (first, second.json(), third) for item in page["items"]
    ]
    assert amounts == [5_00, 4_00, 3_00, 2_00, 1_00]
    assert third["next_cursor"] is None
    opened = market.as_operator.get("/operator/disputes", status="won").json()
    assert opened["items"] == []


def test_a_gateway_dispute_on_a_multi_vendor_charge_is_shared_in_proportion(
    market: Market,
) -> None:
    with transaction.atomic():
        payments = services.payments_collect(
            charge_group="checkout:1",
            parts=[
                SalePart(
                    reference=f"order:{n}",
                    amount=Money(amount, "GBP"),
                    sale=SaleContext(vendor.pk, vendor.tier, CATEGORY, None),
                )
                for n, (vendor, amount) in enumerate(
                    [(market.vendor, 30_00), (market.rival, 70_00)], start=1
                )
            ],
            payment_method="pm_card_visa",
            idempotency_key="checkout:1",
        )
    charge_id = payments[0].charge_id

    opened = services.disputes_open_for_charge(
        charge_id=charge_id,
        amount=Money(50_00, "GBP"),
        reason="fraudulent",
        gateway_dispute_id="dp_1",
    )
    again = services.disputes_open_for_charge(
        charge_id=charge_id,
        amount=Money(50_00, "GBP"),
        reason="fraudulent",
        gateway_dispute_id="dp_1",
    )

    assert [(d.reference, d.amount) for d in opened] == [("order:1", 15_00), ("order:2", 35_00)]
    assert [d.pk for d in again] == [d.pk for d in opened]
    assert Dispute.objects.count() == 2

    services.disputes_decide_for_gateway(gateway_dispute_id="dp_1", outcome="lost")
    assert set(Dispute.objects.values_list("status", flat=True)) == {"lost"}
    assert Payment.objects.count() == 2
    assert ledger.trial_balance() == {"GBP": 0}
