"""Order deadlines scheduled for their moment: reservation expiry, auto-completion, escrow."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django_tasks_db.models import DBTaskResult

from agora.orders.services import fulfilment
from tests.orders.helpers import Market, buy, order_of
from tests.orders.test_fulfilment import SHIP

pytestmark = pytest.mark.django_db


def scheduled() -> list[tuple[str, Any]]:
    return [
        (row.task_path.rsplit(".", 1)[-1], row.run_after)
        for row in DBTaskResult.objects.order_by("run_after")
    ]


def test_an_unpaid_reservation_schedules_its_expiry_sweep(market: Market) -> None:
    checkout = buy(market.alice, (market.widget, 1), pay=None)

    [(task, run_after)] = scheduled()

    assert task == "expire_stock_reservations"
    assert checkout.expires_at <= run_after < checkout.expires_at + timedelta(seconds=5)


def test_a_checkout_paid_at_once_schedules_no_expiry(market: Market) -> None:
    buy(market.alice, (market.widget, 1))

    assert scheduled() == []


def test_delivery_and_completion_schedule_their_sweeps(market: Market, settings: Any) -> None:
    settings.AGORA_ESCROW_RELEASE_HOURS = 2
    order = order_of(buy(market.alice, (market.widget, 1)), market.vendor_a)
    owner = market.owner_a
    fulfilment.order_accept(actor=owner, order=order)
    fulfilment.order_ship(actor=owner, order=order, **SHIP)

    delivered = fulfilment.order_deliver(actor=owner, order=order)
    completed = fulfilment.order_complete(actor=market.alice, order=delivered)

    assert delivered.delivered_at is not None
    assert completed.completed_at is not None
    assert scheduled() == [
        ("release_order_escrow", completed.completed_at + timedelta(hours=2)),
        (
            "complete_delivered_orders",
            delivered.delivered_at + timedelta(days=fulfilment.AUTO_COMPLETE_AFTER_DAYS, seconds=1),
        ),
    ]
