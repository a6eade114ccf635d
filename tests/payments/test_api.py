"""The payments API end to end on the real services and the sandbox gateway: balances,
payouts, refunds, the ledger's trial balance, commission rules, the vendor statement and
the operator's reconciliation."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Any

import pytest

from agora.core import clock
from agora.payments import services
from agora.payments.gateway import SandboxGateway
from agora.payments.models import (
    JournalTransaction,
    Payment,
    Payout,
    PayoutSettings,
    SandboxCharge,
)
from tests.conftest import assert_problem
from tests.payments.market import Market, make_market, money, money_rows

pytestmark = pytest.mark.django_db

# £100.00 at the defaults: 3 % commission (£3.00), 2.9 % processing fee (£2.90).
SHARE = 94_10


@pytest.fixture
def market(db: Any) -> Market:
    return make_market()


def balance(market: Market) -> dict[str, Any]:
    response = market.as_staff.get(f"/vendors/{market.vendor.pk}/balance")
    assert response.status_code == 200, response.content
    body = response.json()
    return {key: body[key]["amount"] for key in ("pending", "available", "paid_out", "on_hold")}


# --- balance ---------------------------------------------------------------------------------


def test_the_balance_follows_a_sale_through_escrow_release_and_payout(market: Market) -> None:
    assert balance(market) == {"pending": 0, "available": 0, "paid_out": 0, "on_hold": 0}

    payment = market.sell(1)
    assert balance(market) == {"pending": SHARE, "available": 0, "paid_out": 0, "on_hold": 0}

    assert services.escrow_release(reference=payment.reference) is True
    assert balance(market) == {"pending": 0, "available": SHARE, "paid_out": 0, "on_hold": 0}

    response = market.as_owner.post(f"/vendors/{market.vendor.pk}/payouts", idempotency_key="p1")
    assert response.status_code == 201, response.content
    assert response.json()["amount"] == money(SHARE)
    assert response.json()["status"] == "paid"
    assert balance(market) == {"pending": 0, "available": 0, "paid_out": SHARE, "on_hold": 0}
    body = market.as_owner.get(f"/vendors/{market.vendor.pk}/balance").json()
    assert body["currency"] == "GBP"
    assert body["available"] == money(0)


# --- payouts -----------------------------------------------------------------------------------


def test_an_on_demand_payout_of_part_of_the_balance(market: Market) -> None:
    market.released(1)

    response = market.as_owner.post(
        f"/vendors/{market.vendor.pk}/payouts", {"amount": money(40_00)}, idempotency_key="p1"
    )

    assert response.status_code == 201, response.content
    payout = Payout.objects.get()
    assert (payout.amount, payout.status, payout.requested_by_id) == (
        40_00,
        "paid",
        market.owner.pk,
    )
    assert payout.transfer_id.startswith("tr_sandbox_")
    assert balance(market)["available"] == SHARE - 40_00
    listed = market.as_staff.get(f"/vendors/{market.vendor.pk}/payouts").json()
    assert [item["id"] for item in listed] == [payout.pk]


def test_a_payout_above_the_available_balance_is_409_and_moves_nothing(market: Market) -> None:
    market.released(1)
    before = money_rows()

    response = market.as_owner.post(
        f"/vendors/{market.vendor.pk}/payouts", {"amount": money(SHARE + 1)}
    )

    body = assert_problem(response, 409, "insufficient_balance")
    assert (body["available"], body["currency"]) == (SHARE, "GBP")
    assert money_rows() == before


def test_a_payout_of_an_empty_balance_is_409(market: Market) -> None:
    market.sell(1)  # in escrow only: nothing is available yet
    before = money_rows()

    response = market.as_owner.post(f"/vendors/{market.vendor.pk}/payouts")

    assert_problem(response, 409, "insufficient_balance")
    assert money_rows() == before


def test_a_failed_transfer_returns_the_money_to_available(
    market: Market, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agora.payments.errors import PaymentError, PaymentErrorCode

    market.released(1)

    def bank_refuses(self: SandboxGateway, **kwargs: Any) -> Any:
        raise PaymentError("account closed", code=PaymentErrorCode.GATEWAY_ERROR, status=502)

    monkeypatch.setattr(SandboxGateway, "transfer", bank_refuses)
    response = market.as_owner.post(f"/vendors/{market.vendor.pk}/payouts", idempotency_key="p1")

    assert response.status_code == 201, response.content
    assert (response.json()["status"], response.json()["failure_reason"]) == (
        "failed",
        "account closed",
    )
    assert balance(market) == {"pending": 0, "available": SHARE, "paid_out": 0, "on_hold": 0}
    kinds = list(JournalTransaction.objects.order_by("pk").values_list("kind", flat=True))
    assert kinds == ["capture", "escrow_release", "payout", "payout_failed"]


def test_a_paid_payout_the_bank_returns_goes_back_to_available_once(market: Market) -> None:
    market.released(1)
    market.as_owner.post(f"/vendors/{market.vendor.pk}/payouts", idempotency_key="p1")
    payout = Payout.objects.get()

    services.payout_fail(payout=payout, reason="bank returned it")
    services.payout_fail(payout=payout, reason="bank returned it")  # told twice

    payout.refresh_from_db()
    assert (payout.status, payout.failure_reason) == ("failed", "bank returned it")
    assert balance(market)["available"] == SHARE
    assert JournalTransaction.objects.filter(kind="payout_failed").count() == 1


def test_scheduled_payouts_run_once_per_day(market: Market) -> None:
    market.released(1)
    PayoutSettings.objects.create(vendor_id=market.vendor.pk, schedule="daily", minimum_amount=1)
    today = date(2026, 1, 6)

    assert services.scheduled_payouts_run(today=today) == 1
    market.released(2)  # more money the same day: it waits for tomorrow
    assert services.scheduled_payouts_run(today=today) == 0

    assert Payout.objects.count() == 1
    assert Payout.objects.get().amount == SHARE
    assert services.scheduled_payouts_run(today=today + timedelta(days=1)) == 1
    assert sorted(Payout.objects.values_list("amount", flat=True)) == [SHARE, SHARE]


def test_scheduled_payouts_respect_the_schedule_and_the_minimum(market: Market) -> None:
    market.released(1)
    PayoutSettings.objects.create(
        vendor_id=market.vendor.pk, schedule="weekly", minimum_amount=SHARE + 1
    )
    monday = date(2026, 1, 5)

    assert services.scheduled_payouts_run(today=monday) == 0  # below the minimum
    PayoutSettings.objects.filter(vendor_id=market.vendor.pk).update(minimum_amount=SHARE)
    assert services.scheduled_payouts_run(today=monday + timedelta(days=1)) == 0  # a Tuesday
    assert services.scheduled_payouts_run(today=monday) == 1


def test_payout_settings_need_a_manager(market: Market) -> None:
    path = f"/vendors/{market.vendor.pk}/payout-settings"
    body = {"schedule": "daily", "minimum_amount": 500}

    assert_problem(market.as_staff.put(path, body), 403, "forbidden")
    response = market.as_owner.put(path, body)

    assert response.json() == body
    assert PayoutSettings.objects.get().schedule == "daily"


# --- refunds ---------------------------------------------------------------------------------


def refund(market: Market, booking_id: int, amount: int | None, key: str) -> Any:
    body: dict[str, Any] = {"booking_id": booking_id, "reason": "goodwill"}
    if amount is not None:
        body["amount"] = money(amount)
    return market.as_operator.post("/operator/refunds", body, idempotency_key=key)


def test_partial_refunds_add_up_and_never_exceed_what_was_captured(market: Market) -> None:
    market.sell(1)

    first = refund(market, 1, 30_00, "r1")
    second = refund(market, 1, 50_00, "r2")
    too_much = refund(market, 1, 20_01, "r3")
    rest = refund(market, 1, None, "r4")

    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["amount"] == money(30_00)
    assert first.json()["reference"] == "booking:1"
    body = assert_problem(too_much, 409, "refund_exceeds_captured")
    assert (body["captured"], body["refunded"], body["refundable"]) == (100_00, 80_00, 20_00)
    assert rest.json()["amount"] == money(20_00)
    payment = Payment.objects.get()
    assert (payment.refunded_amount, payment.status) == (100_00, "refunded")
    assert SandboxCharge.objects.get().refunded_amount == 100_00
    # every piece went back exactly: nothing is left with the vendor or the platform
    assert balance(market)["pending"] == 0
    assert_problem(refund(market, 1, None, "r5"), 409, "refund_exceeds_captured")


def test_a_refund_of_an_unknown_booking_is_404(market: Market) -> None:
    assert_problem(refund(market, 999, 10_00, "r1"), 404, "not_found")


def test_a_refund_in_another_currency_is_422(market: Market) -> None:
    market.sell(1)
    response = market.as_operator.post(
        "/operator/refunds", {"booking_id": 1, "amount": money(10_00, "EUR"), "reason": "x"}
    )
    assert_problem(response, 422, "currency_mismatch")


def test_a_refund_names_exactly_one_of_booking_and_order(market: Market) -> None:
    response = market.as_operator.post(
        "/operator/refunds", {"booking_id": 1, "order_id": 2, "reason": "x"}
    )
    assert_problem(response, 422, "validation_error")


# --- ledger balances --------------------------------------------------------------------------


def test_ledger_balances_list_every_account_and_total_zero(market: Market) -> None:
    market.released(1)
    market.sell(2, vendor=market.rival)
    refund(market, 2, 10_00, "r1")

    body = market.as_operator.get("/operator/ledger/balances").json()

    assert body["totals"] == {"GBP": 0}
    by_account = {row["account"]: row["balance"] for row in body["accounts"]}
    assert by_account[f"vendor:{market.vendor.pk}:available:GBP"] == SHARE
    assert by_account["gateway:0:gateway_clearing:GBP"] == -200_00
    assert by_account["platform:0:refunds:GBP"] == 10_00
    assert sum(by_account.values()) == 0


# --- commission rules ---------------------------------------------------------------------------


def rule(market: Market, **fields: Any) -> Any:
    response = market.as_operator.post(
        "/operator/commission-rules", {"name": "rule", "percent_bp": 0, **fields}
    )
    assert response.status_code == 201, response.content
    return response.json()


def test_a_category_rule_beats_the_default_and_a_listing_rule_beats_the_category(
    market: Market,
) -> None:
    rule(market, category_path="automotive", percent_bp=1000)  # 10 % on the whole tree
    listing_rule = rule(market, listing_id=42, percent_bp=500, category_path="")

    default = market.sell(1, category_path="home/plumbing")
    by_category = market.sell(2)
    by_listing = market.sell(3, listing_id=42)

    assert (default.commission_amount, default.commission_rule_id) == (3_00, None)
    assert by_category.commission_amount == 10_00
    assert (by_listing.commission_amount, by_listing.commission_rule_id) == (
        5_00,
        listing_rule["id"],
    )
    # processing fees do not depend on the commission rule
    assert {p.fee_amount for p in (default, by_category, by_listing)} == {2_90}


def test_a_floor_and_a_cap_bound_the_commission(market: Market) -> None:
    rule(market, category_path="automotive", percent_bp=1000, minimum_amount=2_00)
    rule(market, category_path="home", percent_bp=1000, maximum_amount=4_00)

    floored = market.sell(1, 10_00)  # 10 % of £10 is £1, floored to £2
    capped = market.sell(2, 100_00, category_path="home/plumbing")  # £10, capped to £4

    assert (floored.commission_amount, capped.commission_amount) == (2_00, 4_00)


def test_a_floor_above_the_cap_is_refused(market: Market) -> None:
    response = market.as_operator.post(
        "/operator/commission-rules",
        {"name": "bad", "percent_bp": 100, "minimum_amount": 500, "maximum_amount": 100},
    )
    assert_problem(response, 422, "invalid_rule")


def test_a_rule_change_does_not_change_past_sales(market: Market) -> None:
    past = market.sell(1)
    captured_before = JournalTransaction.objects.get(kind="capture")
    rule(market, category_path="automotive", percent_bp=2000)

    future = market.sell(2)
    refund(market, 1, None, "r1")

    past.refresh_from_db()
    assert past.commission_amount == 3_00  # frozen at sale time
    assert future.commission_amount == 20_00
    # the full refund of the past sale gives back exactly the 3 % it took, not 20 %
    refund_txn = JournalTransaction.objects.get(kind="refund")
    commission_back = refund_txn.entries.get(account__purpose="commission").amount
    assert commission_back == -3_00
    assert captured_before.entries.get(account__purpose="commission").amount == 3_00


def test_commission_rules_are_listed_for_operators(market: Market) -> None:
    created = rule(market, category_path="automotive", percent_bp=1000)
    listed = market.as_operator.get("/operator/commission-rules").json()
    assert [item["id"] for item in listed] == [created["id"]]


# --- vendor statement ----------------------------------------------------------------------------


def statement(market: Market, **params: Any) -> Any:
    response = market.as_staff.get(f"/vendors/{market.vendor.pk}/statement", **params)
    assert response.status_code == 200, response.content
    return response.json()


def test_the_statement_lists_entries_with_a_running_balance(market: Market) -> None:
    market.released(1)
    market.released(2, 50_00)  # share 47_05
    refund(market, 1, 10_00, "r1")  # after release: 9_41 taken from available
    market.as_owner.post(
        f"/vendors/{market.vendor.pk}/payouts", {"amount": money(100_00)}, idempotency_key="p1"
    )

    body = statement(market)

    rows = [
        (item["kind"], item["amount"]["amount"], item["balance"]["amount"])
        for item in body["items"]
    ]
    assert rows == [
        ("escrow_release", SHARE, SHARE),
        ("escrow_release", 47_05, SHARE + 47_05),
        ("refund", -9_41, SHARE + 47_05 - 9_41),
        ("payout", -100_00, SHARE + 47_05 - 9_41 - 100_00),
    ]
    assert body["next_cursor"] is None
    assert body["items"][-1]["balance"]["amount"] == balance(market)["available"]
    escrow = statement(market, purpose="escrow")["items"]
    assert [item["balance"]["amount"] for item in escrow] == [SHARE, 0, 47_05, 0]


def test_a_statement_page_carries_the_balance_built_up_before_it(market: Market) -> None:
    for booking in range(1, 6):
        market.released(booking)

    first = statement(market, limit=2)
    second = statement(market, limit=2, cursor=first["next_cursor"])
    third = statement(market, limit=2, cursor=second["next_cursor"])

    balances = [
        item["balance"]["amount"] for page in (first, second, third) for item in page["items"]
    ]
    assert balances == [SHARE * n for n in range(1, 6)]
    assert third["next_cursor"] is None


def test_a_statement_range_filters_rows_but_not_the_running_balance(market: Market) -> None:
    start = clock.now()
    with clock.frozen(start):
        market.released(1)
    with clock.frozen(start + timedelta(days=1)):
        market.released(2)
    with clock.frozen(start + timedelta(days=2)):
        market.released(3)

    body = statement(
        market,
        **{
            "from": (start + timedelta(days=1)).isoformat(),
            "to": (start + timedelta(days=2)).isoformat(),
        },
    )

    assert [item["balance"]["amount"] for item in body["items"]] == [2 * SHARE]


def test_the_statement_exports_as_csv(market: Market) -> None:
    market.released(1)
    market.released(2, 50_00)

    for response in (
        market.as_staff.get(f"/vendors/{market.vendor.pk}/statement", format="csv"),
        market.as_staff.get(f"/vendors/{market.vendor.pk}/statement.csv"),
    ):
        assert response.status_code == 200, response.content
        assert response["Content-Type"].startswith("text/csv")
        assert "attachment" in response["Content-Disposition"]
        rows = list(csv.reader(io.StringIO(response.content.decode())))
        assert rows[0] == ["date", "kind", "reference", "memo", "amount", "balance", "currency"]
        assert [row[1:3] + row[4:] for row in rows[1:]] == [
            ["escrow_release", "booking:1", str(SHARE), str(SHARE), "GBP"],
            ["escrow_release", "booking:2", "4705", str(SHARE + 47_05), "GBP"],
        ]


def test_a_statement_with_a_forged_cursor_or_purpose_is_422(market: Market) -> None:
    market.released(1)
    path = f"/vendors/{market.vendor.pk}/statement"
    assert_problem(market.as_staff.get(path, cursor="forged"), 422, "validation_error")
    assert_problem(market.as_staff.get(path, purpose="paid_out"), 422, "validation_error")


def test_the_statement_is_one_query_whatever_its_length(
    market: Market, django_assert_max_num_queries: Any
) -> None:
    from agora.payments.selectors import vendor_statement

    for booking in range(1, 8):
        market.released(booking)

    # the account's id, then the entries with their running balance
    with django_assert_max_num_queries(2):
        result = vendor_statement(vendor_id=market.vendor.pk, currency="GBP", limit=None)
    assert len(result.lines) == 7


# --- reconciliation ----------------------------------------------------------------------------


def test_reconciliation_of_a_healthy_marketplace_lists_no_differences(market: Market) -> None:
    market.released(1)
    market.sell(2, 50_00, vendor=market.rival)
    refund(market, 2, 20_00, "r1")

    body = market.as_operator.get("/operator/reconciliation").json()

    assert body["gateway"] == "sandbox"
    assert body["differences"] == []
    assert body["currencies"] == [
        {
            "currency": "GBP",
            "gateway": {"captured": 150_00, "refunded": 20_00, "net": 130_00},
            "ledger": {"captured": 150_00, "refunded": 20_00, "net": 130_00},
            "payments": {"captured": 150_00, "refunded": 20_00, "net": 130_00},
            "balanced": True,
        }
    ]


def test_reconciliation_shows_the_charge_where_gateway_and_ledger_disagree(
    market: Market,
) -> None:
    kept = market.sell(1)
    market.sell(2)
    # the gateway refunded money the ledger never heard of (a refund made in its dashboard)
    SandboxCharge.objects.filter(charge_id=kept.charge_id).update(refunded_amount=5_00)

    body = market.as_operator.get("/operator/reconciliation").json()

    assert body["currencies"][0]["balanced"] is False
    assert body["differences"] == [
        {
            "charge_id": kept.charge_id,
            "currency": "GBP",
            "references": ["booking:1"],
            "gateway": {"captured": 100_00, "refunded": 5_00, "net": 95_00},
            "ledger": {"captured": 100_00, "refunded": 0, "net": 100_00},
            "payments": {"captured": 100_00, "refunded": 0, "net": 100_00},
        }
    ]
