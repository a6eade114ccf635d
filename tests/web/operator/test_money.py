"""Sales, operator refunds and disputes on the console, through the payments services."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import transaction
from django.test import Client

from agora.core.audit import audit_trail
from agora.core.money import Money
from agora.payments import ledger, services
from agora.payments.commission import SaleContext
from agora.payments.models import Dispute, DisputeEvidence, Payment, Refund
from tests.factories import VendorFactory
from tests.web.operator.conftest import messages_of

pytestmark = pytest.mark.django_db


def _sell(reference: str, amount: int, vendor: Any) -> Payment:
    with transaction.atomic():
        return services.payment_collect(
            reference=reference,
            amount=Money(amount, "GBP"),
            payment_method="pm_card_visa",
            sale=SaleContext(
                vendor_id=vendor.pk,
                vendor_tier=vendor.tier,
                category_path="automotive/mot-servicing",
                listing_id=None,
            ),
            idempotency_key=f"sale:{reference}",
        )


@pytest.fixture
def vendor() -> Any:
    return VendorFactory(name="Camden Motors")


@pytest.fixture
def sale(vendor: Any) -> Payment:
    return _sell("booking:41", 120_00, vendor)


def _once(html: str) -> str:
    found = re.search(r'name="once" value="([0-9a-f]{32})"', html)
    assert found is not None
    return found.group(1)


def _refund_totals() -> dict[str, int]:
    return ledger.trial_balance()


# --- sales -------------------------------------------------------------------------------


def test_sales_list_shows_sales_with_vendor_names_and_filters(
    sale: Payment, vendor: Any, op: Client, django_assert_max_num_queries: Any
) -> None:
    other = _sell("order:7", 30_00, VendorFactory(name="Parts Ltd"))
    for n in range(10):
        _sell(f"order:{100 + n}", 10_00, vendor)
    services.refund_create(
        reference=other.reference, amount=None, reason="x", actor=None, idempotency_key="r"
    )

    # + 1: the header's notification bell (one COUNT of unread notifications)
    with django_assert_max_num_queries(5 + 1):
        html = op.get("/operator/sales/").content.decode()
    assert "/operator/sales/booking:41/" in html
    assert "Camden Motors" in html
    assert "Parts Ltd" in html
    assert "120.00 GBP" in html

    refunded = op.get("/operator/sales/?status=refunded").content.decode()
    assert "order:7" in refunded
    assert "booking:41" not in refunded
    assert op.get("/operator/sales/?status=lost").status_code == 422


def test_sales_list_pages(vendor: Any, op: Client) -> None:
    for n in range(25):
        _sell(f"order:{n + 1}", 10_00, vendor)

    first = op.get("/operator/sales/")
    assert len(first.context["sales"]) == 20
    second = op.get(first.context["next_url"])
    assert [s.reference for s, *_ in second.context["sales"]] == [
        f"order:{n}" for n in range(5, 0, -1)
    ]


def test_lookup_by_booking_or_order_number(sale: Payment, op: Client) -> None:
    response = op.get("/operator/sales/?kind=booking&number=41")
    assert response.status_code == 302
    assert response["Location"] == "/operator/sales/booking:41/"
    assert op.get("/operator/sales/booking:999/").status_code == 404
    bad = op.get("/operator/sales/?kind=booking&number=-3")
    assert bad.status_code == 200
    assert "Ensure this value is greater than or equal to 1." in bad.content.decode()


def test_sale_detail_shows_the_split_and_what_is_refundable(sale: Payment, op: Client) -> None:
    html = op.get("/operator/sales/booking:41/").content.decode()

    assert '<dd data-figure="gross">120.00 GBP</dd>' in html
    assert '<dd data-figure="refundable">120.00 GBP</dd>' in html
    assert "Camden Motors" in html


# --- refunds ------------------------------------------------------------------------------


def test_a_partial_refund_goes_through_the_payments_service(
    sale: Payment, op: Client, operator: Any
) -> None:
    once = _once(op.get("/operator/sales/booking:41/").content.decode())

    response = op.post(
        "/operator/sales/booking:41/refund/",
        {"amount": "30.50", "reason": "Late start", "once": once},
        follow=True,
    )

    assert "Refunded 30.50 GBP of booking:41." in messages_of(response)
    refund = Refund.objects.get()
    assert (refund.amount, refund.reason, refund.created_by_id) == (
        30_50,
        "Late start",
        operator.pk,
    )
    sale.refresh_from_db()
    assert (sale.refunded_amount, sale.status) == (30_50, "partially_refunded")
    assert '<dd data-figure="refundable">89.50 GBP</dd>' in response.content.decode()
    assert set(_refund_totals().values()) == {0}


def test_submitting_the_same_refund_form_twice_refunds_once(sale: Payment, op: Client) -> None:
    once = _once(op.get("/operator/sales/booking:41/").content.decode())
    body = {"amount": "10", "reason": "Goodwill", "once": once}

    op.post("/operator/sales/booking:41/refund/", body)
    op.post("/operator/sales/booking:41/refund/", body)

    assert Refund.objects.count() == 1
    assert Payment.objects.get(pk=sale.pk).refunded_amount == 10_00


def test_a_blank_amount_refunds_everything_left(sale: Payment, op: Client) -> None:
    op.post(
        "/operator/sales/booking:41/refund/",
        {"amount": "", "reason": "Cancelled by us", "once": "a" * 32},
    )

    sale.refresh_from_db()
    assert (sale.refunded_amount, sale.status) == (120_00, "refunded")
    again = op.post(
        "/operator/sales/booking:41/refund/", {"amount": "", "reason": "x", "once": "b" * 32}
    )
    assert again.status_code == 422
    assert "Nothing is left to refund." in again.content.decode()


@pytest.mark.parametrize(
    ("amount", "reason", "once", "error"),
    [
        ("500", "too much", "c" * 32, "refund"),
        ("abc", "typo", "c" * 32, "Enter an amount such as 12.50."),
        ("1.234", "typo", "c" * 32, "Too many decimal places for GBP."),
        ("-5", "typo", "c" * 32, "The amount must be more than zero."),
        ("5", "", "c" * 32, "This field is required."),
        ("5", "no token", "", "This field is required."),
        ("5", "forged", "not-a-token", "This form has expired"),
    ],
)
def test_bad_refunds_are_refused_on_the_form_and_move_nothing(
    sale: Payment, op: Client, amount: str, reason: str, once: str, error: str
) -> None:
    balances = _refund_totals()

    response = op.post(
        "/operator/sales/booking:41/refund/", {"amount": amount, "reason": reason, "once": once}
    )

    assert response.status_code == 422
    assert error in response.content.decode()
    assert Refund.objects.count() == 0
    assert Payment.objects.get(pk=sale.pk).refunded_amount == 0
    assert _refund_totals() == balances


def test_refunding_a_missing_sale_is_404(op: Client) -> None:
    response = op.post(
        "/operator/sales/order:404/refund/", {"amount": "1", "reason": "x", "once": "d" * 32}
    )
    assert response.status_code == 404


# --- disputes -----------------------------------------------------------------------------


def _open(op: Client, amount: str = "50") -> Dispute:
    op.post(
        "/operator/sales/booking:41/dispute/",
        {"amount": amount, "reason": "Customer says no-show", "once": "e" * 32},
    )
    return Dispute.objects.get()


def test_opening_a_dispute_freezes_the_amount_and_is_audited(
    sale: Payment, op: Client, operator: Any
) -> None:
    response = op.post(
        "/operator/sales/booking:41/dispute/",
        {"amount": "50", "reason": "Customer says no-show", "once": "e" * 32},
    )

    dispute = Dispute.objects.get()
    assert response["Location"] == f"/operator/disputes/{dispute.pk}/"
    assert (dispute.amount, dispute.status, dispute.opened_by_id) == (50_00, "opened", operator.pk)
    assert [e.action for e in audit_trail(dispute)] == ["dispute.opened"]
    html = op.get("/operator/sales/booking:41/").content.decode()
    assert '<dd data-figure="refundable">70.00 GBP</dd>' in html


def test_disputes_list_filters_by_status(sale: Payment, op: Client) -> None:
    dispute = _open(op)

    assert f"/operator/disputes/{dispute.pk}/" in op.get("/operator/disputes/").content.decode()
    opened = op.get("/operator/disputes/?status=opened").content.decode()
    assert "Camden Motors" in opened
    assert "50.00 GBP" in opened
    assert (
        "No disputes with this status." in op.get("/operator/disputes/?status=won").content.decode()
    )
    assert op.get("/operator/disputes/?status=maybe").status_code == 422


def test_evidence_is_recorded_and_shown(sale: Payment, op: Client, operator: Any) -> None:
    dispute = _open(op)

    op.post(f"/operator/disputes/{dispute.pk}/evidence/", {"text": "Photo of the job card"})
    refused = op.post(f"/operator/disputes/{dispute.pk}/evidence/", {"text": "  "})

    assert refused.status_code == 422
    evidence = DisputeEvidence.objects.get()
    assert (evidence.text, evidence.author_id) == ("Photo of the job card", operator.pk)
    html = op.get(f"/operator/disputes/{dispute.pk}/").content.decode()
    assert "Photo of the job card" in html
    assert "Olive Operator" in html


def test_deciding_a_dispute_won_returns_the_money_and_closes_it(
    sale: Payment, op: Client, operator: Any
) -> None:
    dispute = _open(op)

    response = op.post(
        f"/operator/disputes/{dispute.pk}/decide/", {"outcome": "won", "reason": "Evidence"}
    )

    assert response.status_code == 302
    dispute.refresh_from_db()
    assert (dispute.status, dispute.decided_by_id) == ("won", operator.pk)
    assert [e.action for e in audit_trail(dispute)][-1] == "dispute.won"
    html = op.get(f"/operator/disputes/{dispute.pk}/").content.decode()
    assert 'action="/operator/disputes/' not in html  # no more forms once decided
    again = op.post(f"/operator/disputes/{dispute.pk}/decide/", {"outcome": "lost"})
    assert again.status_code == 422
    assert "This dispute was already decided: won." in again.content.decode()
    assert Dispute.objects.get(pk=dispute.pk).status == "won"
    late = op.post(f"/operator/disputes/{dispute.pk}/evidence/", {"text": "late"})
    assert late.status_code == 422
    assert DisputeEvidence.objects.count() == 0


def test_a_bad_outcome_or_missing_dispute_is_refused(sale: Payment, op: Client) -> None:
    dispute = _open(op)
    assert (
        op.post(f"/operator/disputes/{dispute.pk}/decide/", {"outcome": "maybe"}).status_code == 422
    )
    assert Dispute.objects.get(pk=dispute.pk).status == "opened"
    assert op.get("/operator/disputes/999999/").status_code == 404


def test_disputing_more_than_is_left_is_refused(sale: Payment, op: Client) -> None:
    response = op.post(
        "/operator/sales/booking:41/dispute/",
        {"amount": "500", "reason": "Too much", "once": "f" * 32},
    )

    assert response.status_code == 422
    assert Dispute.objects.count() == 0


def test_sales_of_one_vendor(sale: Payment, vendor: Any, op: Client) -> None:
    _sell("order:8", 15_00, VendorFactory(name="Elsewhere Ltd"))

    response = op.get(f"/operator/sales/?vendor={vendor.pk}")

    html = response.content.decode()
    assert "Sales and refunds of Camden Motors" in html
    assert "booking:41" in html
    assert "order:8" not in html
    assert f'<input type="hidden" name="vendor" value="{vendor.pk}">' in html
    assert (
        f'href="/operator/sales/?vendor={vendor.pk}"'
        in op.get(f"/operator/vendors/{vendor.pk}/").content.decode()
    )
    assert op.get("/operator/sales/?vendor=abc").status_code == 422


def test_money_pages_cost_a_bounded_number_of_queries(
    sale: Payment, op: Client, django_assert_max_num_queries: Any
) -> None:
    for n in range(5):
        dispute = services.dispute_open(
            reference=_sell(f"order:{n + 50}", 10_00, VendorFactory()).reference,
            amount=None,
            reason="r",
            actor=None,
            idempotency_key=f"d{n}",
        )
        for text in ("one", "two", "three"):
            services.dispute_add_evidence(dispute=dispute, text=text, actor=None)

    # + 1: the header's notification bell (one COUNT of unread notifications)
    with django_assert_max_num_queries(6 + 1):
        assert op.get("/operator/disputes/").status_code == 200
    # + 1: the header's notification bell (one COUNT of unread notifications)
    with django_assert_max_num_queries(6 + 1):
        assert op.get(f"/operator/disputes/{dispute.pk}/").status_code == 200
    # + 1: the header's notification bell (one COUNT of unread notifications)
    with django_assert_max_num_queries(8 + 1):
        assert op.get("/operator/sales/booking:41/").status_code == 200
