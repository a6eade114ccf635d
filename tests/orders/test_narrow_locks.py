"""Checkout and order moves lock only the row they decide on, and a busy row is retried,
then 503 `busy`.

A vendor order's moves decide on the order's row; paying a checkout on the checkout's row
(and, by conditional UPDATEs, its orders and reservations). The vendor's row and the
categories of the lines are read, never locked. These tests hold those rows in another
transaction, in another thread, and time the request.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import connection

from agora.catalog.models import Category
from agora.core import locking
from agora.orders.models import Checkout, VendorOrder
from agora.vendors.models import Vendor
from tests.conftest import assert_problem
from tests.core.blockers import Blocker, SqliteWriter, short_lock_waits
from tests.orders.helpers import VISA, Market, buy, order_of

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.race]

HOLD_SECONDS = 3.0
NOT_DELAYED_SECONDS = 1.0


def _postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has one write lock for the whole database: no row locks to narrow")


def timed(call: Callable[[], Any]) -> tuple[Any, float]:
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


@pytest.fixture
def short_waits(settings: Any) -> Iterator[None]:
    with short_lock_waits(settings):
        yield


def test_accepting_an_order_does_not_wait_while_its_vendor_is_edited(market: Market) -> None:
    _postgresql()
    # Given a paid order of vendor A
    order = order_of(buy(market.alice, (market.widget, 1)), market.vendor_a)

    # While vendor A's profile is being edited in a transaction that stays open for 3 s
    with Blocker(
        lambda: Vendor.objects.filter(pk=market.vendor_a.pk).update(name="Anvil Parts Ltd"),
        hold_for=HOLD_SECONDS,
    ) as editing:
        # When the owner accepts the order
        response, elapsed = timed(lambda: market.as_owner_a.post(f"/orders/{order.pk}/accept"))

        # Then it is accepted at once
        assert response.status_code == 200, response.content
        assert elapsed < NOT_DELAYED_SECONDS, f"accepting waited {elapsed:.2f} s"
        assert editing.holding
    assert VendorOrder.objects.get(pk=order.pk).status == "accepted"


def test_paying_a_checkout_does_not_wait_for_locked_categories_or_other_vendors(
    market: Market,
) -> None:
    _postgresql()
    # Given a reserved checkout of vendor A's widget
    checkout = buy(market.alice, (market.widget, 2), pay=None)
    categories = Category.objects.filter(pk=market.widget.category_id)

    # While one transaction holds the widget's category and another vendor B's row
    with (
        Blocker(lambda: list(categories.select_for_update()), hold_for=HOLD_SECONDS) as on_cat,
        Blocker(
            lambda: list(Vendor.objects.select_for_update().filter(pk=market.vendor_b.pk)),
            hold_for=HOLD_SECONDS,
        ) as on_vendor,
    ):
        # When the customer pays
        response, elapsed = timed(
            lambda: market.as_alice.post(f"/checkout/{checkout.pk}/pay", {"payment_method": VISA})
        )

        # Then the payment goes through at once
        assert response.status_code == 200, response.content
        assert elapsed < NOT_DELAYED_SECONDS, f"the payment waited {elapsed:.2f} s"
        assert on_cat.holding
        assert on_vendor.holding
    assert Checkout.objects.get(pk=checkout.pk).status == "paid"


def test_an_order_busy_past_every_retry_answers_503_busy_and_changes_nothing(
    market: Market, short_waits: None, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a paid order whose row (SQLite: the database's write lock) is held elsewhere
    order = order_of(buy(market.alice, (market.widget, 1)), market.vendor_a)
    blocker = (
        Blocker(lambda: list(VendorOrder.objects.select_for_update().filter(pk=order.pk)))
        if connection.vendor == "postgresql"
        else SqliteWriter()
    )

    with blocker:
        # When the owner accepts it
        with caplog.at_level(logging.WARNING, logger="agora.core.locking"):
            response = market.as_owner_a.post(f"/orders/{order.pk}/accept")
        assert blocker.holding

    # Then it was tried three times and answered 503 busy; the order is still paid
    assert_problem(response, 503, "busy")
    assert response["Retry-After"] == "1"
    retries = [
        r.getMessage().split(":")[0] for r in caplog.records if r.name == "agora.core.locking"
    ]
    assert retries == [
        f"busy in order_accept (attempt {n}/{locking.MAX_ATTEMPTS})"
        for n in range(1, locking.MAX_ATTEMPTS + 1)
    ]
    assert VendorOrder.objects.get(pk=order.pk).status == "paid"

    # And once the row is free, the same request goes through
    assert market.as_owner_a.post(f"/orders/{order.pk}/accept").status_code == 200
    assert VendorOrder.objects.get(pk=order.pk).status == "accepted"
