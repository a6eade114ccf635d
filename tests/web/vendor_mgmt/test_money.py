"""/vendor/money/: balance, statement with running balance and CSV, payouts."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import transaction

from agora.core import clock
from agora.core.money import Money
from agora.payments import services
from agora.payments.commission import SaleContext
from agora.payments.models import Payout, PayoutSettings
from agora.payments.selectors import vendor_balance
from agora.vendors.models import Vendor
from tests.web.vendor_mgmt.conftest import Shop, html
from tests.web.vendor_mgmt.test_listings import field_errors

pytestmark = pytest.mark.django_db

DAY = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def sell(vendor: Vendor, reference: str, amount: int, *, at: datetime, release: bool) -> None:
    """A sale through the real payments services; released to `available` when asked."""
    with clock.frozen(at):
        with transaction.atomic():
            services.payment_collect(
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
        if release:
            clock.advance(timedelta(hours=1))
            assert services.escrow_release(reference=reference)


@pytest.fixture
def sales(shop: Shop) -> dict[str, Any]:
    sell(shop.vendor, "booking:9001", 10_000, at=DAY, release=True)
    sell(shop.vendor, "booking:9002", 5_000, at=DAY + timedelta(days=1), release=True)
    sell(shop.vendor, "booking:9003", 2_000, at=DAY + timedelta(days=2), release=False)
    sell(shop.rival, "booking:9100", 77_700, at=DAY, release=True)
    return {"balance": vendor_balance(vendor_id=shop.vendor.pk, currency="GBP")}


def token() -> str:
    return "t" * 22


def test_balance_and_statement(shop: Shop, sales: dict[str, Any]) -> None:
    balance = sales["balance"]

    response = shop.as_owner.get("/vendor/money/")

    assert response.status_code == 200
    page = html(response)
    assert balance.available.amount > 0
    assert f"<strong>{balance.available}</strong>" in page
    assert f"<strong>{balance.pending}</strong>" in page
    assert "<strong>0.00 GBP</strong>" in page  # nothing frozen, nothing paid out
    # available: two releases, the running balance after each
    amounts = re.findall(r'class="num mgmt-credit">([^<]+)<', page)
    balances = re.findall(r'<td class="num">([^<]+)</td>\s*</tr>', page)
    assert len(amounts) == 2
    assert balances[-1] == str(balance.available)
    assert "booking:9001" in page
    assert "booking:9100" not in page


def test_escrow_statement_and_dates(shop: Shop, sales: dict[str, Any]) -> None:
    page = html(shop.as_owner.get("/vendor/money/?purpose=escrow"))

    assert "booking:9003" in page
    assert page.count("mgmt-debit") == 2  # the two releases out of escrow

    only_first_day = html(
        shop.as_owner.get("/vendor/money/?purpose=escrow&start=2026-03-02&end=2026-03-02")
    )
    assert "booking:9001" in only_first_day
    assert "booking:9002" not in only_first_day


def test_statement_dates_the_wrong_way_round_are_refused(shop: Shop) -> None:
    response = shop.as_owner.get("/vendor/money/?start=2026-03-05&end=2026-03-01")

    assert response.status_code == 422
    assert field_errors(html(response), "end") == ["must not be before From"]


def test_statement_pages_with_a_cursor(shop: Shop) -> None:
    for n in range(55):
        sell(shop.vendor, f"order:{n}", 100 + n, at=DAY + timedelta(minutes=n), release=False)

    first = html(shop.as_owner.get("/vendor/money/?purpose=escrow"))
    link = re.search(r'<a href="\?([^"]+cursor=[^"]+)">Next page</a>', first)
    assert link is not None
    second = html(shop.as_owner.get("/vendor/money/?" + link[1].replace("&amp;", "&")))

    assert first.count("order:") == 50
    assert second.count("order:") == 5
    assert "First page" in second
    assert shop.as_owner.get("/vendor/money/?purpose=escrow&cursor=forged").status_code == 422


def test_statement_csv_download(shop: Shop, sales: dict[str, Any]) -> None:
    response = shop.as_owner.get("/vendor/money/statement.csv?purpose=available")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="statement-{shop.vendor.pk}-available-GBP.csv"'
    )
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["date", "kind", "reference", "memo", "amount", "balance", "currency"]
    assert [row[2] for row in rows[1:]] == ["booking:9001", "booking:9002"]
    assert int(rows[-1][5]) == sales["balance"].available.amount


def test_request_a_payout_of_part_of_the_balance(shop: Shop, sales: dict[str, Any]) -> None:
    before = sales["balance"].available

    response = shop.as_owner.post("/vendor/money/payouts/", {"token": token(), "amount": "20.00"})

    assert response.status_code == 302
    payout = Payout.objects.get(vendor_id=shop.vendor.pk)
    assert (payout.amount, payout.status, payout.requested_by_id) == (2000, "paid", shop.owner.pk)
    after = vendor_balance(vendor_id=shop.vendor.pk, currency="GBP")
    assert after.available == before - Money(2000, "GBP")
    assert after.paid_out == Money(2000, "GBP")
    page = html(shop.as_owner.get("/vendor/money/"))
    assert "Payout of 20.00 GBP requested (paid)." in page
    assert '<td class="num">20.00 GBP</td>' in page


def test_the_same_payout_form_submitted_twice_pays_once(shop: Shop, sales: dict[str, Any]) -> None:
    shop.as_owner.post("/vendor/money/payouts/", {"token": token()})
    shop.as_owner.post("/vendor/money/payouts/", {"token": token()})

    payout = Payout.objects.get(vendor_id=shop.vendor.pk)
    assert payout.amount == sales["balance"].available.amount
    assert vendor_balance(vendor_id=shop.vendor.pk, currency="GBP").available == Money(0, "GBP")


def test_a_payout_above_the_balance_is_refused_on_the_form(
    shop: Shop, sales: dict[str, Any]
) -> None:
    response = shop.as_owner.post("/vendor/money/payouts/", {"token": token(), "amount": "5000"})

    assert response.status_code == 422
    assert "balance" in html(response).lower()
    assert not Payout.objects.exists()
    assert vendor_balance(vendor_id=shop.vendor.pk, currency="GBP") == sales["balance"]


def test_nothing_to_pay_out(shop: Shop) -> None:
    response = shop.as_owner.post("/vendor/money/payouts/", {"token": token()})

    assert response.status_code == 422
    assert "There is no available balance to pay out." in html(response)
    assert not Payout.objects.exists()


def test_a_payout_form_without_its_token_is_refused(shop: Shop, sales: dict[str, Any]) -> None:
    response = shop.as_owner.post("/vendor/money/payouts/", {"amount": "1"})

    assert response.status_code == 422
    assert not Payout.objects.exists()


def test_payout_schedule(shop: Shop) -> None:
    response = shop.as_manager.post(
        "/vendor/money/payout-settings/", {"schedule": "monthly", "minimum_amount": "50"}
    )

    assert response.status_code == 302
    setting = PayoutSettings.objects.get(vendor_id=shop.vendor.pk)
    assert (setting.schedule, setting.minimum_amount) == ("monthly", 5000)
    assert 'value="monthly" selected' in html(shop.as_manager.get("/vendor/money/"))
    refused = shop.as_manager.post(
        "/vendor/money/payout-settings/", {"schedule": "hourly", "minimum_amount": "50"}
    )
    assert refused.status_code == 422
    assert PayoutSettings.objects.get(vendor_id=shop.vendor.pk).schedule == "monthly"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/vendor/money/"),
        ("get", "/vendor/money/statement.csv"),
        ("post", "/vendor/money/payouts/"),
        ("post", "/vendor/money/payout-settings/"),
    ],
)
def test_staff_members_do_not_see_money(
    shop: Shop, sales: dict[str, Any], method: str, path: str
) -> None:
    response = getattr(shop.as_staff, method)(path, {"token": token(), "schedule": "daily"})

    assert response.status_code == 403
    assert not Payout.objects.exists()
    assert not PayoutSettings.objects.exists()


def test_money_page_query_count(
    shop: Shop, sales: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    for n in range(10):
        sell(shop.vendor, f"order:{n}", 500, at=DAY + timedelta(hours=n), release=True)
        shop.as_owner.post("/vendor/money/payouts/", {"token": f"{token()}{n}", "amount": "0.01"})
    assert Payout.objects.filter(vendor_id=shop.vendor.pk).count() == 10

    # + 1: the header's notification bell (one COUNT of unread notifications)
    with django_assert_max_num_queries(14 + 1):
        response = shop.as_owner.get("/vendor/money/")

    assert response.status_code == 200
    assert html(response).count('<td class="num">0.01 GBP</td>') == 10


def test_statement_times_are_shown_in_the_vendors_time_zone(shop: Shop) -> None:
    shop.vendor.timezone = "Asia/Tokyo"
    shop.vendor.save()
    sell(shop.vendor, "booking:9500", 1000, at=DAY, release=False)  # 10:00 UTC = 19:00 JST

    page = html(shop.as_owner.get("/vendor/money/?purpose=escrow"))

    assert "times in Asia/Tokyo" in page
    assert "<td>2 Mar 2026 19:00</td>" in page
