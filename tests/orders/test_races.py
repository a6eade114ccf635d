"""No overselling under real concurrency (ARCHITECTURE.md invariant 2), on both databases.

Every buyer is a thread with its own database connection, its own test client and its own
bearer token, connected before a barrier releases them all at once. On PostgreSQL the
threads really interleave: the conditional `UPDATE ... WHERE stock >= n` decides who gets
the last units, and items are taken in ItemKey order so opposite line orders queue instead
of deadlocking. On SQLite, BEGIN IMMEDIATE lets one writer in at a time, and the same tests
prove the code is right under that serialisation. The last tests remove the guard once and
show the overselling it prevents (after pretix's
test_quota_race_condition_happens_if_we_disable_locks).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

import pytest
from django.db import connection
from django.db.models import Sum

from agora.catalog.models import Listing
from agora.core import clock
from agora.orders import stock
from agora.orders.models import (
    Checkout,
    CheckoutStatus,
    OrderLine,
    OrderStatus,
    StockMovement,
    StockReservation,
)
from agora.orders.services import checkout as checkout_services
from agora.orders.stock import ItemKey
from agora.payments.gateway import SandboxGateway
from agora.payments.models import Payment
from tests.conftest import ApiClient
from tests.factories import ProductFactory, UserFactory
from tests.orders.helpers import (
    VISA,
    Market,
    buy,
    checkout_body,
    client_for,
    level,
    line,
    movement_sum,
)
from tests.race import run_concurrently

T = TypeVar("T")

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.race]

BUYERS = 16
SOLD = (OrderStatus.PAID, OrderStatus.ACCEPTED)


def all_at_once(work: Callable[[int], T], threads: int = BUYERS) -> list[T]:
    """`run_concurrently`, every thread connected before any starts working (opening a
    connection takes longer than a checkout: without this the first buyer would be done
    before the last had connected, and nothing would race)."""
    connected = threading.Barrier(threads, timeout=30)

    def connect_then_work(index: int) -> T:
        connection.ensure_connection()
        connected.wait()
        return work(index)

    return run_concurrently(connect_then_work, threads=threads)


def buyers(count: int = BUYERS) -> list[ApiClient]:
    return [client_for(UserFactory()) for _ in range(count)]


def sold_units(item: Listing) -> int:
    return int(
        OrderLine.objects.filter(listing=item, order__status__in=SOLD).aggregate(
            units=Sum("quantity")
        )["units"]
        or 0
    )


def outcome(response: Any) -> tuple[int, str]:
    body = response.json()
    return response.status_code, body.get("code", body.get("status", ""))


def test_16_buyers_for_the_last_3_units_exactly_3_get_them(market: Market) -> None:
    last = ProductFactory(vendor=market.vendor_a, title="Last three", price_amount=999, stock=3)
    clients = buyers()

    def attempt(i: int) -> tuple[int, str]:
        return outcome(
            clients[i].post(
                "/checkout", checkout_body(line(last), pay=VISA), idempotency_key=f"last-{i}"
            )
        )

    outcomes = all_at_once(attempt)

    assert sorted(outcomes) == [(201, "paid")] * 3 + [(409, "out_of_stock")] * (BUYERS - 3)
    assert level(last) == 0
    assert sold_units(last) == 3
    assert Payment.objects.count() == 3
    assert movement_sum(last) == -3
    assert Checkout.objects.count() == 3  # the losers left nothing behind


def test_opposite_line_orders_queue_instead_of_deadlocking(market: Market) -> None:
    """Half the buyers list the items A, B, C and half C, B, A, across two vendors; there is
    stock for eight. On PostgreSQL, taking items in request order would deadlock (40P01);
    the sorted lock order makes them wait instead, and a retry would absorb anything left."""
    items = [
        ProductFactory(vendor=market.vendor_a, title="Alpha", stock=8),
        ProductFactory(vendor=market.vendor_b, title="Bravo", stock=8),
        ProductFactory(vendor=market.vendor_a, title="Charlie", stock=8),
    ]
    clients = buyers()

    def attempt(i: int) -> tuple[int, str]:
        ordered = items if i % 2 == 0 else list(reversed(items))
        return outcome(
            clients[i].post(
                "/checkout",
                checkout_body(*(line(item) for item in ordered), pay=VISA),
                idempotency_key=f"opposite-{i}",
            )
        )

    outcomes = all_at_once(attempt)

    counts = Counter(outcomes)
    assert counts == {(201, "paid"): 8, (409, "out_of_stock"): BUYERS - 8}, counts
    for item in items:
        assert level(item) == 0
        assert sold_units(item) == 8
        assert movement_sum(item) == -8
    assert Payment.objects.count() == 8 * 2  # two vendors per checkout


def test_a_buyer_and_the_sweeper_racing_for_one_expired_reservation_return_it_once(
    market: Market,
) -> None:
    gadget = market.gadget  # 5 in stock
    held = buy(market.alice, (gadget, 5), pay=None)
    assert level(gadget) == 0
    clock.advance(timedelta(minutes=16))
    clients = buyers(4)

    def attempt(i: int) -> Any:
        if i % 2 == 0:
            return ("swept", checkout_services.expire_reservations())
        return outcome(
            clients[i // 2].post(
                "/checkout", checkout_body(line(gadget), pay=VISA), idempotency_key=f"next-{i}"
            )
        )

    outcomes = all_at_once(attempt, threads=8)

    assert sorted(o for o in outcomes if o[0] != "swept") == [(201, "paid")] * 4
    assert sum(n for kind, n in outcomes if kind == "swept") == 1
    assert level(gadget) == 1  # 5 released once, 4 sold
    releases = StockMovement.objects.filter(listing=gadget, kind="release")
    assert list(releases.values_list("quantity", "reference")) == [(5, f"checkout:{held.pk}")]
    assert StockReservation.objects.get(checkout=held).status == "released"
    assert Checkout.objects.get(pk=held.pk).status == CheckoutStatus.EXPIRED
    assert movement_sum(gadget) == -4


def test_a_payment_at_the_last_second_and_the_next_buyer_never_both_get_the_unit(
    market: Market, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Alice starts paying a second before her hold runs out; while her card is being
    charged the hold expires and Bob checks out the same unit. One of them gets it."""
    only = ProductFactory(vendor=market.vendor_a, title="Only one", stock=1)
    held = buy(market.alice, (only, 1), pay=None)
    clock.advance(timedelta(minutes=14, seconds=59))
    in_gateway, proceed = threading.Event(), threading.Event()
    authorize = SandboxGateway.authorize

    def slow_authorize(self: SandboxGateway, **kwargs: Any) -> Any:
        if kwargs.get("metadata", {}).get("charge_group") == f"checkout:{held.pk}":
            in_gateway.set()
            proceed.wait(timeout=10)
        return authorize(self, **kwargs)

    monkeypatch.setattr(SandboxGateway, "authorize", slow_authorize)
    alice, bob = market.as_alice, market.as_bob
    results: dict[str, tuple[int, str]] = {}

    def alice_pays() -> None:
        try:
            results["alice"] = outcome(
                alice.post(f"/checkout/{held.pk}/pay", {"payment_method": VISA})
            )
        finally:
            connection.close()

    def bob_buys() -> None:
        try:
            results["bob"] = outcome(bob.post("/checkout", checkout_body(line(only), pay=VISA)))
        finally:
            connection.close()

    paying = threading.Thread(target=alice_pays)
    paying.start()
    assert in_gateway.wait(timeout=20), "Alice's payment never reached the gateway"
    clock.advance(timedelta(seconds=2))  # her hold has run out while the card is charged
    buying = threading.Thread(target=bob_buys)
    buying.start()
    buying.join(timeout=0.5)  # Bob either finishes (no guard) or waits for Alice's commit
    proceed.set()
    paying.join(timeout=30)
    buying.join(timeout=30)
    assert not paying.is_alive()
    assert not buying.is_alive()

    winners = [who for who, (status, _) in results.items() if status in (200, 201)]
    assert len(winners) == 1, results
    assert sold_units(only) == 1
    assert level(only) == 0
    assert movement_sum(only) == -1


# --- the guard removed -------------------------------------------------------------------


def test_without_the_conditional_update_buyers_oversell(
    market: Market, monkeypatch: pytest.MonkeyPatch
) -> None:
    """stock.take replaced by read-then-write (read the level, think 20 ms, write level − n):
    the bug the conditional UPDATE prevents."""
    if connection.vendor != "postgresql":
        pytest.skip(
            "SQLite serialises whole write transactions (BEGIN IMMEDIATE): buyers cannot "
            "interleave between the read and the write, so even read-then-write cannot oversell"
        )
    last = ProductFactory(vendor=market.vendor_a, title="Last three", stock=3)
    clients = buyers()

    def read_then_write(key: ItemKey, quantity: int) -> stock.Level | None:
        rows = stock._rows(key)
        current, threshold = rows.values_list("stock", "low_stock_threshold").get()
        if current < quantity:
            return None
        time.sleep(0.02)
        rows.update(stock=current - quantity)
        return stock.Level(current - quantity, threshold)

    monkeypatch.setattr(stock, "take", read_then_write)

    def attempt(i: int) -> tuple[int, str]:
        return outcome(
            clients[i].post(
                "/checkout", checkout_body(line(last), pay=VISA), idempotency_key=f"racy-{i}"
            )
        )

    outcomes = all_at_once(attempt)

    winners = sum(1 for status, _ in outcomes if status == 201)
    oversold = sold_units(last) - 3
    assert winners > 3, outcomes
    assert oversold >= 1
    assert oversold == winners - 3
